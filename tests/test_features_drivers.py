"""Drivers: every feature has one, and each reads in plain words from the customer's values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zerochurn.configs.settings import FeatureConfig
from zerochurn.features.catalog import feature_catalog
from zerochurn.features.drivers import DRIVERS, driver_of, driver_texts


def test_every_feature_has_a_known_driver_and_only_some_are_actionable():
    catalog = feature_catalog(FeatureConfig())
    assert {spec.driver for spec in catalog.values()} == set(DRIVERS)
    actionable = {name for name, driver in DRIVERS.items() if driver.actionable}
    assert actionable == {"complaints", "satisfaction", "buying"}
    assert driver_of("satisfaction_price").name == "satisfaction"
    assert driver_of("segment_monthly_retention").name == "segment"
    assert not driver_of("tenure_days").actionable
    # a flat table's own column is a driver of its own
    assert driver_of("Contract", "categorical").name == "Contract"


def _texts(driver: str, frame: pd.DataFrame, strongest: str = "", known: bool = False):
    """Texts of `driver` when each row's strongest feature is `strongest` (own text "own
    text <row>", its value known or not)."""
    n = len(frame)
    own = np.array([f"Own text {row}" for row in range(n)], dtype=object)
    names = np.full(n, strongest, dtype=object)
    return driver_texts(DRIVERS[driver], frame, names, own, np.full(n, known)).tolist()


def test_complaints_name_the_shortest_window_with_any_then_what_went_wrong():
    frame = pd.DataFrame(
        {
            "complaints_30d": [0, 0, 0],
            "complaints_90d": [2, 0, 0],
            "complaints_365d": [3, 1, 0],
            "complaints_open": [0, 1, 0],
            "complaints_open_over_30d": [0, 1, 0],
            "complaints_resolved_late": [1, 0, 0],
            "complaints_followed_up_share": [0.5, np.nan, np.nan],
        }
    )
    assert _texts("complaints", frame) == [
        "Recent complaints weigh on this customer: 2 in the last 90 days, 1 resolved late, "
        "50% followed up",
        "Recent complaints weigh on this customer: 1 in the last 365 days, 1 still open, "
        "1 open for over 30 days",
        "Own text 2",  # nothing to say: the strongest feature's own text
    ]
    # what the strongest feature says comes first
    assert _texts("complaints", frame.iloc[:1], strongest="complaints_resolved_late") == [
        "Recent complaints weigh on this customer: 1 resolved late, 2 in the last 90 days, "
        "50% followed up"
    ]
    # a strongest feature no fact is about is said in its own words, when known
    assert _texts("complaints", frame.iloc[:1], "days_since_complaint", known=True) == [
        "Recent complaints weigh on this customer: own text 0, 2 in the last 90 days, "
        "1 resolved late"
    ]


def test_satisfaction_says_each_figure_once_and_names_the_weakest_dimension():
    frame = pd.DataFrame(
        {
            "satisfaction_index": [42.0, 70.0],
            "satisfaction_index_24m": [42.4, 60.0],
            "satisfaction_price": [25.0, np.nan],
            "satisfaction_logistics": [50.0, np.nan],
            "satisfaction_overall_change": [-12.0, 3.0],
        }
    )
    assert _texts("satisfaction", frame) == [
        "Satisfaction weighs on this customer: index 42 of 100 in the latest survey, "
        "price rated 25 of 100, -12 points since the previous survey",
        "Satisfaction weighs on this customer: index 70 of 100 in the latest survey, "
        "60 over the last 24 months",
    ]


def test_drivers_without_a_headline_read_as_their_strongest_feature():
    frame = pd.DataFrame({"tenure_days": [120]})
    assert _texts("tenure", frame, "tenure_days", known=True) == ["Own text 0"]

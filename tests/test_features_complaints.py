"""Complaint features, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zerochurn.configs.settings import FeatureConfig
from zerochurn.features.complaints import complaint_features

AS_OF = pd.Timestamp("2024-07-01")  # T - 30 days = 2024-06-01, T - 90 days = 2024-04-02
POPULATION = pd.DataFrame({"customer_id": ["a", "none", "c"]})


def _dates(*values: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)))


COMPLAINTS = pd.DataFrame(
    {
        "complaint_id": ["1", "2", "3", "4", "5", "6"],
        "customer_id": ["a", "a", "a", "a", "a", "c"],
        "opened_at": _dates(
            "2024-06-20",  # open, 11 days
            "2024-05-01",  # resolved only after T: open over 30 days
            "2024-03-01",  # resolved late, followed up
            "2023-01-10",  # resolved on time, followed up
            "2024-07-01",  # opened at T: not known yet
            "2024-06-01",
        ),
        "channel": "hotline",
        "category": "delivery",
        "department": "logistics",
        "due_at": _dates(
            "2024-06-27", "2024-05-08", "2024-03-08", "2023-01-17", "2024-07-08", "2024-06-10"
        ),
        "resolved_at": _dates(None, "2024-07-05", "2024-03-20", "2023-01-12", None, "2024-06-05"),
        "followed_up_at": _dates(
            None, "2024-07-06", "2024-03-22", "2023-01-15", None, "2024-06-07"
        ),
        "followup_score": [np.nan, 75.0, 50.0, 100.0, np.nan, np.nan],
    }
)


def test_complaint_features_by_hand() -> None:
    got = complaint_features(COMPLAINTS, POPULATION, as_of=AS_OF, config=FeatureConfig()).set_index(
        POPULATION["customer_id"]
    )
    a = got.loc["a"]
    assert a["complaints_30d"] == 1
    assert a["complaints_90d"] == 2
    assert a["complaints_365d"] == 3
    assert a["complaints_open"] == 2
    assert a["complaints_open_over_30d"] == 1
    assert a["complaints_resolved_late"] == 1
    assert a["complaint_resolution_days"] == (19 + 2) / 2
    assert a["complaints_followed_up_share"] == 2 / 4
    assert a["complaint_followup_score"] == (50 + 100) / 2
    assert a["days_since_complaint"] == 11

    none = got.loc["none"]
    counts = [
        c
        for c in got.columns
        if c.startswith(("complaints_", "complaint_load")) and not c.endswith("share")
    ]
    assert (none[counts] == 0).all()
    assert none.drop(counts).isna().all()

    c = got.loc["c"]
    assert c["complaints_30d"] == 1  # opened exactly 30 days before T
    assert c["complaints_open"] == 0
    assert c["complaint_resolution_days"] == 4
    assert c["complaints_followed_up_share"] == 1
    assert np.isnan(c["complaint_followup_score"])
    assert c["days_since_complaint"] == 30


def test_complaint_loads_by_hand() -> None:
    # half-life 120 days: a's complaints 1-4 are 11, 61, 122 and 538 days old at T
    got = complaint_features(COMPLAINTS, POPULATION, as_of=AS_OF, config=FeatureConfig())
    a = got.loc[0]

    def w(days: int) -> float:
        return 0.5 ** (days / 120)

    assert a["complaint_load"] == pytest.approx(w(11) + w(61) + w(122) + w(538))
    assert a["complaint_load_late"] == pytest.approx(w(11) + w(61) + w(122))  # 1, 2 past due
    assert a["complaint_load_overdue"] == pytest.approx(w(11) + w(61))
    assert a["complaint_load_no_followup"] == 0  # 3 and 4 were followed up
    assert got.loc[2, "complaint_load"] == pytest.approx(w(30))


def test_complaint_loads_halve_and_wait_for_the_followup() -> None:
    complaints = pd.DataFrame(
        {
            "customer_id": "x",
            "opened_at": _dates("2024-06-21", "2024-06-11", "2024-06-01", "2024-06-26"),
            "due_at": _dates("2024-06-24", "2024-06-18", "2024-06-15", "2024-07-03"),
            # on time; late, resolved just 7 days before T; never; open, not due yet
            "resolved_at": _dates("2024-06-22", "2024-06-24", None, None),
            "followed_up_at": _dates(None, None, None, None),
            "followup_score": np.nan,
        }
    )
    config = FeatureConfig(complaint_load_half_life_days=10, followup_wait_days=7)
    population = pd.DataFrame({"customer_id": ["x"]})
    x = complaint_features(complaints, population, as_of=AS_OF, config=config).loc[0]
    assert x["complaint_load"] == pytest.approx(0.5 + 0.25 + 0.125 + 0.5**0.5)  # 10, 20, 30, 5 days
    assert x["complaint_load_late"] == pytest.approx(0.25 + 0.125)
    assert x["complaint_load_overdue"] == pytest.approx(0.125)
    # only the first: the second was resolved 7 days before T, its call may still come
    assert x["complaint_load_no_followup"] == pytest.approx(0.5)


def test_unresolved_threshold_comes_from_config() -> None:
    config = FeatureConfig(complaint_unresolved_days=7)
    got = complaint_features(COMPLAINTS, POPULATION, as_of=AS_OF, config=config)
    assert "complaints_open_over_30d" not in got
    assert got.loc[0, "complaints_open_over_7d"] == 2

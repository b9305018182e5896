"""Complaint features, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    counts = [c for c in got.columns if c.startswith("complaints_") and not c.endswith("share")]
    assert (none[counts] == 0).all()
    assert none.drop(counts).isna().all()

    c = got.loc["c"]
    assert c["complaints_30d"] == 1  # opened exactly 30 days before T
    assert c["complaints_open"] == 0
    assert c["complaint_resolution_days"] == 4
    assert c["complaints_followed_up_share"] == 1
    assert np.isnan(c["complaint_followup_score"])
    assert c["days_since_complaint"] == 30


def test_unresolved_threshold_comes_from_config() -> None:
    config = FeatureConfig(complaint_unresolved_days=7)
    got = complaint_features(COMPLAINTS, POPULATION, as_of=AS_OF, config=config)
    assert "complaints_open_over_30d" not in got
    assert got.loc[0, "complaints_open_over_7d"] == 2

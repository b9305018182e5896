"""The snapshot store: round trip, id lookups, at-risk filters and order, atomic refresh."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from zerochurn.serving.store import (
    AtRiskQuery,
    AtRiskSortError,
    AtRiskTotals,
    SnapshotInfo,
    SnapshotMissingError,
    SnapshotStore,
    SnapshotUnusableError,
    write_snapshot,
)

INFO = SnapshotInfo(
    as_of="2025-03-01",
    model_version="3",
    scored_at="2025-03-02T08:00:00+00:00",
    reference_churn_rate=0.05,
    customers=4,
)


def _tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    features = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "as_of": pd.to_datetime(["2025-03-01"] * 4),
            "region": ["north", "north", "south", None],
            "revenue_3m": [10.5, np.nan, 3.0, 0.0],
            "complaints_open": [0, 2, 1, 0],
        }
    )
    scores = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "region": ["north", "north", "south", None],
            "segment": ["clinic", "hospital", "clinic", "clinic"],
            "plan": ["basic", "basic", "premium", None],
            "churn_probability": [0.10, 0.40, 0.20, 0.30],
            "churn_index": [200, 800, 400, 600],
            "risk_tier": ["critical", "critical", "critical", "critical"],
            "customer_value": [1000.0, 10.0, 500.0, np.nan],
            "value_at_risk": [100.0, 4.0, 100.0, np.nan],
            "clv_at_risk": [50.0, 80.0, np.nan, 10.0],
        }
    )
    segments = pd.DataFrame(
        {
            "by": ["region", "region", "segment"],
            "group": ["north", "south", "clinic"],
            "value_weighted_churn_index": pd.array([150, None, 90], dtype="Int64"),
        }
    )
    return features, scores, segments


@pytest.fixture
def store(tmp_path) -> SnapshotStore:
    features, scores, segments = _tables()
    path = write_snapshot(
        tmp_path / "snapshot.sqlite",
        features=features,
        scores=scores,
        segments=segments,
        info=INFO,
    )
    return SnapshotStore(path)


def test_round_trip_keeps_values_and_missing(store):
    assert store.info() == INFO
    found = store.features(["c", "zzz", "b"]).set_index("customer_id")
    assert sorted(found.index) == ["b", "c"]
    assert found.loc["c", "revenue_3m"] == 3.0
    assert np.isnan(found.loc["b", "revenue_3m"])
    assert found.loc["b", "complaints_open"] == 2
    assert found.loc["c", "as_of"] == "2025-03-01"
    segments = store.segments("region")
    assert segments["group"].tolist() == ["north", "south"]
    assert segments["value_weighted_churn_index"].iloc[0] == 150
    assert pd.isna(segments["value_weighted_churn_index"].iloc[1])


def test_at_risk_sorts_largest_first_ties_by_risk_unknown_last(store):
    total, page = store.at_risk(AtRiskQuery(limit=10))
    assert total == 4
    # a and c tie at 100 value at risk: the riskier c (0.2 against 0.1) comes first
    assert page["customer_id"].tolist() == ["c", "a", "b", "d"]
    _, page = store.at_risk(AtRiskQuery(sort="churn_probability", limit=2, offset=1))
    assert page["customer_id"].tolist() == ["d", "c"]
    _, page = store.at_risk(AtRiskQuery(sort="clv_at_risk", limit=10))
    assert page["customer_id"].tolist() == ["b", "a", "d", "c"]


def test_a_store_scored_before_clv_at_risk_says_to_score_again(tmp_path):
    features, scores, segments = _tables()
    path = write_snapshot(
        tmp_path / "old.sqlite",
        features=features,
        scores=scores.drop(columns="clv_at_risk"),
        segments=segments,
        info=INFO,
    )
    with pytest.raises(AtRiskSortError, match="no clv_at_risk.*run zerochurn score"):
        SnapshotStore(path).at_risk(AtRiskQuery(sort="clv_at_risk", limit=10))
    assert len(SnapshotStore(path).at_risk(AtRiskQuery(limit=10))[1]) == 4


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"region": "north"}, ["a", "b"]),
        ({"segment": "clinic", "min_value": 600.0}, ["a"]),
        ({"min_churn_index": 400}, ["c", "b", "d"]),
        ({"tier": "low"}, []),
        ({"plan": "basic", "min_churn_index": 500}, ["b"]),
        ({"id_prefix": "A"}, ["a"]),
        ({"id_prefix": "%"}, []),
    ],
)
def test_at_risk_filters(store, filters, expected):
    total, page = store.at_risk(AtRiskQuery(limit=10, **filters))
    assert page["customer_id"].tolist() == expected
    assert total == len(expected)


def test_at_risk_totals_count_and_sum_every_match_not_the_page(store):
    totals = store.at_risk_totals(AtRiskQuery(limit=1, segment="clinic"))
    assert totals == AtRiskTotals(customers=3, value_at_risk=200.0)  # d's unknown value adds 0
    assert store.at_risk_totals(AtRiskQuery(limit=1, tier="low")) == AtRiskTotals(0, 0.0)


def test_id_prefix_takes_like_wildcards_literally(tmp_path):
    features, scores, segments = _tables()
    ids = ["C_1", "CX1", "C%2", "c_3"]
    path = write_snapshot(
        tmp_path / "snapshot.sqlite",
        features=features.assign(customer_id=ids),
        scores=scores.assign(customer_id=ids),
        segments=segments,
        info=INFO,
    )
    _, page = SnapshotStore(path).at_risk(AtRiskQuery(limit=10, id_prefix="c_"))
    assert sorted(page["customer_id"]) == ["C_1", "c_3"]


def test_missing_store_says_what_to_run(tmp_path):
    with pytest.raises(SnapshotMissingError, match="run zerochurn score"):
        SnapshotStore(tmp_path / "nothing.sqlite").info()


def _truncated(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path):
    path.write_bytes(b"not a database, just text " * 200)


def _empty(path):
    path.write_bytes(b"")


def _no_meta(path):
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE meta")
    connection.close()


@pytest.mark.parametrize("damage", [_truncated, _garbage, _empty, _no_meta])
def test_a_damaged_store_is_unusable_with_the_reason(store, damage):
    assert store.check() == INFO
    damage(store.path)
    with pytest.raises(
        SnapshotUnusableError, match=r"snapshot\.sqlite is unusable .*zerochurn score"
    ):
        store.check()
    with pytest.raises(SnapshotUnusableError):  # reads say so too, never a raw sqlite3 error
        store.info()


def test_check_of_a_missing_store_says_missing(tmp_path):
    with pytest.raises(SnapshotMissingError):
        SnapshotStore(tmp_path / "nothing.sqlite").check()


def test_refresh_replaces_the_whole_file(store):
    features, scores, segments = _tables()
    newer = SnapshotInfo(**{**vars(INFO), "as_of": "2025-04-01", "customers": 1})
    write_snapshot(
        store.path,
        features=features.head(1),
        scores=scores.head(1),
        segments=segments,
        info=newer,
    )
    assert store.info().as_of == "2025-04-01"
    assert store.at_risk(AtRiskQuery(limit=10))[0] == 1
    assert list(store.path.parent.iterdir()) == [store.path]  # no temp files left

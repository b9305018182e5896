"""build_features end to end: point-in-time correctness, optional tables, catalog, purity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zerochurn.configs.settings import ChurnConfig, FeatureConfig
from zerochurn.contract.dataset import RawData
from zerochurn.contract.schema import GRADE_SCORES, SURVEY_ITEMS
from zerochurn.features import (
    build_features,
    build_labels,
    build_training_frame,
    feature_catalog,
    feature_columns,
    monthly_as_of_dates,
)

START = pd.Timestamp("2023-01-01")
DAYS = 730
SCORES = np.array(sorted(GRADE_SCORES.values()), dtype=float)
DEFINITIONS = ("cancellation", "inactivity")


def _days(rng: np.random.Generator, low: int, high: int, size: int) -> pd.TimedeltaIndex:
    return pd.to_timedelta(rng.integers(low, high, size), unit="D")


def random_raw(seed: int, customers: int = 25) -> RawData:
    """A small random dataset over two years with all four tables."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"c{i:03d}" for i in range(customers)])
    signup = START + _days(rng, -200, DAYS - 30, customers)
    cancel = (signup + _days(rng, 10, DAYS, customers)).where(rng.random(customers) < 0.5)
    customer_table = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": signup,
            "region": rng.choice(["north", "south"], customers),
            "segment": rng.choice(["smb", "key", "public"], customers),
            "plan": rng.choice(["basic", "pro"], customers),
            "cancel_date": cancel,
        }
    )
    rows = customers * 15
    who = rng.integers(0, customers, rows)
    date = signup[who] + _days(rng, 0, DAYS, rows)
    stop = cancel[who].fillna(START + pd.Timedelta(days=DAYS))
    amount = rng.gamma(2.0, 50.0, rows).round(2)
    transactions = pd.DataFrame(
        {
            "customer_id": ids[who],
            "date": date,
            "amount": amount,
            "cost": (amount * rng.random(rows)).round(2),
        }
    )[np.asarray((date < stop) & (date >= START))]

    items = np.array(list(SURVEY_ITEMS))
    questionnaires = customers * 3
    answers = 8
    survey_who = np.repeat(rng.integers(0, customers, questionnaires), answers)
    survey_item = items[rng.integers(0, len(items), questionnaires * answers)]
    surveys = pd.DataFrame(
        {
            "customer_id": ids[survey_who],
            "date": np.repeat(START + _days(rng, 0, DAYS, questionnaires), answers),
            "item": survey_item,
            "dimension": [SURVEY_ITEMS[item] for item in survey_item],
            "score": rng.choice(SCORES, questionnaires * answers).astype(np.int64),
        }
    ).drop_duplicates(["customer_id", "date", "item"])

    count = customers * 2
    opened = START + _days(rng, 0, DAYS, count)
    resolved = (opened + _days(rng, 1, 60, count)).where(rng.random(count) < 0.8)
    followed = (resolved + _days(rng, 1, 10, count)).where(rng.random(count) < 0.6)
    score = rng.choice(SCORES, count)
    complaints = pd.DataFrame(
        {
            "complaint_id": [f"k{i}" for i in range(count)],
            "customer_id": ids[rng.integers(0, customers, count)],
            "opened_at": opened,
            "channel": "hotline",
            "category": "delivery",
            "department": "logistics",
            "due_at": opened + pd.Timedelta(days=14),
            "resolved_at": resolved,
            "followed_up_at": followed,
            "followup_score": np.where(np.asarray(pd.notna(followed)), score, np.nan),
        }
    )
    return RawData(customer_table, transactions.reset_index(drop=True), surveys, complaints)


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    offset=st.integers(-30, DAYS + 30),
    definition=st.sampled_from(DEFINITIONS),
)
def test_features_use_only_data_before_as_of(seed: int, offset: int, definition: str) -> None:
    raw = random_raw(seed)
    as_of = START + pd.Timedelta(days=offset)
    churn = ChurnConfig(definition=definition)
    full = build_features(raw, as_of, FeatureConfig(), churn)
    known = build_features(raw.cut(as_of), as_of, FeatureConfig(), churn)
    pd.testing.assert_frame_equal(full, known)


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    offset=st.integers(0, DAYS + 30),
    definition=st.sampled_from(DEFINITIONS),
)
def test_every_feature_lies_in_its_catalog_range(seed: int, offset: int, definition: str) -> None:
    """The ranges the service enforces on posted records hold for every built feature."""
    frame = build_features(
        random_raw(seed),
        START + pd.Timedelta(days=offset),
        FeatureConfig(),
        ChurnConfig(definition=definition),
    )
    for name, spec in feature_catalog(FeatureConfig()).items():
        if spec.kind == "numeric":
            low, high = spec.valid
            values = frame[name].dropna()
            assert values.between(low, high).all(), (name, values.min(), values.max())


def test_catalog_covers_exactly_the_produced_columns() -> None:
    config = FeatureConfig(revenue_windows_months=(2, 24), complaint_windows_days=(7,))
    frame = build_features(random_raw(0), "2024-06-01", config, ChurnConfig())
    assert list(frame.columns[:2]) == ["customer_id", "as_of"]
    assert feature_columns(frame) == list(frame.columns[2:])
    assert list(frame.columns[2:]) == list(feature_catalog(config))
    kinds = {name: spec.kind for name, spec in feature_catalog(config).items()}
    assert [n for n in frame.columns[2:] if kinds[n] == "categorical"] == [
        "region",
        "segment",
        "plan",
    ]


def test_missing_optional_tables_leave_their_groups_out() -> None:
    full = random_raw(1)
    raw = RawData(full.customers.drop(columns="plan"), full.transactions)
    frame = build_features(raw, "2024-06-01", FeatureConfig(), ChurnConfig())
    groups = {spec.group for spec in map(feature_catalog(FeatureConfig()).get, frame.columns[2:])}
    assert groups == {"profile", "value"}
    assert "plan" not in frame
    with_surveys = RawData(full.customers, full.transactions, surveys=full.surveys)
    frame = build_features(with_surveys, "2024-06-01", FeatureConfig(), ChurnConfig())
    assert "satisfaction_index" in frame
    assert not any(column.startswith("complaint") for column in frame.columns)


def test_inputs_are_not_mutated_and_results_are_deterministic() -> None:
    raw = random_raw(2)
    tables = {name: table for name, table in vars(raw).items() if isinstance(table, pd.DataFrame)}
    before = {name: table.copy(deep=True) for name, table in tables.items()}
    dates = monthly_as_of_dates(raw, churn=ChurnConfig())
    first = build_training_frame(raw, dates, FeatureConfig(), ChurnConfig())
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, before[name])
    again = build_training_frame(raw, dates, FeatureConfig(), ChurnConfig())
    pd.testing.assert_frame_equal(first, again)


def test_training_frame_stacks_features_and_labels() -> None:
    raw = random_raw(3)
    dates = [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-06-01")]
    seen: list[str] = []
    frame = build_training_frame(raw, dates, FeatureConfig(), ChurnConfig(), progress=seen.append)
    assert seen == ["2024-03-01 (1 of 2)", "2024-06-01 (2 of 2)"]
    for as_of in dates:
        rows = frame[frame["as_of"] == as_of].reset_index(drop=True)
        features = build_features(raw, as_of, FeatureConfig(), ChurnConfig())
        labels = build_labels(raw, as_of, ChurnConfig())
        pd.testing.assert_frame_equal(rows.drop(columns="churned"), features)
        pd.testing.assert_series_equal(rows["churned"], labels["churned"])
    assert frame["churned"].dtype == "boolean"


def test_training_frame_needs_dates() -> None:
    with pytest.raises(ValueError, match="as_of_dates is empty"):
        build_training_frame(random_raw(4), [], FeatureConfig(), ChurnConfig())


def test_as_of_before_any_customer_gives_an_empty_table() -> None:
    frame = build_features(random_raw(5), "2000-01-01", FeatureConfig(), ChurnConfig())
    assert frame.empty
    assert feature_columns(frame) == list(feature_catalog(FeatureConfig()))

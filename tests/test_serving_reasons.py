"""A score's reasons: one per driver, actionable first, contributions added up per driver."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from zerochurn.features import reason_text
from zerochurn.serving.reasons import feature_texts, rank_drivers, reason_table

NAMES = [
    "region",
    "tenure_days",
    "complaints_90d",
    "complaints_open",
    "satisfaction_index",
    "satisfaction_index_24m",
    "revenue_trend",
]
KINDS = ["categorical", *["numeric"] * 6]
FEATURES = pd.DataFrame(
    {
        "region": ["north", "south"],
        "tenure_days": [120, 3000],
        "complaints_30d": [0, 0],
        "complaints_90d": [2, 0],
        "complaints_open": [1, 0],
        "complaints_resolved_late": [1, 0],
        "satisfaction_index": [42.0, np.nan],
        "satisfaction_index_24m": [42.2, np.nan],
        "revenue_trend": [-0.25, 0.1],
    }
)


def test_drivers_rank_actionable_first_then_largest_first():
    # drivers: a (actionable), b (not), c (actionable)
    sums = np.array([[0.2, 0.9, 0.1], [-0.1, 0.3, 0.0], [0.5, 0.5, 0.5]])
    ranked = rank_drivers(sums, np.array([True, False, True]), k=3)
    np.testing.assert_array_equal(ranked.drivers, [[0, 2, 1], [1, -1, -1], [0, 2, 1]])
    np.testing.assert_array_equal(
        ranked.contributions, [[0.2, 0.1, 0.9], [0.3, np.nan, np.nan], [0.5, 0.5, 0.5]]
    )


@given(arrays(np.float64, (40, 6), elements=st.integers(-3, 3).map(lambda x: x / 2)))
@settings(max_examples=50, deadline=None)
def test_with_one_kind_of_driver_the_ranking_is_a_stable_sort(sums):
    for actionable in (np.ones(6, dtype=bool), np.zeros(6, dtype=bool)):
        ranked = rank_drivers(sums, actionable, k=4)
        order = np.argsort(-sums, axis=1, kind="stable")[:, :4]
        top = np.take_along_axis(sums, order, axis=1)
        np.testing.assert_array_equal(ranked.drivers, np.where(top > 0, order, -1))
        np.testing.assert_array_equal(ranked.contributions, np.where(top > 0, top, np.nan))


def test_reasons_are_drivers_in_plain_words_with_summed_contributions():
    contributions = np.array(
        [
            # region, tenure, complaints 90d, open, satisfaction, satisfaction 24m, trend
            [0.9, 0.0, 0.3, 0.2, 0.25, 0.05, -0.4],
            [0.1, 0.4, -0.1, 0.0, 0.3, 0.0, 0.2],
        ]
    )
    table = reason_table(FEATURES, NAMES, KINDS, contributions, k=3)
    # customer 1: complaints 0.5 and satisfaction 0.3 (actionable) before region 0.9; the
    # buying driver (-0.4) is no reason; the 24-month index reads like the latest: said once
    assert table["reason_1_driver"].tolist() == ["complaints", "satisfaction"]
    assert table["reason_1_feature"].tolist() == ["complaints_90d", "satisfaction_index"]
    np.testing.assert_allclose(table["reason_1_contribution"], [0.5, 0.3])
    assert table["reason_1_text"].tolist() == [
        "Recent complaints weigh on this customer: 2 in the last 90 days, 1 still open, "
        "1 resolved late",
        "Never surveyed",  # no satisfaction fact for a customer never surveyed
    ]
    assert table["reason_2_text"].tolist() == [
        "Satisfaction weighs on this customer: index 42 of 100 in the latest survey",
        # t = 0.1: R / P = 1.1 / 0.9, revenue up 22%
        "Buying pattern weighs on this customer: revenue +22% on the 3 months before",
    ]
    assert table["reason_2_driver"].tolist() == ["satisfaction", "buying"]
    assert table["reason_3_driver"].tolist() == ["region", "tenure"]
    assert table["reasons"][0].endswith("; Region north")


def test_buying_facts_read_the_revenue_trend_as_a_change():
    contributions = np.zeros((1, len(NAMES)))
    contributions[0, NAMES.index("revenue_trend")] = 0.2
    frame = FEATURES.iloc[:1].assign(recency_days=45.0, months_active_share=0.5)
    table = reason_table(frame, NAMES, KINDS, contributions, k=1)
    # t = (R - P) / (R + P) = -0.25: R / P = 0.75 / 1.25 = 0.6, so revenue fell 40%
    assert table["reason_1_text"].tolist() == [
        "Buying pattern weighs on this customer: revenue -40% on the 3 months before, "
        "last purchase 45 days ago, bought in 50% of the last 12 months"
    ]


@given(arrays(np.float64, (30, len(NAMES)), elements=st.floats(-1, 1, width=32)))
@settings(max_examples=30, deadline=None)
def test_no_two_reasons_share_a_driver_and_each_sums_its_features(contributions):
    rows = FEATURES.iloc[np.arange(30) % 2].reset_index(drop=True)
    table = reason_table(rows, NAMES, KINDS, contributions, k=3)
    drivers = {"region": [0], "tenure": [1], "complaints": [2, 3], "satisfaction": [4, 5]}
    drivers["buying"] = [6]
    for row in range(30):
        named = [table[f"reason_{rank}_driver"][row] for rank in (1, 2, 3)]
        named = [name for name in named if name is not None]
        assert len(named) == len(set(named))
        for rank, name in enumerate(named, start=1):
            total = contributions[row, drivers[name]].sum()
            assert table[f"reason_{rank}_contribution"][row] == pytest.approx(total)
            assert total > 0


@pytest.mark.parametrize(
    ("feature", "values"),
    [
        ("revenue_3m", [1234.5, np.nan, 0.0]),
        ("complaints_open_over_30d", [2, 0]),
        ("region", ["north", None]),
        ("satisfaction_complaint_handling", [50.0, None]),
        ("months_active_share", [0.5]),
        ("revenue_trend", [-0.25]),
    ],
)
def test_feature_texts_match_the_catalog(feature, values):
    assert feature_texts(feature, values) == [reason_text(feature, v) for v in values]

"""Costs and the decision threshold: hand-checked curves, ties, errors and invariants."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from zerochurn.configs.settings import CostConfig
from zerochurn.model.savings import (
    CURVE_COLUMNS,
    best_threshold,
    expected_savings,
    resolve_costs,
    savings_at_top_k,
    savings_curve,
)
from zerochurn.training.plots import savings_figure

# Five customers, given out of order; offer cost 20 each, success rate 1.
#   customer        A     B     C     D     E
#   probability    0.4   0.9   0.7   0.1   0.7
#   churned         0     1     0     0     1
#   missed cost    300   100   200    80    50
#   realised y*m-c  -20    80   -20   -20    30
#   expected p*m-c  100    70   120   -12    15
# Sorted by probability: B | C, E (tied at 0.7) | A | D. Cumulative per threshold:
#   threshold  customers  realised          expected
#   inf        0          0                 0
#   0.9        1          80                70
#   0.7        3          80-20+30 = 90     70+120+15 = 205
#   0.4        4          90-20 = 70        205+100 = 305
#   0.1        5          70-20 = 50        305-12 = 293
PROBABILITY = np.array([0.4, 0.9, 0.7, 0.1, 0.7])
LABEL = np.array([0, 1, 0, 0, 1])
MISSED = np.array([300.0, 100.0, 200.0, 80.0, 50.0])
OFFER = 20.0


def test_curve_by_hand():
    curve = savings_curve(PROBABILITY, LABEL, MISSED, OFFER)
    expected = pd.DataFrame(
        {
            "threshold": [math.inf, 0.9, 0.7, 0.4, 0.1],
            "customers": [0, 1, 3, 4, 5],
            "share": [0.0, 0.2, 0.6, 0.8, 1.0],
            "realised_savings": [0.0, 80.0, 90.0, 70.0, 50.0],
            "expected_savings": [0.0, 70.0, 205.0, 305.0, 293.0],
        }
    )
    pd.testing.assert_frame_equal(curve, expected, check_dtype=False)
    assert tuple(curve.columns) == CURVE_COLUMNS


def test_best_threshold_by_hand():
    curve = savings_curve(PROBABILITY, LABEL, MISSED, OFFER)
    choice = best_threshold(curve)
    assert (choice.threshold, choice.customers, choice.share) == (0.7, 3, 0.6)
    assert (choice.realised_savings, choice.expected_savings) == (90.0, 205.0)
    assert not choice.contacts_nobody
    assert "probability >= 0.7" in choice.describe()
    by_expected = best_threshold(curve, by="expected")
    assert (by_expected.threshold, by_expected.expected_savings) == (0.4, 305.0)


def test_success_rate_scales_what_an_offer_saves():
    # s = 0.5: realised 0.5*y*m - c = -20, 30, -20, -20, 5 for A..E; B | C,E | A | D gives
    # 30, 30-20+5 = 15, -5, -25: the best is B alone
    curve = savings_curve(PROBABILITY, LABEL, MISSED, OFFER, success_rate=0.5)
    assert curve["realised_savings"].tolist() == [0.0, 30.0, 15.0, -5.0, -25.0]
    assert best_threshold(curve).customers == 1


def test_ties_are_contacted_together():
    # all four tied: one threshold contacts everybody or nobody
    curve = savings_curve([0.3, 0.3, 0.3, 0.3], [1, 0, 0, 1], 100.0, 10.0)
    assert curve["customers"].tolist() == [0, 4]
    assert curve["realised_savings"].tolist() == [0.0, 160.0]  # 2*100 - 4*10
    assert curve["expected_savings"].tolist() == pytest.approx([0.0, 80.0])  # 4*(30 - 10)


def test_top_k_by_hand_splits_a_tie_group_in_proportion():
    curve = savings_curve(PROBABILITY, LABEL, MISSED, OFFER)
    top = savings_at_top_k(curve, ks=[1, 2, 100], shares=[0.4, 1.0]).set_index("name")
    assert top.index.tolist() == ["top_1", "top_2", "top_100", "top_share_0.4", "top_share_1"]
    # top 2 = B and one of the tied C, E: on average 80 + (-20 + 30) / 2 = 85 realised,
    # 70 + (120 + 15) / 2 = 137.5 expected; a threshold at 0.7 would contact 3
    assert top.loc["top_2", ["realised_savings", "expected_savings"]].tolist() == [85.0, 137.5]
    assert top.loc["top_2", ["threshold", "threshold_customers"]].tolist() == [0.7, 3]
    assert top.loc["top_1", "realised_savings"] == 80.0
    assert top.loc["top_100", "customers"] == 5  # capped at n
    assert top.loc["top_100", "realised_savings"] == 50.0
    assert top.loc["top_share_0.4", "customers"] == 2  # round(0.4 * 5)
    assert top.loc["top_share_1", "share"] == 1.0


def test_expected_savings_per_customer_by_hand():
    assert expected_savings(PROBABILITY, MISSED, OFFER).tolist() == pytest.approx(
        [100.0, 70.0, 120.0, -12.0, 15.0]
    )
    offers = np.array([0.0, 0.0, 200.0, 0.0, 0.0])
    assert expected_savings([0.5], [10.0], [4.0], success_rate=0.2)[0] == pytest.approx(-3.0)
    assert expected_savings(PROBABILITY, MISSED, offers)[2] == pytest.approx(-60.0)


def test_contact_nobody_when_no_threshold_saves_money():
    # offers cost more than anyone is worth: every threshold loses money
    curve = savings_curve(PROBABILITY, LABEL, MISSED, 1000.0)
    choice = best_threshold(curve)
    assert choice.threshold == math.inf
    assert (choice.customers, choice.share, choice.realised_savings) == (0, 0.0, 0.0)
    assert choice.contacts_nobody
    assert choice.describe().startswith("contact nobody")
    # a break-even threshold (80 - 80 = 0) is no reason to contact anybody either
    curve = savings_curve([0.9, 0.5], [1, 0], [160.0, 0.0], 80.0)
    assert curve["realised_savings"].tolist() == [0.0, 80.0, 0.0]
    assert best_threshold(curve).customers == 1
    assert best_threshold(savings_curve([0.9], [1], [80.0], 80.0)).contacts_nobody


def test_unlabelled_curve_has_only_expected_savings():
    curve = savings_curve(PROBABILITY, None, MISSED, OFFER)
    assert curve["realised_savings"].iloc[1:].isna().all()
    assert curve["expected_savings"].tolist() == [0.0, 70.0, 205.0, 305.0, 293.0]
    assert best_threshold(curve, by="expected").threshold == 0.4
    with pytest.raises(ValueError, match="no realised savings.*by='expected'"):
        best_threshold(curve)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"probability": [0.5, 1.5]}, r"probability has values outside \[0, 1\] .* positions 1"),
        ({"probability": [0.5, np.nan]}, r"probability .* NaN at positions 1"),
        ({"probability": []}, r"probability is empty"),
        ({"probability": [[0.5]]}, r"probability must be one-dimensional"),
        ({"label": [0, 2]}, r"label has values other than 0 and 1 at positions 1"),
        ({"label": [0]}, r"label has 1 values, probability 2"),
        ({"missed_cost": [1.0, -1.0]}, r"missed_cost has negative.* positions 1"),
        ({"offer_cost": [1.0, 2.0, 3.0]}, r"offer_cost has 3 values, probability 2"),
        ({"offer_cost": np.inf}, r"offer_cost has negative, infinite or NaN values"),
        ({"missed_cost": "lots"}, r"missed_cost must be numbers"),
        ({"success_rate": 0.0}, r"success_rate must lie in \(0, 1\], got 0.0"),
    ],
)
def test_curve_errors_name_the_argument(kwargs, message):
    arguments = {
        "probability": [0.5, 0.2],
        "label": [1, 0],
        "missed_cost": 10.0,
        "offer_cost": 1.0,
        "success_rate": 1.0,
    }
    with pytest.raises(ValueError, match=message):
        savings_curve(**(arguments | kwargs))


def test_top_k_and_best_threshold_errors():
    curve = savings_curve(PROBABILITY, LABEL, MISSED, OFFER)
    with pytest.raises(ValueError, match=r"ks must be whole numbers > 0, got 0"):
        savings_at_top_k(curve, ks=[0])
    with pytest.raises(ValueError, match=r"ks must be whole numbers > 0, got 2.5"):
        savings_at_top_k(curve, ks=[2.5])
    with pytest.raises(ValueError, match=r"shares must lie in \(0, 1\], got 1.5"):
        savings_at_top_k(curve, shares=[1.5])
    with pytest.raises(ValueError, match=r"curve lacks columns \['expected_savings'\]"):
        best_threshold(curve.drop(columns="expected_savings"))
    with pytest.raises(ValueError, match="contact-nobody row"):
        best_threshold(curve.iloc[1:])
    with pytest.raises(ValueError, match="by must be 'realised' or 'expected'"):
        best_threshold(curve, by="hoped")


# --- costs from the config and the data -------------------------------------------------


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_value": [1200.0, 300.0, 50.0],
            "retention_cost": ["25", " 40 ", "0"],  # numbers stored as text
        },
        index=pd.Index(["C1", "C2", "C3"], name="customer_id"),
    )


def test_costs_not_configured_give_none():
    assert resolve_costs(_table(), CostConfig()) is None


def test_costs_from_constants_and_columns():
    config = CostConfig(missed_churner="customer_value", retention_offer="retention_cost")
    missed, offer = resolve_costs(_table(), config)
    assert missed.tolist() == [1200.0, 300.0, 50.0]
    assert offer.tolist() == [25.0, 40.0, 0.0]
    missed, offer = resolve_costs(_table(), CostConfig(missed_churner=500, retention_offer=30.0))
    assert missed.tolist() == [500.0] * 3
    assert offer.tolist() == [30.0] * 3


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["25", "n/a", "x"], r"non-numeric values in rows C2 \('n/a'\), C3 \('x'\)"),
        (["25", "  ", None], r"missing values in rows C2 \('  '\), C3 \(nan\)"),
        ([25.0, -1.0, 3.0], r"negative values in rows C2 \(-1.0\)"),
        ([25.0, np.inf, 3.0], r"infinite values in rows C2"),
        ([True, False, True], r"is true/false"),
    ],
)
def test_bad_cost_columns_name_setting_column_and_rows(values, message):
    table = _table().assign(retention_cost=values)
    config = CostConfig(missed_churner="customer_value", retention_offer="retention_cost")
    with pytest.raises(ValueError, match=message) as error:
        resolve_costs(table, config)
    assert str(error.value).startswith("costs.retention_offer: column 'retention_cost' ")


def test_missing_cost_column_is_named():
    config = CostConfig(missed_churner="value", retention_offer=10)
    with pytest.raises(
        ValueError,
        match=r"costs\.missed_churner names column 'value', which the table does not have "
        r"\(columns: customer_value, retention_cost\)",
    ):
        resolve_costs(_table(), config)


def test_many_bad_rows_are_counted_not_listed():
    table = pd.DataFrame({"cost": [-1.0] * 8})
    config = CostConfig(missed_churner=1, retention_offer="cost")
    with pytest.raises(ValueError, match=r"rows 0 \(-1.0\), .*, 4 \(-1.0\) and 3 more"):
        resolve_costs(table, config)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"missed_churner": 100.0}, "must be given together"),
        ({"missed_churner": -5, "retention_offer": 1}, r"missed_churner\n.*got -5"),
        ({"missed_churner": 1, "retention_offer": ""}, r"retention_offer\n.*got ''"),
        ({"missed_churner": True, "retention_offer": 1}, r"missed_churner\n.*got True"),
        ({"offer_success_rate": 0}, r"offer_success_rate"),
        ({"offer_success_rate": 1.5}, r"offer_success_rate"),
        ({"top_k": [100, 0]}, r"top_k must be > 0"),
        ({"top_shares": [0.0]}, r"top_shares must lie in \(0, 1\]"),
    ],
)
def test_cost_config_validation(fields, message):
    with pytest.raises(ValidationError, match=message):
        CostConfig(**fields)


# --- figure ------------------------------------------------------------------------------


def test_savings_figure_marks_the_choice():
    curve = savings_curve(PROBABILITY, LABEL, MISSED, OFFER)
    fig = savings_figure(curve, best_threshold(curve))
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels[:2] == ["realised (labels)", "expected (probabilities)"]
    assert "best threshold 0.7 (3 customers)" in labels
    plt.close(fig)
    unlabelled = savings_curve(PROBABILITY, None, MISSED, 1000.0)
    fig = savings_figure(unlabelled, best_threshold(unlabelled, by="expected"))
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "realised (labels)" not in labels
    assert "contact nobody" in labels
    plt.close(fig)


# --- invariants --------------------------------------------------------------------------

_customers = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]),  # few values: many ties
        st.integers(0, 1),
        st.floats(0, 1000),
        st.floats(0, 200),
    ),
    min_size=1,
    max_size=40,
)


@given(_customers, st.floats(0.05, 1.0))
@settings(max_examples=100, deadline=None)
def test_best_threshold_beats_every_other_and_contacting_nobody(customers, success_rate):
    p, y, m, c = (np.array(column) for column in zip(*customers, strict=True))
    curve = savings_curve(p, y, m, c, success_rate)
    choice = best_threshold(curve)
    assert choice.realised_savings >= 0.0
    assert (choice.realised_savings >= curve["realised_savings"]).all()
    # structure: thresholds strictly fall, customers strictly rise to n, one row per value
    assert curve["threshold"].is_monotonic_decreasing and curve["threshold"].is_unique
    assert curve["customers"].is_monotonic_increasing and curve["customers"].iloc[-1] == len(p)
    assert len(curve) == len(np.unique(p)) + 1
    total = np.sum(success_rate * y * m - c)
    assert curve["realised_savings"].iloc[-1] == pytest.approx(total, abs=1e-6)
    # the choice acts on exactly the customers at or above its threshold
    assert choice.customers == int(np.sum(p >= choice.threshold))


@given(_customers, st.floats(0, 1000), st.floats(0, 200), st.floats(0.05, 1.0))
@settings(max_examples=100, deadline=None)
def test_with_constant_costs_the_expected_optimum_contacts_where_s_p_m_exceeds_c(
    customers, missed, offer, success_rate
):
    # sorted by p, s*p*m - c falls, so the best set is every customer where it is > 0
    p = np.array([customer[0] for customer in customers])
    curve = savings_curve(p, None, missed, offer, success_rate)
    choice = best_threshold(curve, by="expected")
    gain = success_rate * p * missed - offer
    assert choice.expected_savings == pytest.approx(np.sum(gain[gain > 0]), abs=1e-6)
    contacted = p >= choice.threshold
    assert (gain[contacted] > -1e-9).all() and (gain[~contacted] < 1e-9).all()


@given(_customers, st.randoms(use_true_random=False))
@settings(max_examples=50, deadline=None)
def test_curve_does_not_depend_on_row_order(customers, random):
    shuffled = list(customers)
    random.shuffle(shuffled)
    curves = [
        savings_curve(*(np.array(column) for column in zip(*rows, strict=True)))
        for rows in (customers, shuffled)
    ]
    pd.testing.assert_frame_equal(curves[0], curves[1], check_exact=False, atol=1e-6)


def test_expected_savings_is_the_mean_of_realised_savings_over_drawn_labels():
    rng = np.random.default_rng(7)
    p = rng.choice([0.05, 0.2, 0.5, 0.8], size=30)
    missed, offer = rng.uniform(0, 200, size=30), rng.uniform(0, 40, size=30)
    draws = 1000
    realised = np.mean(
        [
            savings_curve(p, rng.random(30) < p, missed, offer, 0.7)["realised_savings"]
            for _ in range(draws)
        ],
        axis=0,
    )
    expected = savings_curve(p, None, missed, offer, 0.7)["expected_savings"].to_numpy()
    # standard error of the full-population sum: 0.7 * sqrt(sum m^2 p (1 - p)) / sqrt(draws)
    error = 0.7 * np.sqrt(np.sum(missed**2 * p * (1 - p)) / draws)
    assert np.abs(realised - expected).max() < 5 * error

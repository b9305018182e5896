"""What a survival curve says: anchoring, lifetime, CLV and CLV at risk (model/lifetime.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from zerochurn.configs.settings import ValueFunctionConfig
from zerochurn.features.value_function import customer_value, monthly_discount_rate
from zerochurn.model.lifetime import (
    anchor_log_survival,
    anchor_to_horizon,
    clv,
    clv_at_risk,
    discounted_months,
    expected_lifetime,
    horizon_months,
    kept_through,
    log_survival_at,
    monthly_churn,
    survival_at,
)
from zerochurn.model.survival import HAZARD_CLIP

NO_DISCOUNT = ValueFunctionConfig(annual_discount_rate=0.0, max_months=4)


def constant(r: float, months: int = 24, rows: int = 1) -> np.ndarray:
    """Curves S(t) = r^t, t = 1..months."""
    return np.tile(r ** np.arange(1, months + 1, dtype=float), (rows, 1))


def test_survival_between_months_is_log_linear():
    curve = constant(0.9)
    assert survival_at(curve, 0.0)[0] == pytest.approx(1.0)
    assert survival_at(curve, 2.5)[0] == pytest.approx(0.9**2.5)
    assert survival_at(curve, 24.0)[0] == pytest.approx(0.9**24)
    with pytest.raises(ValueError, match="outside the curve's 0..24 months"):
        survival_at(curve, 25.0)


def test_a_90_day_horizon_is_just_under_three_months():
    assert horizon_months(90) == pytest.approx(90 / 30.4375)


def test_lifetime_of_a_constant_churn_rate_is_one_over_churn_to_the_cap():
    # sum_{t=0}^{cap-1} r^t: the tail past the curve's 24 months goes on at the same rate
    r = 0.95
    assert expected_lifetime(constant(r), 60)[0] == pytest.approx((1 - r**60) / 0.05)
    assert expected_lifetime(constant(r), 10)[0] == pytest.approx((1 - r**10) / 0.05)
    assert expected_lifetime(constant(1.0), 60)[0] == pytest.approx(60.0)


def test_clv_of_a_constant_curve_is_the_value_function():
    config = ValueFunctionConfig()  # 10% a year, 60 months
    for r in (0.6, 0.9, 0.99):
        expected = customer_value(250.0, r, config)
        assert clv(constant(r), np.array([250.0]), config)[0] == pytest.approx(expected)


def test_clv_by_hand():
    curve = np.array([[0.5, 0.25, 0.125]])
    rate = monthly_discount_rate(0.12)
    v = 1 / (1 + rate)
    # months 0..3 with S = 1, .5, .25, .125; N = 4, no tail needed
    by_hand = 100 * (1 + 0.5 * v + 0.25 * v**2 + 0.125 * v**3)
    config = ValueFunctionConfig(annual_discount_rate=0.12, max_months=4)
    assert clv(curve, np.array([100.0]), config)[0] == pytest.approx(by_hand)
    assert np.isnan(clv(curve, np.array([np.nan]), config)[0])


def test_clv_at_risk_is_the_value_of_keeping_the_customer_through_the_horizon():
    # horizon 2 months exactly: S*(1) = S*(2) = 1, S*(3) = S(3) / S(2)
    curve = np.array([[0.8, 0.6, 0.3]])
    kept = kept_through(curve, 2.0)
    np.testing.assert_allclose(kept, [[1.0, 1.0, 0.5]])
    margin = np.array([10.0])
    # no discount, 4 months: kept 1 + 1 + 1 + .5, own 1 + .8 + .6 + .3
    at_risk = clv_at_risk(curve, margin, horizon=2.0, config=NO_DISCOUNT)
    assert at_risk[0] == pytest.approx(10 * (3.5 - 2.7))


def test_anchoring_by_hand():
    curve = np.array([[0.9, 0.81, 0.729, 0.6561]])
    anchored = anchor_to_horizon(curve, np.array([0.5]), 2.0)
    # S(2) = .81 becomes .5: k = log .5 / log .81; after it the ratio S(t)/S(2) is kept
    k = np.log(0.5) / np.log(0.81)
    np.testing.assert_allclose(anchored, [[0.9**k, 0.5, 0.5 * 0.9, 0.5 * 0.81]])
    # a horizon inside month 2: months 1 and 2 scaled, then S(t)/S(2) as before
    k = np.log(0.5) / np.log(0.9**1.5)
    anchored = anchor_to_horizon(curve, np.array([0.5]), 1.5)
    scaled = [0.9**k, 0.81**k]
    np.testing.assert_allclose(anchored, [[*scaled, scaled[1] * 0.9, scaled[1] * 0.81]])


def test_monthly_churn_by_hand():
    curve = np.array([[0.9, 0.81, 0.5]])
    np.testing.assert_allclose(monthly_churn(curve), [[0.1, 0.09, 0.31]])
    np.testing.assert_allclose(monthly_churn(curve).sum(axis=1), 1 - curve[:, -1])


curves = arrays(
    np.float64,
    st.tuples(st.integers(1, 5), st.just(12)),
    elements=st.floats(HAZARD_CLIP, 0.3, allow_nan=False),
).map(lambda hazards: np.cumprod(1 - hazards, axis=1))


@settings(max_examples=60, deadline=None)
@given(
    curve=curves,
    probability=st.floats(0.0, 0.99),
    horizon=st.floats(0.5, 11.5),
)
def test_anchored_curves_agree_with_the_horizon_probability(curve, probability, horizon):
    p = np.full(len(curve), probability)
    anchored = anchor_log_survival(np.log(curve), p, horizon)
    np.testing.assert_allclose(1 - np.exp(log_survival_at(anchored, horizon)), p, atol=1e-9)
    assert (np.diff(anchored, axis=1) <= 1e-12).all()
    assert (anchored <= 0).all()
    np.testing.assert_array_equal(anchor_to_horizon(curve, p, horizon), np.exp(anchored))


def test_anchoring_is_exact_when_the_horizon_month_falls_below_any_floor():
    # nearly no hazard before month 3, then 25%: a horizon 1/64 into month 3 puts the
    # drop to 0.5 in that sliver, so S'(3) is ~1e-19 (and 0 as a float nearer the start)
    curve = np.cumprod(1 - np.array([[6.1e-5, 6.1e-5, 0.25, 0.01]]), axis=1)
    anchored = anchor_to_horizon(curve, np.array([0.5]), 2.015625)
    assert anchored[0, 2] < 1e-15
    assert survival_at(anchored, 2.015625)[0] == pytest.approx(0.5, abs=1e-12)
    log_anchored = anchor_log_survival(np.log(curve), np.array([0.5]), 2 + 1e-12)
    assert np.exp(log_anchored[0, 2]) == 0.0
    assert np.exp(log_survival_at(log_anchored, 2 + 1e-12))[0] == pytest.approx(0.5, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(curve=curves, terms=st.integers(1, 80), rate=st.floats(0.0, 0.05))
def test_the_tail_past_the_curve_equals_extending_it_month_by_month(curve, terms, rate):
    r = curve[:, -1] / curve[:, -2]
    longer = np.hstack([curve, curve[:, -1:] * r[:, None] ** np.arange(1, 81)])
    np.testing.assert_allclose(
        discounted_months(curve, terms, rate), discounted_months(longer, terms, rate), rtol=1e-9
    )


@settings(max_examples=40, deadline=None)
@given(curve=curves, horizon=st.floats(0.5, 11.5), margin=st.floats(0.0, 1000.0))
def test_a_riskier_horizon_never_lowers_clv_at_risk(curve, horizon, margin):
    config = ValueFunctionConfig()
    low = anchor_to_horizon(curve, np.full(len(curve), 0.1), horizon)
    high = anchor_to_horizon(curve, np.full(len(curve), 0.4), horizon)
    m = np.full(len(curve), margin)
    kwargs = {"horizon": horizon, "config": config}
    assert (clv_at_risk(high, m, **kwargs) >= clv_at_risk(low, m, **kwargs) - 1e-9).all()
    assert (clv(high, m, config) <= clv(low, m, config) + 1e-9).all()

"""The discrete-time hazard model (model/survival.py) on data with a known monthly hazard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from zerochurn.model.survival import SurvivalModel, person_months

MONTHS = 12
PARAMS = {"learning_rate": 0.1, "num_leaves": 4, "min_child_samples": 50, "num_threads": 1}


def test_person_months_by_hand():
    row, month, churned = person_months(np.array([2, 1, 3]), np.array([True, False, True]))
    np.testing.assert_array_equal(row, [0, 0, 1, 2, 2, 2])
    np.testing.assert_array_equal(month, [1, 2, 1, 1, 2, 3])
    np.testing.assert_array_equal(churned, [False, True, False, False, False, True])


def simulate(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Customers with logit h(m) = -3 + x + 1.0 * (new customer, fading) and follow-up
    of 3..MONTHS months; returns features, follow-up, churn flags and the true S(t)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    tenure = rng.choice([30.0, 400.0], size=n)
    plan = rng.choice(["basic", "pro"], size=n)
    m = np.arange(1, MONTHS + 1)
    new = np.where(tenure[:, None] < 100, np.exp(-m / 4.0)[None, :], 0.0)
    shift = np.where(plan == "pro", -0.5, 0.0)[:, None]
    hazard = 1 / (1 + np.exp(-(-3.0 + x[:, None] + new + shift)))
    truth = np.cumprod(1 - hazard, axis=1)
    churns = rng.random((n, MONTHS)) < hazard
    first = np.where(churns.any(axis=1), churns.argmax(axis=1) + 1, MONTHS + 1)
    follow = rng.integers(3, MONTHS + 1, size=n)
    event = first <= follow
    frame = pd.DataFrame({"x": x, "tenure_days": tenure, "plan": plan})
    return frame, np.where(event, first, follow), event, truth


@pytest.fixture(scope="module")
def fitted():
    frame, follow, event, _ = simulate(6000, seed=1)
    model = SurvivalModel(
        ["x", "tenure_days"], ["plan"], months=MONTHS, params=PARAMS, num_boost_round=300
    )
    return model.fit(frame, follow, event, groups=np.arange(len(frame)))


def test_curves_fall_and_come_close_to_the_true_survival(fitted):
    frame, _, _, truth = simulate(3000, seed=2)
    curve = fitted.survival(frame)
    assert curve.shape == (3000, MONTHS)
    assert (np.diff(curve, axis=1) <= 0).all() and ((curve > 0) & (curve < 1)).all()
    # the population's curve within 0.02, and each decile of S(12) within 0.05 of the truth
    np.testing.assert_allclose(curve.mean(axis=0), truth.mean(axis=0), atol=0.02)
    decile = pd.qcut(curve[:, -1], 10, labels=False)
    means = pd.DataFrame({"d": decile, "p": curve[:, -1], "t": truth[:, -1]}).groupby("d").mean()
    assert (means["p"] - means["t"]).abs().max() < 0.05
    # the riskier a customer, the lower the curve
    assert np.corrcoef(curve[:, -1], truth[:, -1])[0, 1] > 0.9


def test_new_customers_settle(fitted):
    rows = pd.DataFrame({"x": [0.0, 0.0], "tenure_days": [30.0, 400.0], "plan": ["basic"] * 2})
    hazard = fitted.hazard_from_matrix(fitted.encode(rows))
    assert hazard[0, 0] > hazard[1, 0]  # a new customer is riskier at first
    assert hazard[0, 0] - hazard[0, -1] > hazard[1, 0] - hazard[1, -1]  # and settles


def test_unfitted_and_bad_inputs_are_refused():
    frame, follow, event, _ = simulate(50, seed=3)
    with pytest.raises(NotFittedError):
        SurvivalModel(["x"]).survival(frame)
    with pytest.raises(ValueError, match="one entry per row of X"):
        SurvivalModel(["x"]).fit(frame, follow[:-1], event, groups=np.arange(50))
    with pytest.raises(ValueError, match="follow_up must be >= 1 month"):
        SurvivalModel(["x"]).fit(frame, follow * 0, event, groups=np.arange(50))
    with pytest.raises(ValueError, match="no row churned"):
        SurvivalModel(["x"]).fit(frame, follow, event & False, groups=np.arange(50))

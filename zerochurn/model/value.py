"""What a churn probability is worth: churn index, risk tier, customer value and value at risk.

Pure functions of arrays, shared by every stage that reads a model's scores:

- churn_index: 100 x churn_probability / the model's reference churn rate (the churn
  rate of its training population), an integer: 100 is average risk, 200 twice it.
- risk_tier: "low" below the lowest ServingConfig.tier_cutoffs, else the tier of the
  highest cut-off the index reaches.
- risk_adjusted_value: the value function of features/value_function.py with a
  customer's own monthly retention (from churn_probability over the horizon).
- value_at_risk: churn_probability x customer value, in money.

model/savings.py holds the money of acting on the scores (costs, thresholds, savings).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from zerochurn.configs.settings import ValueFunctionConfig
from zerochurn.features.value_function import customer_value, monthly_retention_from_churn

LOW_TIER = "low"
AVERAGE_INDEX = 100
"""churn_index of a customer as risky as the average of the training population."""


def churn_index(probability: ArrayLike, reference_churn_rate: float) -> np.ndarray:
    """(n,) int64: 100 x probability / reference_churn_rate, rounded half to even."""
    if not reference_churn_rate > 0:
        raise ValueError(f"reference_churn_rate is {reference_churn_rate}: expected > 0")
    ratio = np.asarray(probability, dtype=np.float64) / reference_churn_rate
    return np.rint(AVERAGE_INDEX * ratio).astype(np.int64)


def risk_tier(index: ArrayLike, cutoffs: Mapping[str, int]) -> np.ndarray:
    """(n,) tier names: the tier whose cut-off is the highest one `index` reaches, else "low"."""
    names = sorted(cutoffs, key=cutoffs.__getitem__)
    bounds = np.array([cutoffs[name] for name in names])
    labels = np.array([LOW_TIER, *names], dtype=object)
    return labels[np.searchsorted(bounds, np.asarray(index), side="right")]


def risk_adjusted_value(
    probability: ArrayLike,
    monthly_margin: ArrayLike,
    *,
    horizon_days: float,
    config: ValueFunctionConfig,
) -> np.ndarray:
    """(n,) customer value in money at the retention implied by each customer's own risk.

    probability: churn within `horizon_days`; monthly_margin: money per month (NaN gives NaN).
    """
    retention = monthly_retention_from_churn(probability, horizon_days)
    return customer_value(monthly_margin, retention, config)


def value_at_risk(probability: ArrayLike, value: ArrayLike) -> np.ndarray:
    """(n,) money expected to be lost: churn probability x customer value."""
    return np.asarray(probability, dtype=np.float64) * np.asarray(value, dtype=np.float64)

"""The customer value function: discounted margin over the expected remaining lifetime.

CLV = m * sum_{t=0}^{N-1} q^t with q = r / (1 + d_m) (domain.md section 3), where
m is the margin per month, r the monthly retention clipped to
[min_monthly_retention, max_monthly_retention], d_m = (1 + annual_discount_rate)^(1/12) - 1
the monthly discount rate and N = max_months. Month t = 0 is the current month, which the
active customer is in for sure, so without discount and cap CLV = m / (1 - r): the margin
times the expected relationship length 1 / churn of domain.md. Closed form:
m * (1 - q^N) / (1 - q), since q < 1 (r is clipped below 1).

Feature building uses the segment's observed retention; serving re-applies the same
function with r from the model's churn probability (`monthly_retention_from_churn`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from zerochurn.configs.settings import ValueFunctionConfig
from zerochurn.features.periods import DAYS_PER_MONTH

MONTHS_PER_YEAR = 12


def monthly_discount_rate(annual_discount_rate: float) -> float:
    """Monthly rate d_m that compounds to `annual_discount_rate` over a year."""
    return (1 + annual_discount_rate) ** (1 / MONTHS_PER_YEAR) - 1


def customer_value(
    monthly_margin: ArrayLike, monthly_retention: ArrayLike, config: ValueFunctionConfig
) -> np.ndarray:
    """Discounted expected margin over the remaining lifetime, in money (see module docstring).

    monthly_margin: margin m per month (money, may be negative); monthly_retention: r,
    the probability a customer stays another month, clipped to the config's bounds.
    NaN in either gives NaN. Returns a float64 array of their broadcast shape.
    """
    margin = np.asarray(monthly_margin, dtype=float)
    retention = np.clip(
        np.asarray(monthly_retention, dtype=float),
        config.min_monthly_retention,
        config.max_monthly_retention,
    )
    q = retention / (1 + monthly_discount_rate(config.annual_discount_rate))
    return margin * (1 - q**config.max_months) / (1 - q)


def monthly_retention_from_churn(probability: ArrayLike, horizon_days: float) -> np.ndarray:
    """Monthly retention r implied by a churn probability over `horizon_days`.

    With a constant monthly retention the chance to stay the whole horizon is
    r^(horizon_days / DAYS_PER_MONTH) = 1 - probability, so
    r = (1 - probability)^(DAYS_PER_MONTH / horizon_days). Probabilities are clipped to
    [0, 1]. Use label_window_days(churn) as the horizon of a model trained on those labels.
    """
    stay = 1 - np.clip(np.asarray(probability, dtype=float), 0, 1)
    return stay ** (DAYS_PER_MONTH / horizon_days)

"""What a survival curve says: survival at a month, expected lifetime, risk-adjusted CLV.

Curves are (n, M) arrays of S(t) = P(still a customer after month t), t = 1..M, with
S(0) = 1: month 0 is the current month, which an active customer is in for sure, as in
the value function of features/value_function.py. Past month M a curve goes on with its
last month's hazard, S(t) = S(M) * r^(t - M) with r = S(M) / S(M - 1).

- expected_lifetime: sum_{t=0}^{cap-1} S(t), months the customer is expected to stay
  (to a cap): 1 / monthly churn for a constant churn rate and no cap, the seed's
  "expected relationship length is 1 / churn rate" (domain.md section 3).
- clv: m * sum_{t=0}^{N-1} S(t) / (1 + d_m)^t with the value function's monthly discount
  rate d_m and N = max_months; with S(t) = r^t it equals features' customer_value(m, r).
- clv_at_risk: what keeping the customer through the churn horizon h is worth:
  the clv of the curve S*(t) = 1 for t < h and S(t) / S(h) after (the same customer, had
  they not left within the horizon, going on with their own later hazards), minus clv.
- monthly_churn: the month-by-month churn probability S(t - 1) - S(t).
- anchor_to_horizon makes a curve agree with a horizon churn probability p exactly,
  1 - S(h) = p (docs/training.md, survival); it works on log S (anchor_log_survival),
  where the identity holds even when a month's S underflows.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from zerochurn.configs.settings import ValueFunctionConfig
from zerochurn.features.periods import DAYS_PER_MONTH
from zerochurn.features.value_function import monthly_discount_rate

SURVIVAL_FLOOR = 1e-12
"""Smallest S(horizon) anchoring aims at or scales from (p = 1 is taken as 1 - 1e-12)."""
TINY = np.finfo(np.float64).tiny
"""Smallest positive S(t) used as a divisor."""


def horizon_months(horizon_days: float) -> float:
    """A churn horizon in days as months of DAYS_PER_MONTH days (90 days: 2.957 months)."""
    return horizon_days / DAYS_PER_MONTH


def _with_start(curve: np.ndarray) -> np.ndarray:
    """(n, M + 1) curve with S(0) = 1 in front."""
    return np.hstack([np.ones((len(curve), 1)), curve])


def log_survival_at(log_curve: np.ndarray, month: float) -> np.ndarray:
    """(n,) log S(month) of a (n, M) log S(t) curve, linear within a month (constant hazard).

    month in [0, M]; -inf entries (S underflowed to 0) are used only where they count.
    """
    if not 0 <= month <= log_curve.shape[1]:
        raise ValueError(f"month {month} is outside the curve's 0..{log_curve.shape[1]} months")
    full = np.hstack([np.zeros((len(log_curve), 1)), log_curve])
    whole = min(int(np.floor(month)), log_curve.shape[1] - 1)
    fraction = month - whole
    if fraction == 0.0:
        return full[:, whole]
    if fraction == 1.0:
        return full[:, whole + 1]
    return (1.0 - fraction) * full[:, whole] + fraction * full[:, whole + 1]


def survival_at(curve: np.ndarray, month: float) -> np.ndarray:
    """(n,) S(month) for a month in [0, M], log-linear within a month (constant hazard)."""
    with np.errstate(divide="ignore"):
        return np.exp(log_survival_at(np.log(curve), month))


def monthly_churn(curve: np.ndarray) -> np.ndarray:
    """(n, M) probability of churning in month t, S(t - 1) - S(t), t = 1..M.

    A row sums to 1 - S(M): the rest of the probability is churning later (or never).
    """
    return -np.diff(_with_start(curve), axis=1)


def anchor_log_survival(
    log_curve: np.ndarray, probability: ArrayLike, horizon: float
) -> np.ndarray:
    """(n, M) log S'(t) of a log S(t) curve rescaled so that 1 - S'(horizon) = probability.

    Through the month that holds the horizon, c = ceil(horizon), the cumulative hazard is
    scaled: log S'(t) = k log S(t) with k = log(1 - p) / log S(h); after it the curve keeps
    its own conditional survival, log S'(t) = log S'(c) + log S(t) - log S(c). horizon in
    months (horizon_months, 0 < horizon <= M), p of shape (n,), clipped to 1 - SURVIVAL_FLOOR.
    Exact in log space, where no month underflows: a horizon just past a month's start
    puts nearly all of month c's hazard into that sliver, and S'(c) can be below the
    smallest float. Exact for curves with some hazard before the horizon,
    S(h) <= 1 - SURVIVAL_FLOOR (SurvivalModel's hazards are at least its HAZARD_CLIP): a
    curve flat up to the horizon has no hazard to scale.
    """
    probability = np.clip(np.asarray(probability, dtype=np.float64), 0.0, 1.0 - SURVIVAL_FLOOR)
    at_horizon = np.minimum(log_survival_at(log_curve, horizon), np.log1p(-SURVIVAL_FLOOR))
    power = np.log1p(-probability) / at_horizon
    scaled = log_curve * power[:, None]
    month = int(np.ceil(horizon))
    after = scaled[:, month - 1 : month] + log_curve - log_curve[:, month - 1 : month]
    return np.where(np.arange(1, log_curve.shape[1] + 1)[None, :] <= month, scaled, after)


def anchor_to_horizon(curve: np.ndarray, probability: ArrayLike, horizon: float) -> np.ndarray:
    """(n, M) S'(t) = exp(anchor_log_survival(log S)): the (n, M) curve (S(t) > 0)
    rescaled so that 1 - S'(horizon) equals each row's churn probability p, shape (n,)."""
    return np.exp(anchor_log_survival(np.log(curve), probability, horizon))


def _last_retention(curve: np.ndarray) -> np.ndarray:
    """(n,) r = S(M) / S(M - 1): the monthly retention the curve goes on with past M."""
    previous = _with_start(curve)[:, -2]
    return np.clip(curve[:, -1] / np.maximum(previous, TINY), 0.0, 1.0)


def discounted_months(curve: np.ndarray, terms: int, monthly_rate: float) -> np.ndarray:
    """(n,) sum_{t=0}^{terms-1} S(t) / (1 + monthly_rate)^t, the curve extended past M.

    monthly_rate 0 gives the expected months of stay up to `terms`.
    """
    if terms <= 0:
        raise ValueError(f"terms is {terms}: expected > 0")
    factor = 1.0 / (1.0 + monthly_rate)
    full = _with_start(curve)
    shown = min(terms, full.shape[1])
    total = full[:, :shown] @ factor ** np.arange(shown)
    tail_terms = terms - full.shape[1]
    if tail_terms <= 0:
        return total
    ratio = _last_retention(curve) * factor
    last = full[:, -1] * factor ** (full.shape[1] - 1)
    geometric = np.where(
        ratio < 1.0,
        ratio * (1.0 - ratio**tail_terms) / np.where(ratio < 1.0, 1.0 - ratio, 1.0),
        tail_terms,
    )
    return total + last * geometric


def expected_lifetime(curve: np.ndarray, cap_months: int) -> np.ndarray:
    """(n,) months the customer is expected to stay, counting the current one, to a cap."""
    return discounted_months(curve, cap_months, 0.0)


def clv(curve: np.ndarray, monthly_margin: ArrayLike, config: ValueFunctionConfig) -> np.ndarray:
    """(n,) risk-adjusted customer value in money: m * sum_t S(t) / (1 + d_m)^t (NaN m: NaN)."""
    rate = monthly_discount_rate(config.annual_discount_rate)
    margin = np.asarray(monthly_margin, dtype=np.float64)
    return margin * discounted_months(curve, config.max_months, rate)


def kept_through(curve: np.ndarray, horizon: float) -> np.ndarray:
    """(n, M) S*(t): 1 before the horizon, S(t) / S(horizon) after (the customer kept)."""
    at_horizon = np.maximum(survival_at(curve, horizon), TINY)
    months = np.arange(1, curve.shape[1] + 1)
    return np.where(months[None, :] < horizon, 1.0, np.minimum(curve / at_horizon[:, None], 1.0))


def clv_at_risk(
    curve: np.ndarray,
    monthly_margin: ArrayLike,
    *,
    horizon: float,
    config: ValueFunctionConfig,
) -> np.ndarray:
    """(n,) money a retention that keeps the customer through the horizon would save:
    clv(kept_through(curve, horizon)) - clv(curve). horizon in months."""
    return clv(kept_through(curve, horizon), monthly_margin, config) - clv(
        curve, monthly_margin, config
    )

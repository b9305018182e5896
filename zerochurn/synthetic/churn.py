"""The monthly churn hazard and the true probability of churning within a horizon.

Log-odds of churning in month t+1 = state log-odds at the end of month t (everything but
tenure) + the new-customer effect at the tenure reached at the start of month t+1.
"""

from __future__ import annotations

import math

import numpy as np

from zerochurn.synthetic.experience import group_values
from zerochurn.synthetic.parameters import WorldParameters

SETTLED_E_FOLDINGS = 8
"""Tenure, in new-customer e-folding times, after which the new-customer effect is
neglected (it is then below e**-8 of its size at signup)."""


def static_log_odds(
    segment: np.ndarray,
    region: np.ndarray,
    plan: np.ndarray,
    log_size: np.ndarray,
    frailty: np.ndarray,
    params: WorldParameters,
) -> np.ndarray:
    """Fixed part of a customer's churn log-odds: intercept, groups, size, frailty (float32)."""
    pop = params.population
    return (
        np.float32(params.churn.intercept)
        + group_values(pop.segments, "hazard_shift")[segment]
        + group_values(pop.regions, "hazard_shift")[region]
        + group_values(pop.plans, "hazard_shift")[plan]
        + np.float32(params.churn.size_effect) * log_size
        + frailty
    )


def state_log_odds(
    static: np.ndarray,
    satisfaction: np.ndarray,
    price_experience: np.ndarray,
    grievance: np.ndarray,
    price_shock: float,
    params: WorldParameters,
) -> np.ndarray:
    """Churn log-odds implied by a customer's state, except the tenure term (float32).

    satisfaction, price_experience: latent units; grievance: the complaint grievance stock;
    price_shock: excess year-over-year log price change.
    """
    churn = params.churn
    return (
        static
        + np.float32(churn.satisfaction_effect) * satisfaction
        + np.float32(churn.price_experience_effect) * price_experience
        + np.float32(churn.grievance_effect) * grievance
        + np.float32(churn.price_shock_effect * price_shock)
    )


def monthly_hazard(
    state: np.ndarray, tenure_months: np.ndarray, params: WorldParameters
) -> np.ndarray:
    """Probability of churning in the coming month, given state log-odds and tenure (months).

    Computed in float32; an infinite tenure gives the settled hazard of a long-time customer.
    """
    churn = params.churn
    decay = np.exp(np.asarray(tenure_months, dtype=np.float32) / -churn.new_customer_months)
    log_odds = state + np.float32(churn.new_customer_effect) * decay
    return np.float32(1) / (np.float32(1) + np.exp(-log_odds))


def log_survival(
    state: np.ndarray,
    tenure_months: np.ndarray,
    months: np.ndarray | float,
    params: WorldParameters,
) -> np.ndarray:
    """Log-probability of not churning during `months` (may be fractional) after tenure.

    The state is held as it is; only tenure advances month by month, and a partial month
    counts with its fraction: log prod_j (1 - h_j) ** f_j. Once tenure passes
    SETTLED_E_FOLDINGS new-customer e-folding times the hazard is taken as constant, so long
    spans cost no more than short ones.
    """
    churn = params.churn
    months = np.broadcast_to(np.asarray(months, dtype=np.float64), np.shape(state))
    settled = SETTLED_E_FOLDINGS * churn.new_customer_months
    steps = math.ceil(np.minimum(np.maximum(settled - tenure_months, 0), months).max(initial=0))
    total = np.zeros(len(state), dtype=np.float64)
    for j in range(steps):
        exposure = np.clip(months - j, 0.0, 1.0)
        total += exposure * np.log1p(-monthly_hazard(state, tenure_months + j, params))
    rest = np.maximum(months - steps, 0.0)
    return total + rest * np.log1p(-monthly_hazard(state, tenure_months + steps, params))


def horizon_probability(
    state: np.ndarray, tenure_months: np.ndarray, horizon_months: float, params: WorldParameters
) -> np.ndarray:
    """Probability of churning within `horizon_months` with the state held (float64)."""
    return -np.expm1(log_survival(state, tenure_months, horizon_months, params))

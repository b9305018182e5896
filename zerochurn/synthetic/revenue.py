"""Monthly revenue and cost of each active customer."""

from __future__ import annotations

import numpy as np

from zerochurn.synthetic.experience import group_values
from zerochurn.synthetic.parameters import WorldParameters


def typical_log_revenue(
    segment: np.ndarray, plan: np.ndarray, log_size: np.ndarray, params: WorldParameters
) -> np.ndarray:
    """Log of the monthly revenue of an established customer at list price 1 (float64)."""
    pop = params.population
    return (
        np.log(group_values(pop.segments, "monthly_revenue")[segment].astype(np.float64))
        + np.log(group_values(pop.plans, "revenue_multiplier")[plan])
        + log_size
    )


def monthly_revenue(
    rng: np.random.Generator,
    segment: np.ndarray,
    plan: np.ndarray,
    log_size: np.ndarray,
    tenure_months: np.ndarray,
    satisfaction: np.ndarray,
    log_price: float,
    calendar_month: int,
    params: WorldParameters,
) -> tuple[np.ndarray, np.ndarray]:
    """Amount and cost (currency units, float64) of one month's bill per customer.

    amount = segment revenue * plan multiplier * size * tenure ramp * season * list price
    * share of wallet (from satisfaction) * log-normal noise; cost = amount * the segment's
    cost ratio * small log-normal noise.
    """
    rev = params.revenue
    ramp = 1.0 - (1.0 - rev.new_customer_revenue_share) * np.exp(-tenure_months / rev.ramp_months)
    season = 1.0 + rev.seasonal_amplitude * np.cos(
        2 * np.pi * (calendar_month - rev.seasonal_peak_month) / 12
    )
    log_amount = (
        typical_log_revenue(segment, plan, log_size, params)
        + rev.satisfaction_effect * satisfaction
        + log_price
        + rev.noise_sd * rng.standard_normal(len(segment))
        - rev.noise_sd**2 / 2
    )
    amount = np.exp(log_amount) * ramp * season
    cost_ratio = group_values(params.population.segments, "cost_ratio")[segment] * np.exp(
        rev.cost_noise_sd * rng.standard_normal(len(segment)) - rev.cost_noise_sd**2 / 2
    )
    return np.round(amount, 2), np.round(amount * cost_ratio, 2)

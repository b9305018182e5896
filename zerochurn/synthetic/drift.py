"""What holds for everyone in a month: list price and the drift scenario's effects."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from zerochurn.configs.settings import DriftScenario
from zerochurn.contract.schema import SURVEY_DIMENSIONS
from zerochurn.synthetic.calendar import Calendar
from zerochurn.synthetic.parameters import WorldParameters


@dataclass(frozen=True)
class MonthConditions:
    """Conditions of one simulated month.

    log_price: log of the list price index (1 at the start month's level).
    price_shock: year-over-year log price change beyond the usual annual increase.
    experience_shift: shape (9,), added to every customer's latent experience, in
        SURVEY_DIMENSIONS order (latent units).
    complaint_multiplier, resolution_multiplier, unresolved_multiplier: multiply the
        complaint rate, resolution time and never-resolved chance.
    new_segment_arrival_rate: expected new-segment arrivals as a share of the initial base.
    """

    log_price: float
    price_shock: float
    experience_shift: np.ndarray
    complaint_multiplier: float
    resolution_multiplier: float
    unresolved_multiplier: float
    new_segment_arrival_rate: float


def _price_steps(calendar: Calendar, month: int, increase_month: int) -> int:
    """Signed count of annual list price increases between the start month and `month`.

    An increase takes effect on the first day of calendar month `increase_month`.
    """
    if month >= 0:
        return sum(calendar.calendar_month(m) == increase_month for m in range(1, month + 1))
    return -sum(calendar.calendar_month(m) == increase_month for m in range(month + 1, 1))


def month_conditions(
    month: int,
    calendar: Calendar,
    drift: DriftScenario | None,
    drift_month: int | None,
    params: WorldParameters,
) -> MonthConditions:
    """The conditions of simulated month `month` (may be negative: before the start).

    The drift applies from `drift_month` on and never before; a price increase is a shock
    (felt in experience and churn) for the twelve months after it takes effect.
    """
    active = drift is not None and drift_month is not None and month >= drift_month
    dims = list(SURVEY_DIMENSIONS)
    shift = np.zeros(len(dims), dtype=np.float32)
    log_price = _price_steps(calendar, month, params.revenue.price_increase_month) * math.log1p(
        params.revenue.annual_price_increase
    )
    price_shock = 0.0
    if active and drift == "price_increase":
        price_shock = math.log1p(params.drift.price_increase) if month < drift_month + 12 else 0.0
        log_price += math.log1p(params.drift.price_increase)
        shift[dims.index("price")] = -params.experience.price_sensitivity * price_shock
    outage = active and drift == "service_outage"
    if outage:
        shift[dims.index("logistics")] = params.drift.outage_logistics_shift
    return MonthConditions(
        log_price=log_price,
        price_shock=price_shock,
        experience_shift=shift,
        complaint_multiplier=params.drift.outage_complaint_multiplier if outage else 1.0,
        resolution_multiplier=params.drift.outage_resolution_multiplier if outage else 1.0,
        unresolved_multiplier=params.drift.outage_unresolved_multiplier if outage else 1.0,
        new_segment_arrival_rate=(
            params.drift.new_segment_arrival_rate if active and drift == "new_segment" else 0.0
        ),
    )

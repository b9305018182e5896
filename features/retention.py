"""Observed monthly retention per segment before T: the r of the value function at feature time.

Without a segment column (customers derived from a transaction log) every customer is in
one group, ALL_CUSTOMERS, and gets the overall rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zerochurn.features.periods import DAYS_PER_MONTH, ONE_DAY, months_before

RETENTION_LOOKBACK_MONTHS = 12
"""Months before T over which departures and exposure are counted."""

ALL_CUSTOMERS = "(all customers)"
"""The one group of segment_monthly_retention when the customers table has no segment."""


def _segments(customers: pd.DataFrame) -> pd.Series:
    """Each row's segment, or ALL_CUSTOMERS for every row when there is no segment column."""
    if "segment" in customers:
        return customers["segment"]
    return pd.Series(ALL_CUSTOMERS, index=customers.index, dtype=object)


def segment_monthly_retention(history: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Monthly retention r of each segment, from departures in the year before `as_of`.

    Requires history[signup_date, departure] from `customer_history` (departure NaT while
    active, so only what was known before as_of is used) and optionally history[segment]
    (without it, one group ALL_CUSTOMERS). With D departures in [T - 12 months, T) and E
    customer-months at risk in that window (each customer from max(signup, window start)
    to departure or T, in DAYS_PER_MONTH months), the monthly hazard is h = D / E and
    r = exp(-h), the constant-hazard survival over one month.
    A segment without exposure gets the rate of all customers, and r = 1 without any.

    Returns a float Series indexed by segment (unclipped; the value function clips r).
    """
    window_start = months_before(as_of, RETENTION_LOOKBACK_MONTHS)
    departure = history["departure"]
    start = history["signup_date"].clip(lower=window_start)
    stop = departure.fillna(as_of)
    exposure = ((stop - start) / ONE_DAY).clip(lower=0) / DAYS_PER_MONTH
    departed = (departure >= window_start).astype(float)
    by_segment = (
        pd.DataFrame({"segment": _segments(history), "exposure": exposure, "departed": departed})
        .groupby("segment", sort=True, observed=True)[["exposure", "departed"]]
        .sum()
    )
    total = by_segment.sum()
    overall = total["departed"] / total["exposure"] if total["exposure"] > 0 else 0.0
    hazard = (by_segment["departed"] / by_segment["exposure"]).where(
        by_segment["exposure"] > 0, overall
    )
    return np.exp(-hazard).rename("segment_monthly_retention")


def customer_monthly_retention(population: pd.DataFrame, retention: pd.Series) -> np.ndarray:
    """(n,) float: the r of each population row's segment (ALL_CUSTOMERS without a segment).

    retention: the result of `segment_monthly_retention` at the same as-of date.
    """
    return _segments(population).map(retention).to_numpy(dtype=float)

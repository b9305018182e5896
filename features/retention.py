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


def segment_exposure(history: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """Departures and customer-months at risk per segment in the year before `as_of`.

    Requires history[signup_date, departure] from `customer_history` (departure NaT while
    active, so only what was known before as_of is used) and optionally history[segment]
    (without it, one group ALL_CUSTOMERS). Each customer is at risk from max(signup,
    window start) to departure or T, in DAYS_PER_MONTH months; a departure counts when it
    falls in [T - RETENTION_LOOKBACK_MONTHS months, T). Returns a frame indexed by segment
    (sorted) with float columns exposure and departed: sums, so the tables of disjoint
    sets of customers add up to the table of all of them (Spark adds partitions' tables).
    """
    window_start = months_before(as_of, RETENTION_LOOKBACK_MONTHS)
    departure = history["departure"]
    start = history["signup_date"].clip(lower=window_start)
    stop = departure.fillna(as_of)
    exposure = ((stop - start) / ONE_DAY).clip(lower=0) / DAYS_PER_MONTH
    departed = (departure >= window_start).astype(float)
    return (
        pd.DataFrame({"segment": _segments(history), "exposure": exposure, "departed": departed})
        .groupby("segment", sort=True, observed=True)[["exposure", "departed"]]
        .sum()
    )


def retention_from_exposure(by_segment: pd.DataFrame) -> pd.Series:
    """Monthly retention r of each segment from its departures D and exposure E.

    by_segment: `segment_exposure`'s table (of all customers). The monthly hazard is
    h = D / E and r = exp(-h), the constant-hazard survival over one month. A segment
    without exposure gets the rate of all customers, and r = 1 without any.
    Returns a float Series indexed by segment (unclipped; the value function clips r).
    """
    total = by_segment.sum()
    overall = total["departed"] / total["exposure"] if total["exposure"] > 0 else 0.0
    hazard = (by_segment["departed"] / by_segment["exposure"]).where(
        by_segment["exposure"] > 0, overall
    )
    return np.exp(-hazard).rename("segment_monthly_retention")


def segment_monthly_retention(history: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Monthly retention r of each segment, from departures in the year before `as_of`.

    `retention_from_exposure` of `segment_exposure` (see both); a float Series indexed by
    segment.
    """
    return retention_from_exposure(segment_exposure(history, as_of=as_of))


def customer_monthly_retention(population: pd.DataFrame, retention: pd.Series) -> np.ndarray:
    """(n,) float: the r of each population row's segment (ALL_CUSTOMERS without a segment).

    retention: the result of `segment_monthly_retention` at the same as-of date.
    """
    return _segments(population).map(retention).to_numpy(dtype=float)

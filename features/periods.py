"""Time windows before an as-of date: calendar months, day counts, the mean month length.

Windows in months are calendar months counted back from the as-of date T: the last k
months are [T - k months, T), with `pd.DateOffset` arithmetic (so T = 2025-04-01 gives
the last 3 months as 2025-01-01 .. 2025-03-31). Rates and retention per month use the
mean Gregorian month, DAYS_PER_MONTH days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_MONTH = 365.25 / 12
"""Mean length of a calendar month in days (30.4375); converts day counts to months."""

ONE_DAY = pd.Timedelta(days=1)
EPOCH = pd.Timestamp("1970-01-01")
NO_DAY = np.iinfo(np.int32).min
"""Day number meaning "no day": what grouping.group_max gives a customer without rows."""


def months_before(as_of: pd.Timestamp, months: int) -> pd.Timestamp:
    """The date `months` calendar months before `as_of` (day of month clipped, as in pandas)."""
    return as_of - pd.DateOffset(months=months)


def months_ago(dates: np.ndarray, as_of: pd.Timestamp, months: int) -> np.ndarray:
    """Which of the `months` calendar months before `as_of` each date falls in.

    Month 0 is [T - 1 month, T), month k is [T - (k + 1) months, T - k months). Dates
    before T - `months` months get `months`; dates must lie before T.

    dates: datetime64 array. Returns an int64 array with one entry per date.
    """
    starts = pd.DatetimeIndex([months_before(as_of, k) for k in range(months, 0, -1)])
    bounds = starts.as_unit(np.datetime_data(dates.dtype)[0]).to_numpy()
    return months - np.searchsorted(bounds, dates, side="right").astype(np.int64)


def day_numbers(dates: np.ndarray) -> np.ndarray:
    """Calendar day of each datetime64 value as int32 days since EPOCH (floored).

    Half the memory of datetime64 when grouping millions of rows by day, and written
    straight into the int32 result without a datetime64[D] copy. NaT gives a meaningless day,
    so mask such rows out.
    """
    unit = np.timedelta64(1, np.datetime_data(dates.dtype)[0])
    days = np.empty(len(dates), dtype=np.int32)
    np.floor_divide(
        dates.view(np.int64), np.timedelta64(1, "D") // unit, out=days, casting="unsafe"
    )
    return days


def days_since_day(as_of: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    """Days (float) from each day number (day_numbers) up to `as_of`; NaN for NO_DAY."""
    as_of_day = (as_of - EPOCH) / ONE_DAY
    return np.where(days == NO_DAY, np.nan, as_of_day - days)


def days_before(as_of: pd.Timestamp, dates: pd.Series) -> np.ndarray:
    """Days (float) from each date up to `as_of`; NaN where the date is missing."""
    return ((as_of - dates) / ONE_DAY).to_numpy(dtype=float, na_value=np.nan)

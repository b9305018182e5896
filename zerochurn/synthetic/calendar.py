"""Month boundaries of the simulation, with days as integers (days since 1970-01-01)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

DAYS_PER_MONTH = 365.25 / 12
"""Mean length of a month in days; converts tenure and horizons between days and months."""

NO_DAY = np.iinfo(np.int32).max
"""Day number standing for "never" (no cancellation, no resolution, no follow-up)."""

_EPOCH = dt.date(1970, 1, 1)
_NANOSECONDS_PER_DAY = 86_400 * 10**9


def day_number(date: dt.date) -> int:
    """Days from 1970-01-01 to `date`."""
    return (date - _EPOCH).days


@dataclass(frozen=True)
class Calendar:
    """The simulated months: month t runs from first_day(t) to first_day(t + 1) - 1."""

    start: dt.date
    months: int

    def first_day(self, month: int) -> int:
        """Day number of the first day of month `month` (0 = the start month; may be < 0)."""
        year, month0 = divmod(self.start.month - 1 + month, 12)
        return day_number(dt.date(self.start.year + year, month0 + 1, 1))

    def calendar_month(self, month: int) -> int:
        """Calendar month (1..12) of simulated month `month`."""
        return (self.start.month - 1 + month) % 12 + 1

    def label(self, month: int) -> str:
        """YYYY-MM of simulated month `month`."""
        year, month0 = divmod(self.start.month - 1 + month, 12)
        return f"{self.start.year + year:04d}-{month0 + 1:02d}"

    def index_of(self, label: str) -> int:
        """Simulated month index of a YYYY-MM label (negative before the start)."""
        year, month = (int(part) for part in label.split("-"))
        return (year - self.start.year) * 12 + month - self.start.month

    @property
    def end_day(self) -> int:
        """Day number of the first day after the simulation."""
        return self.first_day(self.months)


def random_days(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """One day drawn uniformly from each inclusive span [low, high] of day numbers (int32)."""
    low = np.asarray(low, dtype=np.int64)
    span = np.asarray(high, dtype=np.int64) - low + 1
    return (low + np.floor(rng.random(span.shape) * span).astype(np.int64)).astype(np.int32)


def days_to_datetime(days: np.ndarray) -> np.ndarray:
    """Day numbers as datetime64[ns] (as the contract loader gives); NO_DAY becomes NaT."""
    days = np.asarray(days)
    out = (days.astype(np.int64) * _NANOSECONDS_PER_DAY).view("datetime64[ns]")
    missing = days == NO_DAY
    if missing.any():
        out[missing] = np.datetime64("NaT")
    return out

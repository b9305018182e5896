"""Purchase histories for the BG/NBD model: frequency, recency and age before an as-of date.

A purchase is a day with at least one transaction. Point in time: only transactions
before `as_of` count (purchases_between reads a later window for judging forecasts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zerochurn.features.grouping import group_count, member_rows
from zerochurn.features.periods import DAYS_PER_MONTH, ONE_DAY, day_numbers


def _purchase_days(
    transactions: pd.DataFrame,
    customer_ids: pd.Series,
    start: pd.Timestamp | None,
    end: pd.Timestamp,
) -> tuple[np.ndarray, np.ndarray]:
    """(positions, day numbers) of the distinct purchase days of each customer in [start, end)."""
    dates = transactions["date"]
    window = dates < end if start is None else (dates >= start) & (dates < end)
    keep, positions = member_rows(
        transactions["customer_id"], pd.Index(customer_ids), window.to_numpy()
    )
    days = day_numbers(dates.to_numpy()[keep])
    pairs = np.unique(np.column_stack([positions, days]), axis=0)
    return pairs[:, 0], pairs[:, 1]


def purchase_summary(
    transactions: pd.DataFrame, customer_ids: pd.Series, *, as_of: pd.Timestamp
) -> pd.DataFrame:
    """frequency (repeat purchase days), recency and age in months of each customer at as_of.

    Requires transactions[customer_id, date]. recency: first to last purchase day; age:
    first purchase day to as_of; both in DAYS_PER_MONTH months. A customer without a
    purchase before as_of gets NaN. Aligned with customer_ids.
    """
    size = len(customer_ids)
    positions, days = _purchase_days(transactions, customer_ids, None, as_of)
    count = group_count(positions, size)
    first = np.full(size, np.iinfo(np.int32).max, dtype=np.int64)
    last = np.full(size, np.iinfo(np.int32).min, dtype=np.int64)
    np.minimum.at(first, positions, days)
    np.maximum.at(last, positions, days)
    bought = count > 0
    as_of_day = (as_of - pd.Timestamp("1970-01-01")) / ONE_DAY
    return pd.DataFrame(
        {
            "frequency": np.where(bought, count - 1, np.nan),
            "recency": np.where(bought, (last - first) / DAYS_PER_MONTH, np.nan),
            "age": np.where(bought, (as_of_day - first) / DAYS_PER_MONTH, np.nan),
        },
        index=customer_ids.index,
    )


def purchases_between(
    transactions: pd.DataFrame, customer_ids: pd.Series, *, start: pd.Timestamp, end: pd.Timestamp
) -> np.ndarray:
    """(n,) purchase days of each customer in [start, end), aligned with customer_ids."""
    positions, _ = _purchase_days(transactions, customer_ids, start, end)
    return group_count(positions, len(customer_ids))

"""Per-customer aggregation on integer positions instead of string keys.

Customer ids are mapped once per table to their row position in the population
(0..n-1), after which sums, counts and maxima are numpy `bincount` / `maximum.at`
calls: far cheaper than grouping or merging on strings for millions of rows. Tables are
read column by column through a row mask, so no filtered copy of a whole table is made.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def index_positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position in `index` (unique) of each value, -1 where the value is missing or absent.

    Uses Arrow's hash lookup, several times faster than pandas' on millions of strings;
    a categorical column looks up only its categories. Returns int32.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        found = index_positions(pd.Series(values.cat.categories), index)
        return np.append(found, np.int32(-1))[values.cat.codes.to_numpy()]
    found = pc.index_in(pa.array(values), value_set=pa.array(index))
    chunks = found.chunks if isinstance(found, pa.ChunkedArray) else [found]
    positions = np.empty(len(found), dtype=np.int32)
    start = 0
    for chunk in chunks:  # chunk by chunk: no second table-long Arrow array
        positions[start : start + len(chunk)] = chunk.fill_null(-1).to_numpy()
        start += len(chunk)
    return positions


def member_rows(
    ids: pd.Series, population_ids: pd.Index, where: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The rows of a table whose id is in the population and where `where` holds.

    Returns (keep, positions): a boolean mask over the table's rows, and the population
    position of each kept row.
    """
    positions = index_positions(ids, population_ids)
    keep = where & (positions >= 0)
    return keep, positions[keep]


def group_count(positions: np.ndarray, size: int) -> np.ndarray:
    """Rows per position 0..size-1 (int64)."""
    return np.bincount(positions, minlength=size)


def group_sum(positions: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum of `values` per position 0..size-1 (float64, 0 where there are no rows)."""
    # bincount gives int64 for an empty result even with weights: float64 whatever the size
    return np.bincount(positions, weights=values, minlength=size).astype(np.float64, copy=False)


def mean_of(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """total / count elementwise, NaN where count is 0."""
    return np.divide(total, count, out=np.full(np.shape(total), np.nan), where=count > 0)


def group_mean(positions: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Mean of `values` per position 0..size-1 (float64, NaN where there are no rows)."""
    return mean_of(group_sum(positions, values, size), group_count(positions, size))


def cells(positions: np.ndarray, *keys: tuple[np.ndarray, int]) -> np.ndarray:
    """Flat int64 index of each row in a (size, width_1, width_2, ...) table.

    keys: (column, width) pairs, each column holding values 0..width-1. Group by the result
    with group_count / group_sum over size * width_1 * width_2 ... and reshape. Builds the
    index in one array, in place, since it is as long as the table.
    """
    flat = positions.astype(np.int64)
    for column, width in keys:
        flat *= width
        flat += column
    return flat


def group_max(positions: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Largest of integer `values` per position 0..size-1; the dtype's minimum where none."""
    largest = np.full(size, np.iinfo(values.dtype).min, dtype=values.dtype)
    np.maximum.at(largest, positions, values)
    return largest


def group_last(positions: np.ndarray, dates: np.ndarray, size: int) -> np.ndarray:
    """Latest datetime64 per position 0..size-1, NaT where there are no rows.

    Works on the int64 view of the dates, where NaT is the smallest value.
    """
    return group_max(positions, dates.view(np.int64), size).view(dates.dtype)

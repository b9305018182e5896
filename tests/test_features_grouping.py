"""Integer-position grouping helpers behind every feature group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zerochurn.features.grouping import (
    cells,
    group_last,
    group_max,
    group_mean,
    index_positions,
    member_rows,
)

POPULATION = pd.Index(["a", "b", "c"])


@pytest.mark.parametrize("dtype", ["str", "object", "category"])
def test_index_positions_of_any_string_column(dtype: str) -> None:
    values = pd.Series(["c", "x", "a", None, "c"], dtype=dtype)
    np.testing.assert_array_equal(index_positions(values, POPULATION), [2, -1, 0, -1, 2])


def test_index_positions_of_an_empty_column() -> None:
    assert len(index_positions(pd.Series([], dtype="str"), POPULATION)) == 0


def test_member_rows() -> None:
    keep, positions = member_rows(
        pd.Series(["b", "x", "a", "b"]), POPULATION, np.array([True, True, True, False])
    )
    np.testing.assert_array_equal(keep, [True, False, True, False])
    np.testing.assert_array_equal(positions, [1, 0])


def test_cells_flatten_row_major() -> None:
    flat = cells(np.array([0, 2], dtype=np.int32), (np.array([1, 0]), 2), (np.array([3, 1]), 4))
    np.testing.assert_array_equal(flat, [0 * 8 + 1 * 4 + 3, 2 * 8 + 0 * 4 + 1])
    assert flat.dtype == np.int64


def test_group_aggregates() -> None:
    positions = np.array([0, 2, 0])
    np.testing.assert_array_equal(
        group_mean(positions, np.array([1.0, 5.0, 3.0]), 3), [2, np.nan, 5]
    )
    days = np.array([10, 7, 12], dtype=np.int32)
    np.testing.assert_array_equal(group_max(positions, days, 3), [12, np.iinfo(np.int32).min, 7])
    dates = pd.to_datetime(["2024-01-02", "2024-03-01", "2024-01-05"]).to_numpy()
    last = group_last(positions, dates, 3)
    assert list(pd.Series(last)) == [pd.Timestamp("2024-01-05"), pd.NaT, pd.Timestamp("2024-03-01")]

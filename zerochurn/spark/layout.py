"""The raw tables as one Spark DataFrame hashed by customer, and back to RawData per partition.

Spark runs the pandas feature functions on partitions of customers. A customer's rows
come from up to four tables, and a partition must hold all of them, so the tables travel
as one DataFrame (`union` in spark/tables.py): each row carries the number of its table
(TABLE_COLUMN), its customer (CUSTOMER_COLUMN, the partitioning key) and its values in
typed slots shared by the tables (a table's string columns in string_0, string_1, ...),
so the DataFrame is as wide as the widest table, not as all of them together.

This module is the pandas side: `partition_raw` turns the rows of one partition back into
the tables as read (contract.validate.ReadTable) and normalises them with the contract's
own code, giving the RawData of that partition's customers. It imports no pyspark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zerochurn.contract.dataset import RawData
from zerochurn.contract.validate import Problem, ReadTable, normalise_tables

TABLE_COLUMN = "_table"
CUSTOMER_COLUMN = "_customer"
"""The customer_id of each row as text: the key Spark hashes rows to partitions by."""


@dataclass(frozen=True)
class TableLayout:
    """Where one raw table's columns are in the union.

    code: the table's value of TABLE_COLUMN; file: its file name, for problems;
    columns: contract column -> (name in the file, slot in the union);
    nanos: file columns holding Parquet nanosecond timestamps as int64 (Spark cannot read
    those as timestamps; pandas-written Parquet has them).
    """

    name: str
    code: int
    file: str
    columns: dict[str, tuple[str, str]]
    nanos: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RawLayout:
    """The tables of the union and whether customers are derived from the transactions."""

    tables: tuple[TableLayout, ...]
    derive_customers: bool

    def table(self, name: str) -> TableLayout | None:
        """The layout of table `name`, None when the data has no such table."""
        return next((table for table in self.tables if table.name == name), None)


def _file_values(values: pd.Series, nanos: bool) -> pd.Series:
    """A slot's values as the file held them: int64 nanoseconds become datetimes again."""
    if nanos:
        return pd.to_datetime(values.astype("Int64"), unit="ns")
    return values


def read_tables(frame: pd.DataFrame, layout: RawLayout) -> dict[str, ReadTable]:
    """The rows of each table in `frame` (union rows), as read from its file.

    Every table of the layout is present, with no rows when the partition has none.
    Problems will name the rows' customers (ReadTable.row_names).
    """
    codes = frame[TABLE_COLUMN].to_numpy()
    tables = {}
    for table in layout.tables:
        rows = frame.loc[codes == table.code]
        columns = {
            file_column: _file_values(rows[slot], file_column in table.nanos).reset_index(drop=True)
            for file_column, slot in table.columns.values()
        }
        tables[table.name] = ReadTable(
            pd.DataFrame(columns, index=pd.RangeIndex(len(rows))),
            {name: file_column for name, (file_column, _) in table.columns.items()},
            table.file,
            rows[CUSTOMER_COLUMN].to_numpy(dtype=object),
        )
    return tables


def partition_raw(frame: pd.DataFrame, layout: RawLayout) -> tuple[RawData | None, list[Problem]]:
    """RawData of the customers of one partition, or None with every problem found.

    frame: union rows (all rows of each of their customers). Normalised and checked by
    contract.validate.normalise_tables, as a data folder is.
    """
    return normalise_tables(read_tables(frame, layout), derive_customers=layout.derive_customers)


def empty_raw(layout: RawLayout) -> RawData:
    """RawData without rows, typed as real data is: for the schema of Spark's outputs.

    The contract gives every column its RawData type whatever type it was read as, so the
    feature table built from this has the columns and dtypes of the real one.
    """
    tables = {
        table.name: ReadTable(
            pd.DataFrame(
                {
                    file_column: pd.Series([], dtype="str")
                    for file_column, _ in table.columns.values()
                }
            ),
            {name: file_column for name, (file_column, _) in table.columns.items()},
            table.file,
            np.array([], dtype=object),
        )
        for table in layout.tables
    }
    raw, problems = normalise_tables(tables, derive_customers=layout.derive_customers)
    if raw is None:
        raise ValueError(f"the layout's tables cannot make RawData: {problems}")
    return raw

"""The raw tables in Spark: read from a folder or URI, or given as DataFrames, then hashed by customer.

A data folder is read as `zerochurn validate` reads it: <table>.parquet or <table>.csv
per table (a file, or a folder of part files as Spark writes them), at any location
Hadoop can read (a local path, hdfs://, s3a://, abfss://, dbfs:/ ...). CSV columns are read
as text, with the null markers of the pandas engine's CSV reader as missing values;
Parquet columns keep their types, and nanosecond timestamps (which pandas writes and
Spark cannot read as timestamps) come as int64 and are turned back into dates on the
pandas side. What a value must look like is checked on the partitions, by the contract's
own code (spark/layout.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow.csv as pcsv
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from zerochurn.contract.schema import TABLES
from zerochurn.contract.validate import (
    DataValidationError,
    Problem,
    file_columns,
    find_table_file,
)
from zerochurn.spark.layout import CUSTOMER_COLUMN, TABLE_COLUMN, RawLayout, TableLayout

CSV_NULLS = tuple(pcsv.ConvertOptions().null_values)
"""Text the pandas engine's CSV reader (pyarrow) reads as missing: NA, NULL, n/a, ..."""
NANOS_AS_LONG = "spark.sql.legacy.parquet.nanosAsLong"
"""Spark setting that reads Parquet nanosecond timestamps as int64 instead of failing."""
ILLEGAL_PARQUET_TYPE = "PARQUET_TYPE_ILLEGAL"
"""Condition of the error Spark raises for a Parquet nanosecond timestamp column."""

RawTables = str | Mapping[str, DataFrame]
"""A data folder (path or URI) or the tables as DataFrames by name (customers, transactions,
surveys, complaints; customers may be left out to derive it from the transactions)."""


@dataclass(frozen=True)
class SparkRaw:
    """The raw tables found, as Spark DataFrames of their contract columns, and their layout."""

    frames: dict[str, DataFrame]
    layout: RawLayout


def _exists(spark: SparkSession, path: str) -> bool:
    """Whether `path` (file or folder, any Hadoop file system) exists."""
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(
        hadoop_path
    )


@contextmanager
def _logs_off(spark: SparkSession) -> Iterator[None]:
    """Spark's log quiet for a moment (a probe expected to fail), then at its level again."""
    root = spark.sparkContext._jvm.org.apache.logging.log4j.LogManager.getRootLogger()
    level = root.getLevel().toString()
    spark.sparkContext.setLogLevel("OFF")
    try:
        yield
    finally:
        spark.sparkContext.setLogLevel(level)


def _read_parquet(spark: SparkSession, path: str) -> tuple[DataFrame, bool]:
    """The Parquet table at `path`, and whether its nanosecond timestamps come as int64.

    Spark refuses such columns unless NANOS_AS_LONG is set. A probe without it tells
    whether the file has any; if so the setting is turned on for the session, which
    changes nothing for files without them.
    """
    previous = spark.conf.get(NANOS_AS_LONG, "false")
    nanos = False
    with _logs_off(spark):  # the probe's failed job would log an error
        spark.conf.set(NANOS_AS_LONG, "false")
        try:
            frame = spark.read.parquet(path)
        except AnalysisException as exc:
            if exc.getCondition() != ILLEGAL_PARQUET_TYPE:
                raise
            nanos = True
        finally:
            spark.conf.set(NANOS_AS_LONG, previous)
    if nanos:
        spark.conf.set(NANOS_AS_LONG, "true")
        frame = spark.read.parquet(path)
    return frame, nanos


def _read_csv(spark: SparkSession, path: str) -> DataFrame:
    """The CSV table at `path`, every column as text, CSV_NULLS and blanks as null."""
    frame = spark.read.options(header=True, inferSchema=False, mode="PERMISSIVE").csv(path)
    return frame.select(
        *[
            F.when(F.col(f"`{name}`").isin(*CSV_NULLS), None)
            .otherwise(F.col(f"`{name}`"))
            .alias(name)
            for name in frame.columns
        ]
    )


def _file_label(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _is_date(table: str, column: str) -> bool:
    return TABLES[table].column(column).kind == "date"


def read_raw(spark: SparkSession, location: str) -> SparkRaw:
    """The raw tables of the data folder at `location` (a path or Hadoop URI), lazily.

    Raises DataValidationError for what can be seen without reading rows: missing or
    ambiguous files, missing columns, tables without rows. Values are checked later,
    partition by partition (spark/scan.py).
    """
    problems: list[Problem] = []
    frames: dict[str, DataFrame] = {}
    files: dict[str, str] = {}
    nanos: dict[str, frozenset[str]] = {}
    derive = False
    for spec in TABLES.values():
        path, found = find_table_file(location, spec, lambda path: _exists(spark, path))
        problems += found
        derive |= spec.name == "customers" and path is None and not found
        if path is None:
            continue
        if path.endswith(".parquet"):
            frame, as_long = _read_parquet(spark, path)
        else:
            frame, as_long = _read_csv(spark, path), False
        frames[spec.name], files[spec.name] = frame, _file_label(path)
        if as_long:
            nanos[spec.name] = frozenset(
                field.name
                for field in frame.schema.fields
                if isinstance(field.dataType, T.LongType)
            )
    raw, found = _contract_frames(frames, files, nanos, derive)
    if problems + found:
        raise DataValidationError(problems + found)
    return raw


def given_raw(frames: Mapping[str, DataFrame]) -> SparkRaw:
    """SparkRaw of tables given as DataFrames by table name (customers may be absent).

    Raises DataValidationError naming unknown tables, missing tables or columns.
    """
    unknown = sorted(set(frames) - set(TABLES))
    problems = [
        Problem(name, None, f"unknown table: expected one of {', '.join(TABLES)}")
        for name in unknown
    ]
    if "transactions" not in frames:
        problems.append(Problem("transactions", None, "no DataFrame: expected the transactions"))
    if problems:
        raise DataValidationError(problems)
    files = {name: f"{name} DataFrame" for name in frames}
    raw, found = _contract_frames(dict(frames), files, {}, "customers" not in frames)
    if found:
        raise DataValidationError(found)
    return raw


def _slot(data_type: T.DataType, number: int) -> str:
    """Name of the `number`-th union slot of a Spark type, e.g. string_0, timestamp_ntz_1."""
    return f"{re.sub(r'[^0-9a-z]+', '_', data_type.simpleString())}_{number}"


def _contract_frames(
    frames: dict[str, DataFrame],
    files: dict[str, str],
    nanos: dict[str, frozenset[str]],
    derive: bool,
) -> tuple[SparkRaw, list[Problem]]:
    """Each table's contract columns (as named in its file) and their slots in the union."""
    problems: list[Problem] = []
    selected: dict[str, DataFrame] = {}
    layouts = []
    for code, (name, frame) in enumerate(frames.items()):
        found, missing = file_columns(TABLES[name], frame.columns, files[name])
        problems += missing
        if not found:
            continue
        if frame.limit(1).count() == 0:
            remedy = "" if TABLES[name].required else ", or no file at all"
            message = f"no rows: expected data rows{remedy}"
            problems.append(Problem(name, None, message, file=files[name]))
            continue
        types = {field.name: field.dataType for field in frame.schema.fields}
        per_type: dict[str, int] = {}
        columns = {}
        for contract_name, file_column in found.items():
            kind = types[file_column].simpleString()
            columns[contract_name] = (file_column, _slot(types[file_column], per_type.get(kind, 0)))
            per_type[kind] = per_type.get(kind, 0) + 1
        table_nanos = frozenset(
            file_column
            for contract_name, file_column in found.items()
            if file_column in nanos.get(name, frozenset()) and _is_date(name, contract_name)
        )
        selected[name] = frame.select(*[F.col(f"`{column}`") for column in found.values()])
        layouts.append(TableLayout(name, code, files[name], columns, table_nanos))
    layout = RawLayout(tuple(layouts), derive and "transactions" in selected)
    return SparkRaw(selected, layout), problems


def customer_key(column: Column, data_type: T.DataType) -> Column:
    """customer_id as trimmed text, whole numbers without a decimal point: the partition key."""
    if isinstance(data_type, T.FloatType | T.DoubleType | T.DecimalType):
        whole = column == F.floor(column)
        return F.when(whole, column.cast("long").cast("string")).otherwise(column.cast("string"))
    return F.trim(column.cast("string"))


def union(raw: SparkRaw) -> DataFrame:
    """Every row of every table in one DataFrame: TABLE_COLUMN, CUSTOMER_COLUMN, the slots."""
    parts = []
    for table in raw.layout.tables:
        frame = raw.frames[table.name]
        types = {field.name: field.dataType for field in frame.schema.fields}
        id_column = table.columns["customer_id"][0]
        parts.append(
            frame.select(
                F.lit(table.code).cast("int").alias(TABLE_COLUMN),
                customer_key(F.col(f"`{id_column}`"), types[id_column]).alias(CUSTOMER_COLUMN),
                *[
                    F.col(f"`{file_column}`").alias(slot)
                    for file_column, slot in table.columns.values()
                ],
            )
        )
    combined = parts[0]
    for part in parts[1:]:
        combined = combined.unionByName(part, allowMissingColumns=True)
    return combined


def customer_count(raw: SparkRaw) -> int:
    """How many customers the data has (approximately, when customers are derived)."""
    if "customers" in raw.frames:
        return raw.frames["customers"].count()
    id_column = raw.layout.table("transactions").columns["customer_id"][0]
    row = raw.frames["transactions"].agg(F.approx_count_distinct(F.col(f"`{id_column}`"))).first()
    return int(row[0])


def partition_count(spark: SparkSession, customers: int, customers_per_partition: int) -> int:
    """Partitions for `customers`: at most customers_per_partition each, at least one per core."""
    return max(
        math.ceil(customers / customers_per_partition), spark.sparkContext.defaultParallelism
    )


def by_customer(raw: SparkRaw, partitions: int) -> DataFrame:
    """The union hashed by customer into `partitions` partitions: each holds whole customers."""
    return union(raw).repartition(partitions, CUSTOMER_COLUMN)

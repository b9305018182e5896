"""Point-in-time features on Spark: the pandas feature functions on partitions of customers.

`features_spark(spark, raw_tables, as_of)` gives the same table as
features.build.build_features, one row per customer active at as_of, as a Spark
DataFrame. How (docs/spark.md):

1. the tables (spark/tables.py) go into one DataFrame hashed by customer_id, so each
   partition holds every row of its customers (one shuffle);
2. a scan (spark/workers.scan) checks each partition with the data contract's code and
   sums its customers' exposure per segment; the driver adds these small tables up and
   turns them into the segment retention (features.retention.retention_from_exposure),
   the one feature that depends on other customers' rows, and broadcasts it;
3. each partition's features are build_features of its customers with that retention:
   one pandas call per partition (spark/workers.features).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from zerochurn.configs.settings import ChurnConfig, EngineConfig, FeatureConfig
from zerochurn.contract.dataset import data_end
from zerochurn.contract.validate import DataValidationError, Problem
from zerochurn.features.build import TIMESTAMP_UNIT
from zerochurn.features.retention import retention_from_exposure
from zerochurn.spark import workers
from zerochurn.spark.layout import RawLayout, empty_raw
from zerochurn.spark.tables import (
    RawTables,
    SparkRaw,
    by_customer,
    customer_count,
    given_raw,
    partition_count,
    read_raw,
)

DEFAULT_CUSTOMERS_PER_PARTITION: int = EngineConfig.model_fields["customers_per_partition"].default


def spark_type(dtype: object) -> T.DataType:
    """The Spark type a pandas column of `dtype` is written as (Arrow carries it exactly)."""
    if pd.api.types.is_bool_dtype(dtype):
        return T.BooleanType()
    if pd.api.types.is_integer_dtype(dtype):
        return T.LongType()
    if pd.api.types.is_float_dtype(dtype):
        return T.DoubleType()
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return T.TimestampNTZType()  # naive dates: no session time zone applies
    return T.StringType()


def spark_schema(frame: pd.DataFrame) -> T.StructType:
    """The Spark schema of a pandas frame's columns (`spark_type`), all nullable."""
    return T.StructType(
        [T.StructField(str(name), spark_type(dtype), True) for name, dtype in frame.dtypes.items()]
    )


def raw_tables_of(spark: SparkSession, raw_tables: RawTables) -> SparkRaw:
    """SparkRaw of a data folder URI or of DataFrames by table name."""
    if isinstance(raw_tables, str):
        return read_raw(spark, raw_tables)
    return given_raw(raw_tables)


def last_transaction_day(raw: SparkRaw) -> pd.Timestamp:
    """The end of the data (contract.dataset.data_end): the day after the latest transaction."""
    table = raw.layout.table("transactions")
    column = table.columns["date"][0]
    dates = raw.frames["transactions"].select(F.col(f"`{column}`"))
    last = (
        dates.mapInPandas(
            functools.partial(workers.last_transaction, column=column, nanos=column in table.nanos),
            schema="last timestamp_ntz",
        )
        .agg(F.max("last"))
        .first()[0]
    )
    if last is None:
        raise DataValidationError(
            [
                Problem(
                    "transactions",
                    "date",
                    "no valid date: expected ISO 8601 dates",
                    file=table.file,
                )
            ]
        )
    return data_end(pd.Timestamp(last))


def _merged_problems(rows: pd.DataFrame) -> list[Problem]:
    """One problem per table and column: the first partition's, with the count of all."""
    problems = []
    for (table, column, file), group in rows.groupby(
        ["table", "column", "file"], sort=False, dropna=False
    ):
        total = int(group["count"].fillna(0).sum())
        message = group["message"].iloc[0]
        if len(group) > 1 and total:
            message = f"{message} ({total:,} rows in all)"
        problems.append(
            Problem(
                None if pd.isna(table) else table,
                None if pd.isna(column) else column,
                message,
                (),
                total,
                None if pd.isna(file) else file,
            )
        )
    return problems


def segment_retention(
    partitioned: DataFrame, layout: RawLayout, as_of: pd.Timestamp, churn: ChurnConfig
) -> pd.Series:
    """Check every partition against the contract; the segment retention of all customers.

    Raises DataValidationError with every problem (one per table and column, naming
    customers instead of file rows).
    """
    rows = (
        partitioned.mapInPandas(
            functools.partial(workers.scan, layout=layout, as_of=as_of, churn=churn),
            schema=", ".join(f"`{name}` {kind}" for name, kind in workers.SCAN_COLUMNS.items()),
        )
        .groupBy("kind", "table", "column", "file", "message", "segment")
        .agg(
            F.sum("count").alias("count"),
            F.sum("exposure").alias("exposure"),
            F.sum("departed").alias("departed"),
        )
        .toPandas()
    )
    problems = rows[rows["kind"] == workers.PROBLEM]
    if len(problems):
        raise DataValidationError(_merged_problems(problems))
    exposure = rows[rows["kind"] == workers.EXPOSURE]
    by_segment = exposure.groupby("segment", sort=True)[["exposure", "departed"]].sum()
    return retention_from_exposure(by_segment)


@dataclass(frozen=True)
class Prepared:
    """The raw tables hashed by customer, and what every partition's features need."""

    partitioned: DataFrame
    job: workers.FeatureJob

    @property
    def empty_features(self) -> pd.DataFrame:
        """The feature table without rows: its columns and dtypes."""
        return self.job.features(empty_raw(self.job.layout))

    def features(self) -> DataFrame:
        """The feature table, one pandas call per partition (lazy)."""
        return self.partitioned.mapInPandas(
            functools.partial(workers.features, job=self.job),
            schema=spark_schema(self.empty_features),
        )


def prepare(
    spark: SparkSession,
    raw_tables: RawTables,
    as_of: pd.Timestamp | str | None,
    config: FeatureConfig,
    churn: ChurnConfig,
    customers_per_partition: int = DEFAULT_CUSTOMERS_PER_PARTITION,
) -> Prepared:
    """Read, hash by customer, check and measure the segment retention: all but the features.

    as_of None: the end of the data. Runs Spark jobs (the scan); raises
    DataValidationError when the data breaks the contract.
    """
    raw = raw_tables_of(spark, raw_tables)
    when = last_transaction_day(raw) if as_of is None else pd.Timestamp(as_of)
    when = when.as_unit(TIMESTAMP_UNIT)
    partitions = partition_count(spark, customer_count(raw), customers_per_partition)
    partitioned = by_customer(raw, partitions)
    retention = segment_retention(partitioned, raw.layout, when, churn)
    job = workers.FeatureJob(raw.layout, when, config, churn, retention)
    return Prepared(partitioned, job)


def features_spark(
    spark: SparkSession,
    raw_tables: RawTables,
    as_of: pd.Timestamp | str | None = None,
    *,
    config: FeatureConfig | None = None,
    churn: ChurnConfig | None = None,
    customers_per_partition: int = DEFAULT_CUSTOMERS_PER_PARTITION,
) -> DataFrame:
    """The feature table at `as_of` as a Spark DataFrame: build_features, partition by partition.

    Parameters
    ----------
    spark
        A running SparkSession (e.g. Databricks' `spark`, or spark.session.spark_session).
    raw_tables
        A data folder (local path or Hadoop URI such as s3a://bucket/churn) holding
        <table>.parquet or .csv per table, or DataFrames by table name.
    as_of
        The as-of date T; None: the day after the latest transaction.
    config, churn
        Feature settings and churn definition; the defaults of configs/default.yaml.
    customers_per_partition
        Customers per pandas call (bounds a Python worker's memory).

    Returns
    -------
    One row per customer active at T: customer_id, as_of (timestamp_ntz), then the
    feature columns of build_features in catalog order. Lazy: the checks and the
    segment retention have run, the features run when the DataFrame is used.
    Raises DataValidationError when the data breaks the contract.
    """
    return prepare(
        spark,
        raw_tables,
        as_of,
        config or FeatureConfig(),
        churn or ChurnConfig(),
        customers_per_partition,
    ).features()

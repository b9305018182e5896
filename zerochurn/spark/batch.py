"""Writing what Spark computed: the files of `zerochurn features` and `zerochurn score`.

Spark writes its results in parallel; what the service and monitoring read on this
machine (the snapshot store, the prediction log, scores_<date>.parquet and .csv) is then
written by the driver from those files, one partition at a time, so the driver never
holds every customer at once:

- features: <target> as Spark writes Parquet or CSV (a folder of part files), replaced
  whole;
- scores: <scores_dir>/scores.parquet/as_of=<date>/ (Spark, one partition of the dataset
  per as-of date, replaced on a re-run), the pandas engine's scores_<date>.parquet and
  .csv, the snapshot store (unless it holds a later date) and the prediction log (one
  batch per partition).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pyarrow.parquet as pq
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from zerochurn.configs.settings import Settings
from zerochurn.console import ProgressCallback
from zerochurn.io import atomic_directory, atomic_path
from zerochurn.serving.batch import (
    DATE_FORMAT,
    scores_dir,
    segment_table_of_sums,
    snapshot_info,
    snapshot_plan,
    snapshot_store,
)
from zerochurn.serving.model import ScoringModel
from zerochurn.serving.prediction_log import append_scores
from zerochurn.serving.scoring import PROFILE_COLUMNS, segment_sums
from zerochurn.serving.store import SnapshotWriter
from zerochurn.spark.scoring import SparkScores
from zerochurn.spark.workers import SCORE_PREFIX

SCORES_DATASET = "scores.parquet"
"""Spark's scores in the scores folder: a Parquet dataset partitioned by as_of."""
SUMMARY_COLUMNS = ("risk_tier", "value_at_risk", "contact", "expected_savings")
"""Score columns kept for the command's summary by risk tier."""


def is_local(target: str) -> bool:
    """Whether `target` is a path of this machine (no scheme, or file:)."""
    return urlparse(target).scheme in ("", "file")


def write_frame(frame: DataFrame, target: str) -> str:
    """Write `frame` as Parquet or CSV (by the suffix of `target`) where Spark writes folders.

    A local target is replaced whole and only once complete (io.atomic_directory);
    elsewhere Spark's overwrite applies. CSV gets a header row.
    """
    suffix = Path(urlparse(target).path).suffix
    if suffix not in (".parquet", ".csv"):
        raise ValueError(
            f"{target}: unsupported table format {suffix!r}: expected .parquet or .csv"
        )

    def write(path: str) -> None:
        writer = frame.write.mode("overwrite")
        if suffix == ".csv":
            writer.option("header", True).csv(path)
        else:
            writer.parquet(path)

    if is_local(target):
        local = Path(urlparse(target).path)
        with atomic_directory(local) as staging:
            write(str(staging))
    else:
        write(target)
    return target


@dataclass(frozen=True)
class SparkBatchOutputs:
    """Files written by `write_spark_batch`; snapshot is None when a later one was kept
    (note: why, as `BatchOutputs.note`; removed: always empty, for the same printing).

    summary: SUMMARY_COLUMNS of every score (those the model has), for the command's table.
    """

    dataset: Path
    parquet: Path
    csv: Path
    snapshot: Path | None
    customers: int
    summary: pd.DataFrame
    note: str | None = None
    removed: tuple[Path, ...] = ()


def _parts(folder: Path) -> list[Path]:
    """The Parquet part files Spark wrote to `folder`, in partition order."""
    return sorted(folder.glob("part-*.parquet"))


@contextmanager
def _staged(frame: DataFrame, folder: Path) -> Iterator[Path]:
    """`frame` written by Spark to a temporary folder inside `folder`; removed on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".spark-", dir=folder)) / "rows"
    try:
        frame.write.parquet(str(staging))
        yield staging
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)


def write_spark_batch(
    result: SparkScores,
    model: ScoringModel,
    settings: Settings,
    progress: ProgressCallback | None = None,
    *,
    replace_snapshot: bool = False,
) -> SparkBatchOutputs:
    """Run the scoring and write every output of a batch (module docstring); the snapshot
    store is refreshed as `serving.batch.snapshot_plan` says (replace_snapshot: replace a
    later one).

    The scores reach the prediction log of settings.workspace (source "batch"), one
    batch per Spark partition, as the snapshot store is filled.
    """
    report = progress or (lambda message: None)
    folder = scores_dir(settings)
    date = result.as_of.strftime(DATE_FORMAT)
    plan = snapshot_plan(settings, date, replace=replace_snapshot)
    refresh = plan.write
    report("computing features and scores")
    with _staged(result.frame, folder) as staging:
        spark = result.frame.sparkSession
        report(f"writing {SCORES_DATASET}")
        dataset = folder / SCORES_DATASET
        scores = spark.read.parquet(str(staging)).select(
            *[F.col(f"`{SCORE_PREFIX}{name}`").alias(name) for name in result.scores],
            F.lit(date).cast("date").alias("as_of"),
        )
        scores.write.mode("overwrite").option("partitionOverwriteMode", "dynamic").partitionBy(
            "as_of"
        ).parquet(str(dataset))
        written = _write_local(result, model, settings, staging, folder, date, refresh, report)
    return SparkBatchOutputs(dataset, *written, note=plan.note)


def _write_local(
    result: SparkScores,
    model: ScoringModel,
    settings: Settings,
    staging: Path,
    folder: Path,
    date: str,
    refresh: bool,
    report: ProgressCallback,
) -> tuple[Path, Path, Path | None, int, pd.DataFrame]:
    """The driver's outputs from Spark's part files, one part at a time (module docstring)."""
    parts = _parts(staging)
    parquet, csv = folder / f"scores_{date}.parquet", folder / f"scores_{date}.csv"
    prefixed = [f"{SCORE_PREFIX}{name}" for name in result.scores]
    sums: dict[str, list[pd.DataFrame]] = {}
    summaries = []
    customers = 0
    with ExitStack() as stack:
        parquet_tmp = stack.enter_context(atomic_path(parquet))
        csv_tmp = stack.enter_context(atomic_path(csv))
        snapshot = (
            stack.enter_context(SnapshotWriter(snapshot_store(settings).path)) if refresh else None
        )
        parquet_writer = None
        for number, part in enumerate(parts, start=1):
            report(f"writing scores, snapshot and prediction log ({number} of {len(parts)})")
            table = pq.read_table(part)
            score_arrow = table.select(prefixed).rename_columns(result.scores)
            if parquet_writer is None:
                parquet_writer = stack.enter_context(
                    pq.ParquetWriter(parquet_tmp, score_arrow.schema)
                )
            parquet_writer.write_table(score_arrow)
            features = table.select(result.features).to_pandas()
            scores = score_arrow.to_pandas()
            scores.to_csv(
                csv_tmp, index=False, header=number == 1, mode="w" if number == 1 else "a"
            )
            if snapshot is not None:
                snapshot.add(features, scores)
            append_scores(
                features,
                scores,
                settings.workspace,
                model_version=model.version,
                source="batch",
                scored_at=result.scored_at,
                config=settings.monitoring,
                schema=model.log_schema,
            )
            for column in PROFILE_COLUMNS:
                if column in scores:
                    sums.setdefault(column, []).append(segment_sums(scores, column))
            summaries.append(scores.loc[:, [c for c in SUMMARY_COLUMNS if c in scores]])
            customers += len(scores)
        if parquet_writer is None:
            raise ValueError(f"no customer is active at {date}: nothing to score")
        if snapshot is not None:
            totals = {
                column: pd.concat(parts).groupby(level=0).sum() for column, parts in sums.items()
            }
            segments = segment_table_of_sums(totals, model.card.reference_churn_rate)
            snapshot.finish(segments, snapshot_info(model, date, result.scored_at, customers))
    stored = snapshot_store(settings).path if refresh else None
    return parquet, csv, stored, customers, pd.concat(summaries, ignore_index=True)

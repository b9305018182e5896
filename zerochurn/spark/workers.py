"""What Spark's Python workers run: one pandas call per partition of customers.

Each function takes the partition's Arrow batches as pandas frames (mapInPandas), makes
one frame of them and calls the same functions as the pandas engine: the contract's
normalisation and checks, features.build.build_features, serving.scoring.score_columns.
They live in the zerochurn package because workers import them by name (a function of a
script or test module would not be found there). No pyspark import: only pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pandas as pd

from zerochurn.configs.settings import (
    ChurnConfig,
    FeatureConfig,
    ServingConfig,
    ValueFunctionConfig,
)
from zerochurn.contract.dataset import RawData
from zerochurn.contract.validate import DataValidationError, normalised_column
from zerochurn.features.build import build_features
from zerochurn.features.population import customer_history
from zerochurn.features.retention import segment_exposure
from zerochurn.model.champion import ChampionVersion
from zerochurn.spark.layout import RawLayout, partition_raw

SCORE_PREFIX = "score__"
"""Score columns ride beside the feature columns under this prefix (customer_value is both)."""
PROBLEM, EXPOSURE = "problem", "exposure"
"""Kinds of row `scan` yields."""
SCAN_COLUMNS = {
    "kind": "string",
    "table": "string",
    "column": "string",
    "file": "string",
    "message": "string",
    "count": "long",
    "segment": "string",
    "exposure": "double",
    "departed": "double",
}
"""Schema of `scan`'s rows: a contract problem, or a segment's exposure."""


def one_frame(batches: Iterable[pd.DataFrame]) -> pd.DataFrame | None:
    """The partition's batches as one frame (RangeIndex), None for an empty partition."""
    frames = list(batches)
    return pd.concat(frames, ignore_index=True) if frames else None


def single_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every Arrow-backed column in one chunk, as pyspark 4.3 needs.

    pyspark 4.3.0 builds output batches with pa.RecordBatch.from_arrays, which fails
    ("Cannot convert pyarrow.lib.ChunkedArray to pyarrow.lib.Array") on a pandas 3 `str`
    column of several chunks, as pd.concat of input batches makes (SPARK-58625).
    """
    columns = {}
    for name, values in frame.items():
        array = values.array
        if hasattr(array, "__arrow_array__") and not isinstance(values.dtype, pd.CategoricalDtype):
            arrow = array.__arrow_array__()
            if getattr(arrow, "num_chunks", 1) > 1:
                values = pd.Series(
                    pd.array(arrow.combine_chunks(), dtype=values.dtype), index=values.index
                )
        columns[name] = values
    return pd.DataFrame(columns, index=frame.index)


def last_transaction(
    batches: Iterable[pd.DataFrame], column: str, nanos: bool
) -> Iterator[pd.DataFrame]:
    """The latest transaction date of the partition (one row, `last`; NaT when none).

    batches: the transactions' date column `column` as read; nanos: it holds int64
    nanoseconds (spark/tables.py).
    """
    frame = one_frame(batches)
    if frame is None:
        return
    values = frame[column]
    if nanos:
        values = pd.to_datetime(values.astype("Int64"), unit="ns")
    dates = normalised_column("transactions", "date", values)
    yield pd.DataFrame({"last": [dates.max()]}).astype({"last": "datetime64[us]"})


PANDAS_TYPES = {"string": "str", "long": "Int64", "double": "float64"}
"""The pandas dtype of each Spark type of SCAN_COLUMNS."""


def _scan_rows(columns: dict[str, object]) -> pd.DataFrame:
    """Rows of SCAN_COLUMNS (absent ones missing), each column of its own dtype.

    A column of the wrong dtype (NaN floats for text) would fail pyspark's conversion.
    """
    frame = pd.DataFrame(columns, columns=list(SCAN_COLUMNS))
    return single_chunk(
        frame.astype({name: PANDAS_TYPES[kind] for name, kind in SCAN_COLUMNS.items()})
    )


def scan(
    batches: Iterable[pd.DataFrame], layout: RawLayout, as_of: pd.Timestamp, churn: ChurnConfig
) -> Iterator[pd.DataFrame]:
    """Check a partition's customers against the contract and sum their segment exposure.

    Yields rows of SCAN_COLUMNS: one per contract problem (kind PROBLEM) or, when there
    is none, one per segment (kind EXPOSURE) with retention.segment_exposure's sums at
    as_of, which add up over partitions to the exposure of all customers.
    """
    frame = one_frame(batches)
    if frame is None:
        return
    raw, problems = partition_raw(frame, layout)
    if raw is None:
        yield _scan_rows(
            {
                "kind": PROBLEM,
                "table": [problem.table for problem in problems],
                "column": [problem.column for problem in problems],
                "file": [problem.file for problem in problems],
                "message": [problem.message for problem in problems],
                "count": [problem.count for problem in problems],
            }
        )
        return
    history = customer_history(raw.customers, raw.transactions, as_of=as_of, churn=churn)
    exposure = segment_exposure(history, as_of=as_of)
    yield _scan_rows(
        {
            "kind": EXPOSURE,
            "segment": exposure.index.astype("str"),
            "exposure": exposure["exposure"].to_numpy(),
            "departed": exposure["departed"].to_numpy(),
        }
    )


def _raw(frame: pd.DataFrame, layout: RawLayout) -> RawData:
    """The partition's RawData; the scan found no problem, so one now is a bug: raise it."""
    raw, problems = partition_raw(frame, layout)
    if raw is None:
        raise DataValidationError(problems)
    return raw


@dataclass(frozen=True)
class FeatureJob:
    """What a features partition needs besides its rows: all of it small, shipped to every task.

    retention: segment_monthly_retention of all customers at as_of (spark/scan.py).
    """

    layout: RawLayout
    as_of: pd.Timestamp
    config: FeatureConfig
    churn: ChurnConfig
    retention: pd.Series

    def features(self, raw: RawData) -> pd.DataFrame:
        """build_features of `raw` with the retention of all customers."""
        return build_features(raw, self.as_of, self.config, self.churn, retention=self.retention)


def features(batches: Iterable[pd.DataFrame], job: FeatureJob) -> Iterator[pd.DataFrame]:
    """The feature table of a partition's customers (build_features), one frame."""
    frame = one_frame(batches)
    if frame is None:
        return
    yield single_chunk(job.features(_raw(frame, job.layout)))


@dataclass(frozen=True)
class ModelRef:
    """The champion by its model files, which every worker loads once (`worker_model`)."""

    location: str
    found: ChampionVersion


_models: dict[str, object] = {}
"""ScoringModel per model location, loaded once per Python worker process."""


def remember_model(ref: ModelRef, model: object) -> None:
    """Use `model` (already loaded) for `ref` in this process."""
    _models[ref.location] = model


def worker_model(ref: ModelRef):
    """The ScoringModel at ref.location, loaded on the first call in this process."""
    if ref.location not in _models:
        from zerochurn.model.registry import load_champion_from
        from zerochurn.serving.model import ScoringModel

        champion = load_champion_from(ref.location, ref.found)
        _models[ref.location] = ScoringModel.from_champion(champion, source="mlflow")
    return _models[ref.location]


@dataclass(frozen=True)
class ScoreJob:
    """A FeatureJob plus what scoring takes: the champion and the serving settings."""

    features: FeatureJob
    model: ModelRef
    serving: ServingConfig
    value_function: ValueFunctionConfig
    scored_at: str


def score_frame(features_table: pd.DataFrame, job: ScoreJob) -> pd.DataFrame:
    """Feature rows and their scores (score_columns, SCORE_PREFIX) side by side."""
    from zerochurn.serving.scoring import score_columns

    scores = score_columns(
        features_table,
        worker_model(job.model),
        job.serving,
        job.value_function,
        scored_at=job.scored_at,
    )
    prefixed = pd.DataFrame(
        {f"{SCORE_PREFIX}{name}": values for name, values in scores.items()},
        index=features_table.index,
    )
    return pd.concat([features_table, prefixed], axis=1)


def scores(batches: Iterable[pd.DataFrame], job: ScoreJob) -> Iterator[pd.DataFrame]:
    """Features and scores of a partition's customers: one build_features, one score_columns."""
    frame = one_frame(batches)
    if frame is None:
        return
    table = job.features.features(_raw(frame, job.features.layout))
    yield single_chunk(score_frame(table, job))

"""Batch scores on Spark: features and scores of every active customer, partition by partition.

`score_spark` adds to features_spark's partitions the scoring the pandas engine does
(serving.scoring.score_columns: probability, churn index, tier, value, reasons), in the
same pandas call per partition. Every Python worker loads the champion once, from its
MLflow model files (model.registry.load_champion_from), so executors need no access to
the registry, only to the artifact store. The result is lazy; spark/batch.py writes it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from zerochurn.configs.settings import Settings
from zerochurn.model.registry import find_champion, load_champion_from, model_location
from zerochurn.serving.model import ScoringModel
from zerochurn.spark import workers
from zerochurn.spark.features import prepare, spark_schema
from zerochurn.spark.tables import RawTables


@dataclass(frozen=True)
class SparkChampion:
    """The champion on the driver (ScoringModel) and where workers load it from."""

    model: ScoringModel
    ref: workers.ModelRef


def load_spark_champion(settings: Settings) -> SparkChampion:
    """The MLflow champion, loaded from its model files as the workers will load it.

    Raises model.champion.ModelUnavailableError when there is none.
    """
    found = find_champion(settings)
    location = model_location(settings, found)
    model = ScoringModel.from_champion(load_champion_from(location, found), source="mlflow")
    return SparkChampion(model, workers.ModelRef(location, found))


@dataclass(frozen=True)
class SparkScores:
    """Features and scores of every customer active at as_of, one Spark row per customer.

    frame: the feature columns, then each score column c as workers.SCORE_PREFIX + c;
    features / scores: the column names of each table, in the pandas engine's order.
    """

    frame: DataFrame
    as_of: pd.Timestamp
    scored_at: str
    features: list[str]
    scores: list[str]

    def score_table(self) -> DataFrame:
        """The score table (serving.scoring.score_features' columns) as a DataFrame."""
        return self.frame.select(
            *[F.col(f"`{workers.SCORE_PREFIX}{name}`").alias(name) for name in self.scores]
        )

    def feature_table(self) -> DataFrame:
        """The feature table (features_spark's columns) as a DataFrame."""
        return self.frame.select(*[F.col(f"`{name}`") for name in self.features])


def score_spark(
    spark: SparkSession,
    raw_tables: RawTables,
    settings: Settings,
    as_of: pd.Timestamp | str | None = None,
    *,
    scored_at: str,
    champion: SparkChampion | None = None,
) -> SparkScores:
    """Features and scores at `as_of` of every customer active then, as the pandas engine's.

    Parameters
    ----------
    spark
        A running SparkSession.
    raw_tables
        A data folder (path or Hadoop URI) or DataFrames by table name (features_spark).
    settings
        Feature, serving and engine settings, and the MLflow store of the champion.
    as_of
        The as-of date; None: the day after the latest transaction.
    scored_at
        ISO time the scores carry (serving.batch.now_utc()).
    champion
        The champion to score with; by default `load_spark_champion(settings)`.

    Who is active follows the churn definition the champion was trained under. Lazy: the
    checks and the segment retention have run; scoring runs when the frame is used.
    Raises DataValidationError, or ModelUnavailableError without a champion.
    """
    champion = champion or load_spark_champion(settings)
    prepared = prepare(
        spark,
        raw_tables,
        as_of,
        settings.features,
        champion.model.churn_config(settings.churn),
        settings.engine.customers_per_partition,
    )
    job = workers.ScoreJob(
        prepared.job,
        champion.ref,
        settings.serving,
        settings.features.value_function,
        scored_at,
    )
    workers.remember_model(champion.ref, champion.model)  # the driver's schema run reuses it
    empty_features = prepared.empty_features
    empty = workers.score_frame(empty_features, job)
    frame = prepared.partitioned.mapInPandas(
        functools.partial(workers.scores, job=job), schema=spark_schema(empty)
    )
    scores = [
        name.removeprefix(workers.SCORE_PREFIX)
        for name in empty.columns[len(empty_features.columns) :]
    ]
    return SparkScores(frame, prepared.job.as_of, scored_at, list(empty_features.columns), scores)

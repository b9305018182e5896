"""The Spark engine gives the pandas engine's features and scores for every customer.

One Spark session (local[2], C1 JIT only: a third less start-up) serves the module; the
command-line run starts its own in a subprocess. The world is the fixed world of
tests/fixed_world.py with a champion trained on it. Partitions of 300 customers make
several partitions, some of more than one Arrow batch (10,000 rows).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from fixed_world import fixed_world
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

from zerochurn.cli import app
from zerochurn.configs.settings import ChurnConfig, EngineConfig
from zerochurn.contract.validate import DataValidationError, load_raw
from zerochurn.features.build import build_features
from zerochurn.io import write_table
from zerochurn.serving import prediction_log
from zerochurn.spark.features import features_spark
from zerochurn.spark.sample import sample_customers
from zerochurn.spark.session import spark_session

pytestmark = pytest.mark.slow

PER_PARTITION = 300
TEST_JAVA_OPTIONS = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1"}
TOLERANCE = {"check_exact": False, "rtol": 1e-9, "atol": 1e-9}
"""Values to 1e-9: sums over a customer's rows may add up in another order on Spark."""
SPARK_SETTINGS = [
    "--set",
    "engine.spark_master=local[2]",
    "--set",
    f"engine.customers_per_partition={PER_PARTITION}",
    "--set",
    "engine.spark_driver_memory=1g",
    "--set",
    'engine.spark_conf={"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1"}',
]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return fixed_world(tmp_path_factory.mktemp("spark-world"))


@pytest.fixture(scope="module")
def spark():
    engine = EngineConfig(
        spark_master="local[2]", spark_driver_memory="1g", spark_conf=TEST_JAVA_OPTIONS
    )
    with spark_session(engine) as session:
        yield session


def by_customer(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("customer_id").reset_index(drop=True)


def test_features_on_spark_equal_the_pandas_engine_for_every_customer(world, spark):
    settings, raw = world
    as_of = raw.end - pd.DateOffset(months=2)
    got = features_spark(
        spark,
        str(settings.data_dir),
        as_of,
        config=settings.features,
        churn=settings.churn,
        customers_per_partition=PER_PARTITION,
    ).toPandas()
    want = build_features(raw, as_of, settings.features, settings.churn)
    assert len(want) > 2 * PER_PARTITION
    assert_frame_equal(by_customer(got), by_customer(want), **TOLERANCE)


def test_csv_tables_and_a_transaction_log_read_as_the_pandas_engine_reads_them(
    world, spark, tmp_path
):
    settings, raw = world
    for name in ("customers", "transactions", "surveys"):
        frame = getattr(raw, name)
        if name == "customers":  # the pandas reader's null markers are null on Spark too
            frame = frame.assign(plan=frame["plan"].astype(object).where(frame.index % 7 > 0, "NA"))
        write_table(frame, tmp_path / "csv" / f"{name}.csv")
    write_table(raw.transactions, tmp_path / "log" / "transactions.parquet")
    inactivity = ChurnConfig(definition="inactivity", inactivity_days=60, horizon_days=60)
    for folder, churn in (("csv", settings.churn), ("log", inactivity)):
        local = load_raw(tmp_path / folder)
        got = features_spark(
            spark, str(tmp_path / folder), churn=churn, customers_per_partition=PER_PARTITION
        ).toPandas()
        want = build_features(local, local.end, settings.features, churn)
        assert_frame_equal(by_customer(got), by_customer(want), **TOLERANCE)


def test_contract_problems_on_spark_name_the_customers(world, spark, tmp_path):
    _, raw = world
    customers = raw.customers.head(40)
    ids = customers["customer_id"].tolist()
    transactions = raw.transactions[raw.transactions["customer_id"].isin(ids)]
    surveys = raw.surveys[raw.surveys["customer_id"].isin(ids)].astype({"score": object})
    surveys.loc[surveys.index[:3], "score"] = "E"
    unknown = transactions.head(1).assign(customer_id="NOBODY")
    write_table(customers, tmp_path / "customers.csv")
    write_table(pd.concat([transactions, unknown]), tmp_path / "transactions.csv")
    write_table(surveys.rename(columns={"score": "grade"}), tmp_path / "surveys.csv")
    with pytest.raises(DataValidationError) as raised:
        features_spark(spark, str(tmp_path), customers_per_partition=PER_PARTITION)
    problems = {(problem.table, problem.column): problem for problem in raised.value.problems}
    grade = problems["surveys", "grade"]
    assert grade.count == 3 and grade.file == "surveys.csv"
    assert "'E' in 3 rows of customer_id" in grade.message or "rows in all" in grade.message
    assert "expected A, B, C, D or 100, 75, 50, 25" in grade.message
    unknown_id = problems["transactions", "customer_id"]
    assert "customer_id 'NOBODY'" in unknown_id.message
    assert unknown_id.message.endswith("expected a customer_id of customers")


def test_a_sample_holds_every_row_of_the_customers_drawn(world, spark, tmp_path):
    settings, raw = world
    drawn = sample_customers(spark, str(settings.data_dir), 200, str(tmp_path / "sample"), seed=3)
    sample = load_raw(tmp_path / "sample")
    ids = set(sample.customers["customer_id"])
    assert 100 < len(ids) < 300
    assert drawn.rows["customers"] == len(ids)
    for name in ("transactions", "surveys", "complaints"):
        full = getattr(raw, name)
        mine = full[full["customer_id"].isin(ids)]
        assert len(getattr(sample, name)) == len(mine) == drawn.rows[name]
    again = sample_customers(spark, str(settings.data_dir), 200, str(tmp_path / "again"), seed=3)
    assert again.rows == drawn.rows


def _snapshot(path: Path, table: str) -> pd.DataFrame:
    with sqlite3.connect(path) as connection:
        frame = pd.read_sql(f"SELECT * FROM {table}", connection)
    return by_customer(frame) if "customer_id" in frame else frame


def test_zerochurn_score_with_spark_writes_the_pandas_engines_outputs(world, tmp_path):
    settings, raw = world
    date = f"{raw.end:%Y-%m-%d}"
    base = ["--workspace", str(settings.workspace)]
    pandas_dir, spark_dir = tmp_path / "pandas", tmp_path / "spark"
    result = CliRunner().invoke(
        app, [*base, "--set", f"serving.scores_dir={pandas_dir}", "score"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    command = [sys.executable, "-m", "zerochurn.cli", *base, *SPARK_SETTINGS]
    command += ["--set", f"serving.scores_dir={spark_dir}", "score", "--engine", "spark"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert "refreshed the snapshot store" in done.stderr

    volatile = ["scored_at"]
    pandas_scores = pd.read_parquet(pandas_dir / f"scores_{date}.parquet")
    spark_scores = pd.read_parquet(spark_dir / f"scores_{date}.parquet")
    assert_frame_equal(
        by_customer(spark_scores).drop(columns=volatile),
        by_customer(pandas_scores).drop(columns=volatile),
        **TOLERANCE,
    )
    csv = pd.read_csv(spark_dir / f"scores_{date}.csv")
    assert_frame_equal(
        by_customer(csv).drop(columns=volatile),
        by_customer(pd.read_csv(pandas_dir / f"scores_{date}.csv")).drop(columns=volatile),
        **TOLERANCE,
    )
    dataset = pd.read_parquet(spark_dir / "scores.parquet")
    assert dataset["as_of"].astype(str).unique().tolist() == [date]
    assert sorted(dataset["customer_id"]) == sorted(pandas_scores["customer_id"])
    for table in ("features", "scores", "segments"):
        assert_frame_equal(
            _snapshot(spark_dir / "snapshot.sqlite", table).drop(columns=volatile, errors="ignore"),
            _snapshot(pandas_dir / "snapshot.sqlite", table).drop(
                columns=volatile, errors="ignore"
            ),
            **TOLERANCE,
        )
    logged = prediction_log.read(prediction_log.log_directory(settings.workspace))
    batches = logged.groupby("scored_at")["customer_id"].agg(["size", "nunique"])
    assert (batches["size"] == len(pandas_scores)).all() and len(batches) == 2

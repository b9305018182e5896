"""Kill tests: real `zerochurn` processes killed with SIGKILL at named points
(ZEROCHURN_CRASH_AT, zerochurn/crash.py), then what they left checked and the next run
shown to recover: the registry's champion, training runs, batch scores and the snapshot
store. Bad dates and a damaged store are in the same trained workspace.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from typer.testing import CliRunner

from zerochurn.cli import app
from zerochurn.configs import Settings, load_settings
from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.validate import load_raw
from zerochurn.crash import CRASH_AT_ENV
from zerochurn.model.registry import (
    UNRECORDED,
    ChampionRegistry,
    configure,
    find_champion,
)
from zerochurn.serving import prediction_log
from zerochurn.serving.batch import scores_dir, segment_table, snapshot_store
from zerochurn.serving.store import SnapshotInfo, write_snapshot
from zerochurn.synthetic import generate_world, write_world
from zerochurn.training.data import build_snapshots
from zerochurn.training.gate import GateDecision
from zerochurn.training.tracking import ENDED_TAG, PID_TAG
from zerochurn.training.train import train_and_register

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pathspec")  # bentoml's

HANG_GUARD_SECONDS = 600
"""A `zerochurn` subprocess still running after this is stuck, not slow."""
KILLED = -signal.SIGKILL


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Settings:
    """A workspace with a small world, a champion (version 1) and batch scores."""
    workspace = tmp_path_factory.mktemp("crash-base")
    settings = _settings(workspace)
    world = generate_world(GenerateConfig(customers=1500, months=13, seed=7), horizon_days=90)
    data_dir = write_world(world, settings.data_dir)
    outcome = train_and_register(
        build_snapshots(load_raw(data_dir), settings), settings, data_dir=data_dir
    )
    if outcome.champion is None:  # a tiny world may not beat the baseline: promote by hand
        _registry(settings).promote(outcome.version, reason="test set-up")
    _cli(settings, "score")
    return settings


def _settings(workspace: Path) -> Settings:
    overrides = {"workspace": str(workspace), "training.train_snapshots": 4}
    return load_settings(overrides=overrides, environ={})


@pytest.fixture
def copy(base, tmp_path) -> Settings:
    """A copy of the base workspace for one test to change (MLflow's artifacts are shared)."""
    shutil.copytree(base.workspace, tmp_path / "workspace")
    return _settings(tmp_path / "workspace")


def _registry(settings: Settings) -> ChampionRegistry:
    return ChampionRegistry(configure(settings), settings.mlflow.registered_model)


def _cli(settings: Settings, *args: str, code: int = 0) -> str:
    """`zerochurn` in this process; its output with lines joined."""
    argv = ["--workspace", str(settings.workspace), *args]
    result = CliRunner().invoke(app, argv, env={"COLUMNS": "250"})  # no wrapped table cells
    output = " ".join(result.output.split())
    assert result.exit_code == code, output + repr(result.exception)
    return output


def _killed_at(settings: Settings, point: str, *args: str) -> None:
    """Run `zerochurn ARGS` in a real process that kills itself with SIGKILL at `point`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROCHURN_", "MLFLOW_"))}
    env |= {CRASH_AT_ENV: point, "BENTOML_DO_NOT_TRACK": "true"}
    argv = [sys.executable, "-m", "zerochurn.cli", "--workspace", str(settings.workspace), *args]
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=HANG_GUARD_SECONDS, check=False
    )
    assert done.returncode == KILLED, done.stdout + done.stderr


# --- the registry: the champion alias is the truth, the history follows it ---


def _second_version(settings: Settings) -> str:
    """Register the champion's model again as version 2, as if a challenger passed the gate."""
    registry = _registry(settings)
    champion = find_champion(settings)
    source = registry.client.get_model_version(champion.name, champion.version).source
    gate = GateDecision(True, "champion", ("test: a challenger that passed",))
    return str(registry.register(source, gate=json.dumps(asdict(gate))).version)


def test_a_promotion_killed_after_the_alias_moved_leaves_one_champion(copy):
    """Once the history was written first: killed before the alias moved, `models` named
    the new version, the service loaded the old one, and rollback did nothing."""
    registry = _registry(copy)
    first = find_champion(copy).version
    second = _second_version(copy)
    recorded = len(registry.events())
    _killed_at(copy, "registry:alias-moved", "promote", second)

    assert find_champion(copy).version == second  # what the service loads
    assert len(registry.events()) == recorded  # the record lags behind
    summaries = {summary.version: summary for summary in registry.summaries()}
    assert summaries[second].champion_periods == [(None, None)]  # champion now, start unknown
    assert summaries[first].champion_periods[-1][1] is None  # ended by the unrecorded change
    assert "(not recorded) .. now" in _cli(copy, "models")

    # Run again, the promotion records itself once, with its reason.
    assert "champion is now version 2 (again)" in _cli(copy, "promote", second, "--reason", "again")
    assert [(e.version, e.reason) for e in registry.events()[recorded:]] == [(second, "again")]
    assert "already the champion: nothing changed" in _cli(copy, "promote", second)
    assert len(registry.events()) == recorded + 1

    _cli(copy, "rollback")
    assert find_champion(copy).version == first
    assert registry.champion_stack() == [first]


def test_a_rollback_killed_after_the_alias_moved_is_recorded_by_the_next_change(copy):
    registry = _registry(copy)
    first = find_champion(copy).version
    second = _second_version(copy)
    registry.promote(second, reason="test: second")
    _killed_at(copy, "registry:alias-moved", "rollback")
    assert find_champion(copy).version == first
    assert registry.history()[-1].reason == UNRECORDED

    registry.promote(second, reason="test: third")  # records the rollback, then itself
    actions = [(e.action, e.version, e.at is None) for e in registry.events()[-3:]]
    assert actions == [
        ("promote", second, False),
        ("promote", first, True),
        ("promote", second, False),
    ]
    assert registry.rollback(reason="test").version == first


def test_a_killed_train_run_is_closed_by_the_next_train(copy):
    """A train killed inside its MLflow run left the run RUNNING for ever."""
    experiment = mlflow.MlflowClient(copy.tracking_uri).get_experiment_by_name(
        copy.mlflow.experiment
    )

    def running() -> dict[str, str]:
        runs = mlflow.MlflowClient(copy.tracking_uri).search_runs(
            [experiment.experiment_id], filter_string="attributes.status = 'RUNNING'"
        )
        return {run.info.run_id: run.data.tags[PID_TAG] for run in runs}

    assert running() == {}
    _killed_at(copy, "train:run-started", "train")
    [abandoned] = running()
    _killed_at(copy, "train:run-started", "train")  # the next train closes it first
    [(later, _)] = running().items()
    assert later != abandoned
    closed = mlflow.MlflowClient(copy.tracking_uri).get_run(abandoned)
    assert closed.info.status == "KILLED"
    assert "ended without closing this run" in closed.data.tags[ENDED_TAG]


@pytest.mark.parametrize(
    ("point", "aliases"),
    [("registry:registered", ()), ("train:registered", ("challenger",))],
)
def test_a_train_killed_after_registering_leaves_its_gate_decision_in_models(copy, point, aliases):
    """A killed train once left a version without gate record; refusals never showed.
    Killed before the challenger alias moved, the version still has its record."""
    crippled = ("--set", "training.lightgbm.num_boost_round=1")
    _killed_at(
        copy,
        point,
        *crippled,
        "--set",
        "training.lightgbm.learning_rate=0.001",
        "train",
    )
    registry = _registry(copy)
    newest = registry.summaries()[0]
    assert newest.version == "2" and newest.gate is not None and not newest.gate.passed
    assert newest.aliases == aliases
    assert find_champion(copy).version == "1"
    output = _cli(copy, "models")
    assert "refused vs champion" in output
    assert "version 2 refused by the gate: - ROC-AUC" in output


# --- batch scores and the snapshot store ---


def test_score_killed_before_a_rename_leaves_a_temp_file_the_next_score_removes(copy):
    before = snapshot_store(copy).info()
    _killed_at(copy, "before-rename:snapshot.sqlite", "score")
    [left] = scores_dir(copy).glob(".snapshot.sqlite.*.tmp")
    assert snapshot_store(copy).info() == before  # the old store is whole and untouched
    output = _cli(copy, "score")
    assert f"removed temporary files an interrupted run left: {left.name}" in output
    assert list(scores_dir(copy).glob(".*.tmp")) == []


def test_score_killed_after_the_snapshot_refresh_has_logged_that_batch(copy):
    _killed_at(copy, "batch:snapshot-refreshed", "score")
    info = snapshot_store(copy).info()
    logged = prediction_log.read(prediction_log.log_directory(copy.workspace))
    batch = logged[logged["scored_at"] == pd.Timestamp(info.scored_at)]
    assert len(batch) == info.customers and set(batch["source"]) == {"batch"}


def test_a_damaged_snapshot_store_is_named_then_rebuilt_by_the_next_score(copy, tmp_path):
    store = snapshot_store(copy)
    store.path.write_bytes(b"\x00garbage" * 4096)
    output = _cli(copy, "at-risk", "--out", str(tmp_path / "list.csv"), code=1)
    assert f"the snapshot store {store.path} is unusable" in output
    assert "run zerochurn score" in output and "Traceback" not in output
    output = _cli(copy, "score")
    assert "rebuilt the snapshot store from this batch" in output
    assert store.check().customers > 0
    _cli(copy, "at-risk", "--out", str(tmp_path / "list.csv"))


# --- dates after the data's as-of date ---


def _snapshot_dated(settings: Settings, as_of: str) -> None:
    """Rewrite the snapshot store with the same batch, dated `as_of` (as the old code let a
    future-dated transaction do)."""
    store = snapshot_store(settings)
    info = store.info()
    scores = pd.read_parquet(next(scores_dir(settings).glob("scores_*.parquet")))
    write_snapshot(
        store.path,
        features=store.features(scores["customer_id"]),
        scores=scores,
        segments=segment_table(scores, info.reference_churn_rate),
        info=SnapshotInfo(**{**asdict(info), "as_of": as_of}),
    )


def test_future_transactions_are_refused_and_never_lock_the_snapshot_store(copy):
    """Three transactions dated 2031 once made `score` score everyone at 2031-06-02 and
    every correct run after it keep that snapshot."""
    data = copy.data_dir
    transactions = pd.read_parquet(data / "transactions.parquet")
    future = transactions.head(3).assign(date=pd.Timestamp("2031-06-01"))
    bad = copy.workspace / "bad-data"
    shutil.copytree(data, bad)
    pd.concat([transactions, future], ignore_index=True).to_parquet(
        bad / "transactions.parquet", index=False
    )
    output = _cli(copy, "score", str(bad), code=1)
    assert "transactions.date (transactions.parquet): 2031-06-01 in rows" in output
    assert "(3 rows): expected a date on or before the data's as-of date" in output

    for engine in ("pandas", "spark"):  # Spark is refused before it starts
        for command in ("score", "features"):
            output = _cli(copy, command, "--engine", engine, "--as-of", "2031-06-02", code=2)
            assert "2031-06-02 is after" in output

    # A snapshot left at 2031-06-02 (by the old code) is replaced by the next correct run.
    latest = snapshot_store(copy).info().as_of
    _snapshot_dated(copy, "2031-06-02")
    output = _cli(copy, "score")
    assert "replaced the snapshot dated 2031-06-02" in output
    assert snapshot_store(copy).info().as_of == latest


def test_an_earlier_date_keeps_the_later_snapshot_unless_asked(copy):
    store = snapshot_store(copy)
    latest = store.info().as_of
    earlier = (pd.Timestamp(latest) - pd.DateOffset(months=1)).strftime("%Y-%m-%d")
    output = _cli(copy, "score", "--as-of", earlier)
    assert f"kept the snapshot store: it holds the later date {latest}" in output
    assert store.info().as_of == latest
    output = _cli(copy, "score", "--as-of", earlier, "--replace-snapshot")
    assert f"replaced the snapshot of the later date {latest}, as asked" in output
    assert store.info().as_of == earlier

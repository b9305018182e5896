"""Stopping a command (Ctrl-C, SIGTERM) ends its MLflow runs as KILLED, never RUNNING.

A real `zerochurn train --tune` process is signalled between tuning trials (each logged as
a nested run when it ends), while its training run is open;
its runs are then read back from the MLflow store.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

pytestmark = pytest.mark.slow

CONFIG = {
    "generate": {"customers": 800, "months": 13, "seed": 21},
    "training": {"train_snapshots": 4},
}
WAIT_SECONDS = 600
"""Longest wait for the run to open and for the process to stop (a slow, busy machine)."""
POLL_SECONDS = 0.5


def _command(tmp_path: Path, workspace: Path, *args: str) -> list[str]:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    return [sys.executable, "-m", "zerochurn.cli", "--config", str(config)] + [
        "--workspace",
        str(workspace),
        *args,
    ]


def _environ() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCHURN_")}
    return clean | {"BENTOML_DO_NOT_TRACK": "true"}


def _open_runs(workspace: Path) -> dict[str, str]:
    """Status of every run by name while the other process writes the store, read-only
    (a client here could race the other process creating the store's tables)."""
    database = workspace / "mlflow" / "mlflow.db"
    if not database.is_file():
        return {}
    try:
        with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as connection:
            return dict(connection.execute("SELECT name, status FROM runs").fetchall())
    except sqlite3.OperationalError:  # no runs table yet, or the writer holds the lock
        return {}


def _runs(workspace: Path) -> dict[str, str]:
    """Status of every run of the training experiment by name, through MLflow."""
    client = MlflowClient(tracking_uri=f"sqlite:///{workspace / 'mlflow' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("zerochurn")
    return {
        run.info.run_name: run.info.status for run in client.search_runs([experiment.experiment_id])
    }


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("interrupt")
    workspace = folder / "ws"
    subprocess.run(
        _command(folder, workspace, "generate"), env=_environ(), check=True, capture_output=True
    )
    return workspace / "data"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stopped_training_ends_its_runs_as_killed(data_dir, tmp_path, signum):
    workspace = tmp_path / "ws"
    process = subprocess.Popen(
        _command(tmp_path, workspace, "train", str(data_dir), "--tune", "50"),
        env=_environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # a shell may start background jobs with SIGINT ignored; Ctrl-C must reach this one
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        # a trial's run opens, gets its figures and closes: signal once trial-1 is closed
        while _open_runs(workspace).get("trial-1") != "FINISHED":
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "no trial run logged"
            time.sleep(POLL_SECONDS)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr  # Typer's exit code for an interrupt
    assert "stopped training after" in stderr
    runs = _runs(workspace)
    (parent,) = [name for name in runs if name.startswith("train as-of")]
    assert runs[parent] == "KILLED"
    assert runs["trial-1"] == "FINISHED"
    assert "RUNNING" not in runs.values()

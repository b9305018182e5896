"""How a training run's data, figures and model are logged to MLflow.

training/ is the only package that writes models and their runs; this module is where it
does, into the run train.py starts. Where runs go (the tracking URI and experiment) is set
by model/registry.py's `configure`, the one place that points MLflow at its store.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import mlflow
import pandas as pd
from matplotlib.figure import Figure
from mlflow import ActiveRun, MlflowClient
from mlflow.models import infer_signature
from mlflow.types.schema import AnyType, ColSpec, Schema

from zerochurn.configs.settings import LightGBMConfig
from zerochurn.contract.schema import TABLE_SUFFIXES, TABLES
from zerochurn.model.pyfunc import ChurnPyfunc
from zerochurn.model.registry import end_status, provenance_tags
from zerochurn.training.families import FamilyFit
from zerochurn.training.steps import Candidates

MODEL_ARTIFACT = "model"
PID_TAG = "zerochurn.pid"
HOST_TAG = "zerochurn.host"
PARENT_TAG = "mlflow.parentRunId"
ENDED_TAG = "zerochurn.ended"
HASH_CHUNK_BYTES = 1 << 20
SERVED_PACKAGES = ("lightgbm", "scikit-learn", "pandas", "numpy", "pyarrow", "mlflow")


@contextmanager
def tracked_run(run_name: str, *, nested: bool = False) -> Iterator[ActiveRun]:
    """`mlflow.start_run` that never leaves its run RUNNING when the work stops early.

    An interruption (Ctrl-C, or SIGTERM, which the CLI raises as a KeyboardInterrupt)
    ends the run as KILLED, any other exception as FAILED (`registry.end_status`), and
    the exception goes on. Runs are tagged with the zerochurn version and, in a git
    checkout, the commit (`provenance_tags`), and with the pid and host of the process
    (`process_tags`), so that a run left RUNNING by a killed process (SIGKILL ends it
    before it can end its run) is closed by the next training (`close_abandoned_runs`).
    """
    tags = provenance_tags() | process_tags()
    with mlflow.start_run(run_name=run_name, nested=nested, tags=tags) as run:
        try:
            yield run
        except BaseException as error:
            mlflow.end_run(end_status(error))
            raise


def process_tags() -> dict[str, str]:
    """Tags naming the process that runs a training run: its pid and host."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _gone(pid: int) -> bool:
    """Whether no process `pid` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process
        return False
    return False


def close_abandoned_runs(client: MlflowClient, experiment: str) -> list[str]:
    """Mark KILLED the runs of `experiment` left RUNNING by a training process of this
    host that no longer exists (killed: MLflow could not end its run), with their nested
    runs; the ids closed.

    Runs of other hosts, or of a process still alive, are left alone.
    """
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    running = client.search_runs(
        [found.experiment_id], filter_string="attributes.status = 'RUNNING'"
    )
    host = socket.gethostname()
    abandoned = {
        run.info.run_id: run.data.tags[PID_TAG]
        for run in running
        if run.data.tags.get(HOST_TAG) == host and _gone(int(run.data.tags.get(PID_TAG, "0")))
    }
    nested = {
        run.info.run_id: abandoned[run.data.tags[PARENT_TAG]]
        for run in running
        if run.data.tags.get(PARENT_TAG) in abandoned
    }
    for run_id, pid in (abandoned | nested).items():
        client.set_tag(
            run_id,
            ENDED_TAG,
            f"the training process (pid {pid} on {host}) ended without "
            "closing this run: marked KILLED by the next training run",
        )
        client.set_terminated(run_id, status="KILLED")
    return sorted(abandoned)


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}, for run parameters."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat |= flatten(value, f"{name}.")
        else:
            flat[name] = value
    return flat


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def source_hashes(source: Path) -> dict[str, str]:
    """SHA-256 of the data a run read, keyed by file name: one flat table file, or every
    raw table file present in a data folder."""
    source = Path(source)
    if source.is_file():
        return {source.name: file_sha256(source)}
    return {
        path.name: file_sha256(path)
        for name in TABLES
        for suffix in TABLE_SUFFIXES
        if (path := source / f"{name}{suffix}").is_file()
    }


def log_datasets(frames: Mapping[str, pd.DataFrame], *, source: Path, target: str) -> None:
    """Record each period's feature frame as an MLflow dataset input (schema + digest)."""
    for context, frame in frames.items():
        with warnings.catch_warnings():
            # A local path fits two equivalent MLflow source types; MLflow picks one and warns.
            warnings.filterwarnings("ignore", message="The specified dataset source")
            # Counts are integer columns; the dataset record only describes them.
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            dataset = mlflow.data.from_pandas(
                frame, source=str(source), name=f"snapshots-{context}", targets=target
            )
            mlflow.log_input(dataset, context=context)


def log_figures(figures: Mapping[str, Figure]) -> None:
    """Log each figure as plots/<name>.png and close it."""
    for name, figure in figures.items():
        mlflow.log_figure(figure, f"plots/{name}.png")
        plt.close(figure)


def log_frame(frame: pd.DataFrame, artifact_dir: str, file_name: str) -> None:
    """Log a frame as a Parquet artifact under `artifact_dir`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / file_name
        frame.to_parquet(path, index=False)
        mlflow.log_artifact(str(path), artifact_path=artifact_dir)


def log_trial(number: int, booster: LightGBMConfig, fitted: FamilyFit, auc: float) -> None:
    """A tuning trial as a nested run: its booster settings, rounds and validation ROC-AUC."""
    with mlflow.start_run(run_name=f"trial-{number}", nested=True):
        mlflow.log_params(booster.model_dump())
        mlflow.log_metrics({"validation_roc_auc": auc, **fitted.scorer.describe()})


def log_candidates(candidates: Candidates, test_metrics: Mapping[str, Mapping[str, float]]) -> None:
    """One nested run per candidate family: what it learned, its validation folds' ROC-AUC
    (mean and spread) and ECE, its test metrics (test_metrics, by family), and whether it
    was chosen (tag candidate.chosen; the chosen one's reason in candidate.reason, a refused
    one's in candidate.refused)."""
    selection = candidates.selection
    for candidate in candidates.candidates:
        chosen = candidate.family == selection.chosen
        with mlflow.start_run(run_name=f"candidate-{candidate.family}", nested=True):
            mlflow.log_params({f"model.{k}": v for k, v in candidate.model.describe().items()})
            mlflow.log_metrics(
                {
                    "validation_roc_auc_mean": candidate.auc_mean,
                    "validation_roc_auc_sd": candidate.auc_sd,
                    "validation_ece_mean": candidate.ece_mean,
                    "validation_folds": len(candidate.fold_auc),
                }
                | {f"test_{name}": value for name, value in test_metrics[candidate.family].items()}
            )
            tags = {"candidate.family": candidate.family, "candidate.chosen": str(chosen).lower()}
            if chosen:
                tags["candidate.reason"] = selection.reason
            elif candidate.refused is not None:
                tags["candidate.refused"] = candidate.refused
            mlflow.set_tags(tags)


def log_churn_model(pyfunc: ChurnPyfunc, example: pd.DataFrame, *, any_cells: bool = False) -> str:
    """Log the end-to-end scoring model with signature and input example; return its URI.

    any_cells: inputs accept any cell (a flat table's columns arrive as text or numbers,
    and the model types them itself), instead of the example's inferred types.
    """
    output = pyfunc.predict(None, example)
    with warnings.catch_warnings():
        # Counts are integers and never missing (0 when nothing happened): keep them integers.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        signature = infer_signature(
            example, output, params={"contributions": False, "survival": False}
        )
        if any_cells:
            signature.inputs = Schema(
                [ColSpec(AnyType(), name, required=False) for name in example.columns]
            )
        info = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=pyfunc,
            signature=signature,
            input_example=example,
            pip_requirements=[f"{name}=={metadata.version(name)}" for name in SERVED_PACKAGES],
        )
    return info.model_uri

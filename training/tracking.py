"""Everything that writes to MLflow: where runs go, and how data, figures and models are logged.

training/ is the only package that writes to MLflow; this module is where it does.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from matplotlib.figure import Figure
from mlflow import MlflowClient
from mlflow.models import infer_signature
from mlflow.types.schema import AnyType, ColSpec, Schema

from zerochurn.configs.settings import Settings
from zerochurn.contract.schema import TABLE_SUFFIXES, TABLES
from zerochurn.training.pyfunc import ChurnPyfunc

MODEL_ARTIFACT = "model"
REFERENCE_ARTIFACT = "reference"
REFERENCE_FILE = "reference.parquet"
HASH_CHUNK_BYTES = 1 << 20
SERVED_PACKAGES = ("lightgbm", "scikit-learn", "pandas", "numpy", "pyarrow", "mlflow")


def ensure_experiment(client: MlflowClient, settings: Settings, name: str, folder: str = "") -> str:
    """Id of experiment `name`, created if missing.

    With the embedded default (SQLite in the workspace) its artifacts go to
    <workspace>/mlflow/artifacts[/folder]; a remote server keeps its own artifact store.
    """
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = None
    if settings.mlflow.tracking_uri is None:
        location = (settings.workspace / "mlflow" / "artifacts" / folder).resolve().as_uri()
    return client.create_experiment(name, artifact_location=location)


def configure(settings: Settings) -> MlflowClient:
    """Point MLflow at the configured tracking URI and experiment; return a client."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = settings.tracking_uri
    if uri.startswith("sqlite:///"):
        (settings.workspace / "mlflow").mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    mlflow.set_experiment(
        experiment_id=ensure_experiment(client, settings, settings.mlflow.experiment)
    )
    return client


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
    import matplotlib.pyplot as plt

    for name, figure in figures.items():
        mlflow.log_figure(figure, f"plots/{name}.png")
        plt.close(figure)


def log_frame(frame: pd.DataFrame, artifact_dir: str, file_name: str) -> None:
    """Log a frame as a Parquet artifact under `artifact_dir`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / file_name
        frame.to_parquet(path, index=False)
        mlflow.log_artifact(str(path), artifact_path=artifact_dir)


def log_churn_model(pyfunc: ChurnPyfunc, example: pd.DataFrame, *, any_cells: bool = False) -> str:
    """Log the end-to-end scoring model with signature and input example; return its URI.

    any_cells: inputs accept any cell (a flat table's columns arrive as text or numbers,
    and the model types them itself), instead of the example's inferred types.
    """
    output = pyfunc.predict(None, example)
    with warnings.catch_warnings():
        # Counts are integers and never missing (0 when nothing happened): keep them integers.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        signature = infer_signature(example, output, params={"contributions": False})
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

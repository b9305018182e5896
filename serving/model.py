"""Loading the champion for scoring: from the MLflow registry or from the BentoML model store.

Both give a `ScoringModel`: the trained ChurnModel, its ModelCard and where it came from,
plus the fast contribution tables of serving/explain.py. Serving never runs the pyfunc's
schema enforcement: it encodes feature rows once and calls the booster directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zerochurn.configs.settings import ChurnConfig, Settings
from zerochurn.monitoring.log_schema import LogSchema
from zerochurn.serving.explain import TreeShapTables
from zerochurn.training.pyfunc import ChurnPyfunc, ModelCard
from zerochurn.training.registry import CHAMPION

if TYPE_CHECKING:
    from zerochurn.training.model import ChurnModel

TEST_METRIC_PREFIX = "test_"
"""Run metrics with this prefix are the model's out-of-time test metrics."""
SQLITE_URI_PREFIX = "sqlite:///"


class ModelUnavailableError(RuntimeError):
    """No champion could be loaded from the configured source."""


@dataclass(frozen=True)
class ScoringModel:
    """A loaded champion and what it takes to read and explain its scores.

    version is the MLflow registry version; source says where it was loaded from
    ("mlflow" or "bentoml:<tag>"); metrics are its out-of-time test metrics.
    """

    model: ChurnModel
    card: ModelCard
    version: str
    alias: str
    source: str
    metrics: dict[str, float]
    loaded_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    tables: TreeShapTables | None = field(default=None, repr=False)

    @classmethod
    def from_pyfunc(
        cls, pyfunc: ChurnPyfunc, *, version: str, source: str, metrics: dict[str, float]
    ) -> ScoringModel:
        """Wrap an unwrapped ChurnPyfunc and precompute its contribution tables."""
        return cls(
            model=pyfunc.model,
            card=pyfunc.card,
            version=str(version),
            alias=CHAMPION,
            source=source,
            metrics=dict(metrics),
            tables=TreeShapTables.from_booster(pyfunc.model.booster_),
        )

    @property
    def feature_names(self) -> list[str]:
        """Feature columns the model reads, in model order."""
        return self.model.feature_names_

    def churn_config(self, configured: ChurnConfig) -> ChurnConfig:
        """The churn definition the model was trained under, which decides who is scored.

        Cards of models trained before inactivity_days was recorded keep the configured one.
        """
        card = self.card
        return ChurnConfig(
            definition=card.churn_definition,
            horizon_days=card.horizon_days,
            inactivity_days=card.inactivity_days or configured.inactivity_days,
        )

    @property
    def feature_kinds(self) -> list[str]:
        """ "numeric" or "categorical" per feature, in model order."""
        categorical = set(self.model.categorical)
        return ["categorical" if name in categorical else "numeric" for name in self.feature_names]

    @cached_property
    def log_schema(self) -> LogSchema:
        """Types of this model's columns in the prediction log."""
        return LogSchema.for_features(self.feature_names, self.feature_kinds)

    def encode(self, features: pd.DataFrame) -> np.ndarray:
        """(n, features) float64 matrix of feature rows; missing optional columns become NaN."""
        return self.model.encode(features)

    def probability(self, matrix: np.ndarray) -> np.ndarray:
        """(n,) calibrated churn probability within the card's horizon."""
        return self.model.probability_from_matrix(matrix)

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """(n, features) log-odds contributions (TreeSHAP), by table lookup when available."""
        if self.tables is not None:
            return self.tables.contributions(matrix)
        return self.model.contributions_from_matrix(matrix)

    def info(self) -> dict[str, Any]:
        """What /model_info reports."""
        return {
            "version": self.version,
            "alias": self.alias,
            "source": self.source,
            "loaded_at": self.loaded_at,
            "metrics": self.metrics,
            **asdict(self.card),
        }


def _use_registry(settings: Settings):
    """A read-only MLflow client on the configured tracking and registry URI."""
    import mlflow
    from mlflow import MlflowClient

    uri = settings.tracking_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def champion_version(settings: Settings):
    """A read-only MlflowClient and the champion's ModelVersion.

    Raises ModelUnavailableError, saying what to do, when there is no champion.
    """
    from mlflow.exceptions import MlflowException

    uri = settings.tracking_uri
    if uri.startswith(SQLITE_URI_PREFIX) and not Path(uri[len(SQLITE_URI_PREFIX) :]).is_file():
        raise ModelUnavailableError(f"no MLflow database at {uri}: train a model (zerochurn train)")
    client = _use_registry(settings)
    name = settings.mlflow.registered_model
    try:
        return client, client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException as exc:
        raise ModelUnavailableError(
            f"registered model {name!r} has no {CHAMPION!r} at {settings.tracking_uri}: "
            "train one (zerochurn train) or promote a version (zerochurn promote N)"
        ) from exc


def load_from_mlflow(settings: Settings) -> ScoringModel:
    """The current champion from the MLflow registry (version pinned, so a moving alias is safe)."""
    import mlflow.pyfunc

    client, version = champion_version(settings)
    uri = f"models:/{settings.mlflow.registered_model}/{version.version}"
    pyfunc = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    run = client.get_run(version.run_id) if version.run_id else None
    metrics = {} if run is None else _test_metrics(run.data.metrics)
    return ScoringModel.from_pyfunc(
        pyfunc, version=str(version.version), source="mlflow", metrics=metrics
    )


def _test_metrics(metrics: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in sorted(metrics.items()) if k.startswith(TEST_METRIC_PREFIX)}


def bento_model_tag(settings: Settings) -> str:
    """The store tag serving.bento_model names: name:version as given, a bare name :latest."""
    model = settings.serving.bento_model
    return model if ":" in model else f"{model}:latest"


def load_from_bentoml(settings: Settings, tag: str | None = None) -> ScoringModel:
    """A champion imported into the BentoML model store (`tag`, default bento_model_tag)."""
    import bentoml
    from bentoml.exceptions import NotFound

    tag = tag or bento_model_tag(settings)
    try:
        stored = bentoml.models.get(tag)
    except NotFound as exc:
        raise ModelUnavailableError(
            f"no model {tag!r} in the BentoML model store: run zerochurn import-model"
        ) from exc
    pyfunc = bentoml.mlflow.load_model(stored).unwrap_python_model()
    meta = stored.info.metadata
    return ScoringModel.from_pyfunc(
        pyfunc,
        version=str(meta["mlflow_version"]),
        source=f"bentoml:{stored.tag}",
        metrics=dict(meta["metrics"]),
    )


def load_scoring_model(settings: Settings, bento_tag: str | None = None) -> ScoringModel:
    """The champion from the configured source (ServingConfig.model_source)."""
    if settings.serving.model_source == "bentoml":
        return load_from_bentoml(settings, bento_tag)
    return load_from_mlflow(settings)


def import_champion(settings: Settings) -> tuple[str, bool]:
    """Copy the MLflow champion into the BentoML model store for `bentoml build`.

    Returns the store tag and whether it was new; a champion version already imported
    from the same run is reused, not imported again.
    """
    import bentoml
    from bentoml.exceptions import NotFound

    client, version = champion_version(settings)
    name = bento_model_tag(settings).split(":")[0]
    try:
        existing = bentoml.models.list(name)
    except NotFound:  # no model of that name yet
        existing = []
    for stored in existing:
        meta = stored.info.metadata
        if (meta.get("run_id"), meta.get("mlflow_version")) == (
            version.run_id,
            str(version.version),
        ):
            return str(stored.tag), False
    run = client.get_run(version.run_id)
    stored = bentoml.mlflow.import_model(
        name,
        model_uri=f"models:/{settings.mlflow.registered_model}/{version.version}",
        labels={"alias": CHAMPION, "mlflow_version": str(version.version)},
        metadata={
            "mlflow_version": str(version.version),
            "run_id": version.run_id,
            "registered_model": settings.mlflow.registered_model,
            "metrics": _test_metrics(run.data.metrics),
        },
    )
    return str(stored.tag), True

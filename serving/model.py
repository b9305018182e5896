"""The champion as serving scores with it: from the MLflow registry or the BentoML model store.

Both give a `ScoringModel`: the trained ChurnModel (of any family), its ModelCard and where
it came from, plus the fast contribution tables of serving/explain.py for its boosters. Serving never runs the pyfunc's
schema enforcement: it encodes feature rows once and calls the booster directly. Finding
and loading the champion in MLflow is model/registry.py's job; `import_champion` copies
it into the BentoML model store for a Bento.

model/registry.py is imported inside the MLflow loaders: it imports MLflow, about 1.0 s
of the service module's import otherwise (benchmarks/bench_imports.py), which a service
loading from the BentoML store never needs; `bentoml.mlflow` likewise loads MLflow only
when a store model is loaded or imported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

import bentoml
import lightgbm as lgb
import numpy as np
import pandas as pd
from bentoml.exceptions import NotFound

from zerochurn.configs.settings import ChurnConfig, Settings
from zerochurn.model.card import ModelCard
from zerochurn.model.champion import CHAMPION, Champion, ChampionVersion, ModelUnavailableError
from zerochurn.model.estimator import ChurnModel
from zerochurn.model.lifetime import anchor_to_horizon, horizon_months
from zerochurn.model.survival import SurvivalModel
from zerochurn.serving.explain import TreeShapTables
from zerochurn.serving.log_schema import LogSchema

BENTOML_SOURCE = "bentoml:"
"""Prefix of ScoringModel.source for a model loaded from the BentoML model store."""


@dataclass(frozen=True)
class ScoringModel:
    """A loaded champion and what it takes to read and explain its scores.

    version is the MLflow registry version; source says where it was loaded from
    ("mlflow", "bentoml:<tag>", or "kept:<folder>": serving/last_model.py); metrics are
    its out-of-time test metrics; registered is the registry version it was loaded as,
    which `pin` names.
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
    tables: tuple[TreeShapTables | None, ...] = field(default=(), repr=False)
    registered: ChampionVersion | None = None
    survival: SurvivalModel | None = field(default=None, repr=False)

    @classmethod
    def from_champion(cls, champion: Champion, *, source: str) -> ScoringModel:
        """Wrap a loaded champion and precompute the contribution tables of its boosters."""
        return cls(
            model=champion.model,
            card=champion.card,
            version=champion.version,
            alias=CHAMPION,
            source=source,
            metrics=dict(champion.registered.test_metrics),
            tables=tuple(TreeShapTables.from_booster(b) for b in champion.model.boosters),
            registered=champion.registered,
            survival=champion.survival,
        )

    @property
    def pin(self) -> dict[str, Any]:
        """How to load exactly this model again (JSON): `load_pinned` reads it."""
        if self.source.startswith(BENTOML_SOURCE):
            return {"source": "bentoml", "tag": self.source.removeprefix(BENTOML_SOURCE)}
        if self.registered is None:
            raise ValueError(f"model version {self.version} has no registry version to pin")
        return {"source": "mlflow", "champion": asdict(self.registered)}

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

    def survival_curve(
        self, features: pd.DataFrame, matrix: np.ndarray, probability: np.ndarray
    ) -> np.ndarray | None:
        """(n, months) S(t) anchored so that 1 - S(horizon) = probability; None without a
        time-to-churn model (a flat table's, or one logged before it existed).

        matrix: the churn model's encoding of `features`, reused when the time-to-churn
        model shares its encoder (training makes it so), else the rows are encoded again.
        """
        if self.survival is None:
            return None
        shared = self.survival.encoder_ is self.model.encoder
        encoded = matrix if shared else self.survival.encode(features)
        curve = self.survival.survival_from_matrix(encoded)
        return anchor_to_horizon(curve, probability, horizon_months(self.card.horizon_days))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """(n, features) log-odds contributions; a booster's by table lookup when it has tables."""
        return self.model.contributions_from_matrix(matrix, self._tree_contributions)

    def _tree_contributions(self, booster: lgb.Booster, matrix: np.ndarray) -> np.ndarray | None:
        """The TreeSHAP contributions of one of the model's boosters from its tables, if any."""
        for candidate, tables in zip(self.model.boosters, self.tables, strict=True):
            if candidate is booster and tables is not None:
                return tables.contributions(matrix)
        return None

    def info(self) -> dict[str, Any]:
        """What /model_info reports."""
        return {
            "version": self.version,
            "alias": self.alias,
            "source": self.source,
            "loaded_at": self.loaded_at,
            "metrics": self.metrics,
            "model_family": self.model.family,
            **self.card.to_json(),
        }


def load_from_mlflow(settings: Settings) -> ScoringModel:
    """The current champion from the MLflow registry (version pinned, so a moving alias is safe)."""
    from zerochurn.model.registry import load_champion  # MLflow: see the module docstring

    return ScoringModel.from_champion(load_champion(settings), source="mlflow")


def bento_model_tag(settings: Settings) -> str:
    """The store tag serving.bento_model names: name:version as given, a bare name :latest."""
    model = settings.serving.bento_model
    return model if ":" in model else f"{model}:latest"


def load_from_bentoml(settings: Settings, tag: str | None = None) -> ScoringModel:
    """A champion imported into the BentoML model store (`tag`, default bento_model_tag)."""
    tag = tag or bento_model_tag(settings)
    try:
        stored = bentoml.models.get(tag)
    except NotFound as exc:
        raise ModelUnavailableError(
            f"no model {tag!r} in the BentoML model store: run zerochurn import-model"
        ) from exc
    pyfunc = bentoml.mlflow.load_model(stored).unwrap_python_model()
    meta = stored.info.metadata
    registered = ChampionVersion(  # what import_champion recorded of the MLflow version
        name=meta["registered_model"],
        version=str(meta["mlflow_version"]),
        run_id=meta["run_id"],
        test_metrics=dict(meta["metrics"]),
    )
    champion = Champion(
        registered=registered, model=pyfunc.model, card=pyfunc.card, survival=pyfunc.survival
    )
    return ScoringModel.from_champion(champion, source=f"{BENTOML_SOURCE}{stored.tag}")


def load_pinned(settings: Settings, pin: Mapping[str, Any]) -> ScoringModel:
    """The model a `ScoringModel.pin` names: that registry version or model-store tag."""
    if pin["source"] == "bentoml":
        return load_from_bentoml(settings, pin["tag"])
    from zerochurn.model.registry import load_champion  # MLflow: see the module docstring

    found = ChampionVersion(**pin["champion"])
    return ScoringModel.from_champion(load_champion(settings, found), source="mlflow")


def load_scoring_model(
    settings: Settings, bento_tag: str | None = None, pin: Mapping[str, Any] | None = None
) -> ScoringModel:
    """The champion from the configured source (ServingConfig.model_source), or exactly
    the model `pin` names (another worker's reload: serving/workers.py). One from MLflow
    comes through the copy serving/last_model.py keeps for a start without MLflow."""
    if pin is not None:
        return load_pinned(settings, pin)
    if settings.serving.model_source == "bentoml":
        return load_from_bentoml(settings, bento_tag)
    from zerochurn.serving.last_model import load_champion_kept  # imports this module

    return load_champion_kept(settings)


def import_champion(settings: Settings) -> tuple[str, bool]:
    """Copy the MLflow champion into the BentoML model store for `bentoml build`.

    Returns the store tag and whether it was new; a champion version already imported
    from the same run is reused, not imported again.
    """
    from zerochurn.model.registry import find_champion  # MLflow: see the module docstring

    found = find_champion(settings)
    name = bento_model_tag(settings).split(":")[0]
    try:
        existing = bentoml.models.list(name)
    except NotFound:  # no model of that name yet
        existing = []
    for stored in existing:
        meta = stored.info.metadata
        if (meta.get("run_id"), meta.get("mlflow_version")) == (found.run_id, found.version):
            return str(stored.tag), False
    stored = bentoml.mlflow.import_model(
        name,
        model_uri=found.uri,
        labels={"alias": CHAMPION, "mlflow_version": found.version},
        metadata={
            "mlflow_version": found.version,
            "run_id": found.run_id,
            "registered_model": found.name,
            "metrics": found.test_metrics,
        },
    )
    return str(stored.tag), True

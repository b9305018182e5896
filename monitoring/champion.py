"""The champion as monitoring checks it: its model, card, test metrics and reference rows.

Everything comes through model/registry.py's `load_champion` and `load_reference`: the
same champion serving scores with and training's gate compares against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from zerochurn.configs.settings import Settings
from zerochurn.model.card import ModelCard
from zerochurn.model.champion import (
    TEST_METRIC_PREFIX,
    ModelUnavailableError,
    RegistryUnavailableError,
)
from zerochurn.model.estimator import ChurnModel
from zerochurn.model.registry import find_champion, load_champion, load_reference
from zerochurn.monitoring.errors import MonitoringError

TEST_METRICS = ("roc_auc", "ece")
"""Test-period metrics of the model's training run (logged as test_<name>) compared with."""


@dataclass(frozen=True)
class ChampionContext:
    """The current champion as monitoring needs it.

    reference: its training rows as logged with the model (features, churned,
    churn_probability, customer_id, as_of). test_metrics: roc_auc and ece on its test period.
    """

    name: str
    version: str
    run_id: str
    model: ChurnModel = field(repr=False)
    card: ModelCard
    test_metrics: dict[str, float]
    reference: pd.DataFrame = field(repr=False)

    @property
    def features(self) -> list[str]:
        """Feature columns the model reads, numeric first."""
        return [*self.model.numeric, *self.model.categorical]


def load_champion_context(settings: Settings) -> ChampionContext:
    """Model, card, test metrics and reference rows of the registered champion."""
    name = settings.mlflow.registered_model
    try:
        found = find_champion(settings)
    except RegistryUnavailableError as exc:
        raise MonitoringError(str(exc)) from exc
    except ModelUnavailableError as exc:
        raise MonitoringError(
            f"no champion of model {name!r}: train one first (zerochurn train)"
        ) from exc
    logged = [f"{TEST_METRIC_PREFIX}{metric}" for metric in TEST_METRICS]
    missing = [metric for metric in logged if metric not in found.test_metrics]
    if missing:
        raise MonitoringError(f"training run {found.run_id} has no metrics {missing}")
    champion = load_champion(settings, found)
    return ChampionContext(
        name=name,
        version=champion.version,
        run_id=found.run_id,
        model=champion.model,
        card=champion.card,
        test_metrics={
            metric: found.test_metrics[f"{TEST_METRIC_PREFIX}{metric}"] for metric in TEST_METRICS
        },
        reference=load_reference(settings, found),
    )

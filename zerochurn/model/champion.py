"""The champion as every stage holds it once loaded, without importing MLflow.

model/registry.py finds, loads, promotes and rolls back champions in the MLflow registry;
this module holds what its callers keep: the alias names, the loaded `Champion` and the
error saying why there is none. The service imports it at start-up, where MLflow (about
a second to import) is not needed until a model loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zerochurn.model.card import ModelCard
from zerochurn.model.estimator import ChurnModel
from zerochurn.model.survival import SurvivalModel

CHAMPION = "champion"
CHALLENGER = "challenger"
TEST_METRIC_PREFIX = "test_"
"""Run metrics with this prefix are the model's out-of-time test metrics."""


class ModelUnavailableError(RuntimeError):
    """No champion could be loaded from the configured source; the message says what to do."""


class RegistryUnavailableError(ModelUnavailableError):
    """The MLflow tracking server did not answer (refused or timed out, after the retries of
    mlflow.request_retries); the message names its URI and what to do."""


@dataclass(frozen=True)
class ChampionVersion:
    """The registered version holding the champion alias, found but not loaded.

    test_metrics: the training run's test metrics under their logged names (test_roc_auc, ...).
    """

    name: str
    version: str
    run_id: str
    test_metrics: dict[str, float]

    @property
    def uri(self) -> str:
        """The MLflow model URI of this exact version (an alias may move on meanwhile)."""
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class Champion:
    """A loaded champion: the registered version, its fitted model, its card and its
    time-to-churn model (None for a flat table or a model logged before there was one)."""

    registered: ChampionVersion
    model: ChurnModel = field(repr=False)
    card: ModelCard
    survival: SurvivalModel | None = field(default=None, repr=False)

    @property
    def version(self) -> str:
        """The registry version, e.g. "3"."""
        return self.registered.version

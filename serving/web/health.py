"""The model-health page's facts: every registered version with its champion periods and
gate decision, the champion history, and the latest monitoring run.

The registry is read through zerochurn.model.registry (MLflow, imported only when the
page is asked for). Serving does not import monitoring: the latest run is read as the
named data monitoring writes and docs/monitoring.md documents: run folders
<workspace>/monitoring/<run>/ named by their UTC time, each with summary.json and the
Evidently reports, and an MLflow run named monitor-<run> in the experiment
<mlflow.experiment>-monitoring.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zerochurn.configs.settings import Settings
from zerochurn.model.champion import ModelUnavailableError

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from zerochurn.model.registry import ChampionEvent

MONITORING_FOLDER = "monitoring"
SUMMARY_FILE = "summary.json"
MONITORING_EXPERIMENT_SUFFIX = "-monitoring"
MONITORING_RUN_PREFIX = "monitor-"
GATE_TAG = "gate"
"""Registry tag of a version holding the promotion gate's decision (training/train.py)."""
SHOWN_METRICS = {
    "test_roc_auc": "ROC-AUC: how well leavers are ranked above stayers (0.5 chance, 1 perfect)",
    "test_ece": "calibration error (ECE): probabilities against churn rates seen (0 perfect)",
    "test_pr_auc": "PR-AUC: precision over recall of the leavers",
    "test_top_decile_lift": "lift in the riskiest tenth: their churn rate over the average",
    "test_recall_at_10": "share of the leavers found in the riskiest tenth",
    "test_value_captured_top10": "share of the value lost that the riskiest tenth holds",
    "test_brier": "Brier score: mean squared error of the probabilities",
}
"""Test metrics the page shows, in order, with what each means, when the run logged them."""


@dataclass(frozen=True)
class GateView:
    """The promotion gate's decision on a version: passed or refused, and why."""

    passed: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class VersionView:
    """One registered version: when made, its roles, test metrics, champion periods, gate."""

    version: str
    created_at: str
    aliases: tuple[str, ...]
    metrics: dict[str, float]
    champion_periods: tuple[tuple[str | None, str | None], ...]
    gate: GateView | None
    run_url: str | None


@dataclass(frozen=True)
class MonitoringView:
    """The latest monitoring run as its summary.json tells it.

    drifted: the drifted features, most drifted first; share: drifted / features;
    reports: Evidently report kind -> file name in the run folder.
    """

    run: str
    created_at: str
    decision: str
    reasons: tuple[str, ...]
    model_version: str
    period: str
    source: str
    drifted: tuple[str, ...]
    features: int
    share: float
    threshold: float
    reports: dict[str, str]
    run_url: str | None


@dataclass(frozen=True)
class ModelHealth:
    """What the registry and the latest monitoring run say; registry_problem when the
    registry could not be read (the versions and changes are then empty)."""

    versions: tuple[VersionView, ...]
    changes: tuple[ChampionEvent, ...]
    monitoring: MonitoringView | None
    registry_problem: str | None
    read_at: str


def run_url(mlflow_ui: str | None, experiment_id: str | None, run_id: str) -> str | None:
    """The MLflow UI's page of a run, or None without a UI address or an experiment."""
    if not mlflow_ui or not experiment_id or not run_id:
        return None
    return f"{mlflow_ui.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def gate_view(tags: dict[str, str]) -> GateView | None:
    """The gate decision recorded on a version, None when there is none."""
    if GATE_TAG not in tags:
        return None
    decision = json.loads(tags[GATE_TAG])
    return GateView(passed=bool(decision["passed"]), reasons=tuple(decision["reasons"]))


def latest_run_folder(workspace: Path) -> Path | None:
    """The newest monitoring run folder with a summary.json (run names sort by time)."""
    folders = sorted((Path(workspace) / MONITORING_FOLDER).glob(f"*/{SUMMARY_FILE}"))
    return folders[-1].parent if folders else None


def monitoring_view(summary: dict[str, Any], url: str | None) -> MonitoringView:
    """The page's view of one run's summary.json (docs/monitoring.md has its shape)."""
    drift = summary["data_drift"]
    return MonitoringView(
        run=summary["run"],
        created_at=summary["created_at"],
        decision=summary["decision"],
        reasons=tuple(summary["reasons"]),
        model_version=summary["model"]["version"],
        period=summary["current"]["period"],
        source=summary["current"]["source"],
        drifted=tuple(drift["drifted"]),
        features=int(drift["features"]),
        share=float(drift["share"]),
        threshold=float(drift["threshold"]),
        reports=dict(summary["reports"]),
        run_url=url,
    )


def _experiment_id(client: MlflowClient, name: str) -> str | None:
    experiment = client.get_experiment_by_name(name)
    return None if experiment is None else experiment.experiment_id


def _versions(client: MlflowClient, settings: Settings) -> tuple[VersionView, ...]:
    """Every registered version, newest first, with links to its training run."""
    from zerochurn.model.registry import ChampionRegistry

    training = _experiment_id(client, settings.mlflow.experiment)
    registry = ChampionRegistry(client, settings.mlflow.registered_model)
    return tuple(
        VersionView(
            version=summary.version,
            created_at=summary.created_at,
            aliases=summary.aliases,
            metrics={k: summary.metrics[k] for k in SHOWN_METRICS if k in summary.metrics},
            champion_periods=tuple(summary.champion_periods),
            gate=gate_view(summary.tags),
            run_url=run_url(settings.web.mlflow_ui, training, summary.run_id),
        )
        for summary in registry.summaries()
    )


def _monitoring_run_url(client: MlflowClient, settings: Settings, run: str) -> str | None:
    """The MLflow UI page of monitoring run `run`, found by its run name."""
    experiment = _experiment_id(client, settings.mlflow.experiment + MONITORING_EXPERIMENT_SUFFIX)
    if experiment is None:
        return None
    name = f"{MONITORING_RUN_PREFIX}{run}"
    found = client.search_runs([experiment], filter_string=f"attributes.run_name = '{name}'")
    return run_url(settings.web.mlflow_ui, experiment, found[0].info.run_id) if found else None


def model_health(settings: Settings) -> ModelHealth:
    """Read the registry and the latest monitoring run of the configured workspace.

    Without a readable registry (no MLflow store, or a Bento serving from the BentoML
    model store) the versions are left out and registry_problem says why.
    """
    from mlflow.exceptions import MlflowException

    from zerochurn.model.registry import ChampionRegistry, connect, find_champion

    client: MlflowClient | None = None
    versions: tuple[VersionView, ...] = ()
    changes: tuple[ChampionEvent, ...] = ()
    problem = None
    try:
        find_champion(settings)  # says what to do when there is no store or no champion
        client = connect(settings)
        versions = _versions(client, settings)
        registry = ChampionRegistry(client, settings.mlflow.registered_model)
        changes = tuple(reversed(registry.history()))  # follows the champion alias
    except (ModelUnavailableError, MlflowException) as exc:
        client, problem = None, str(exc)
    folder = latest_run_folder(settings.workspace)
    monitoring = None
    if folder is not None:
        summary = json.loads((folder / SUMMARY_FILE).read_text())
        url = None if client is None else _monitoring_run_url(client, settings, folder.name)
        monitoring = monitoring_view(summary, url)
    read_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return ModelHealth(versions, changes, monitoring, problem, read_at)


class HealthCache:
    """`model_health`, read again only when the last read is older than `seconds`.

    The registry costs a few MLflow queries per version; a page asked for often reuses
    what it read, and a promotion shows within `seconds`.
    """

    def __init__(self, settings: Settings, seconds: float) -> None:
        self.settings = settings
        self.seconds = seconds
        self._lock = threading.Lock()
        self._read: tuple[float, ModelHealth] | None = None

    def get(self) -> ModelHealth:
        """The facts, read within the last `seconds`."""
        with self._lock:
            if self._read is None or time.monotonic() - self._read[0] > self.seconds:
                self._read = (time.monotonic(), model_health(self.settings))
            return self._read[1]

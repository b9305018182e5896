"""The model registry: the one place that points MLflow at its store and finds, loads,
promotes and rolls back the champion.

Training registers versions and runs the gate through `ChampionRegistry`; serving,
monitoring and the gate's comparison load the champion with `load_champion`; training's
own MLflow runs get their client from `configure`, monitoring's and campaigns' runs are
written by `log_side_run`. Nothing else calls
mlflow.set_tracking_uri, set_registry_uri or builds an MlflowClient.

MLflow aliases only say who holds a role now. Every change of champion is therefore also
written as an event tag on the registered model (``zerochurn.event.000001`` = JSON), from
which the history, the champion periods of each version and the rollback target follow.
The champion alias is the truth (serving loads it): a change moves the alias first, then
records it, and the history follows the alias. A process killed between the two, or an
alias moved by hand in MLflow, leaves a change the records lack; `history` shows it, and
the next change records it before its own, so `models`, rollback and the service agree.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, ParamSpec, TypeVar

import mlflow
import mlflow.artifacts
import mlflow.pyfunc
import pandas as pd
import requests
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.entities.model_registry import ModelVersion
from mlflow.environment_variables import (
    MLFLOW_HTTP_REQUEST_MAX_RETRIES,
    MLFLOW_HTTP_REQUEST_TIMEOUT,
)
from mlflow.exceptions import MlflowException

from zerochurn import __version__
from zerochurn.configs.secrets import redact_uri
from zerochurn.configs.settings import MlflowConfig, Settings
from zerochurn.crash import crash_point
from zerochurn.logs import adopt_mlflow_loggers
from zerochurn.model.card import ModelCard
from zerochurn.model.champion import (
    CHALLENGER,
    CHAMPION,
    TEST_METRIC_PREFIX,
    Champion,
    ChampionVersion,
    ModelUnavailableError,
    RegistryUnavailableError,
)
from zerochurn.model.uplift import UpliftModel

EVENT_TAG_PREFIX = "zerochurn.event."
VALIDATED = "validated"
"""Alias of the uplift model version that passed validation (training/uplift.py)."""
GATE_TAG = "gate"
"""Tag of a registered version holding the promotion gate's decision (GateRecord as JSON),
written with the version itself so that no version lacks it."""
UNRECORDED = (
    "the champion alias moved without a record (an interrupted promotion or rollback, or "
    "a change made in MLflow by hand)"
)
SQLITE_URI_PREFIX = "sqlite:///"
MODEL_CARD_FILE = "model_card.json"
"""Training logs the model's card here, beside the model."""
REFERENCE_ARTIFACT = "reference"
REFERENCE_FILE = "reference.parquet"
"""Training logs a sample of its rows with their scores here: monitoring's reference."""

EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
"""MLflow 3's experiment kind (its UI's types): without it the UI guesses, and may open
an experiment in its GenAI view."""
VERSION_TAG = "zerochurn.version"
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_TIMEOUT_SECONDS = 5

Action = Literal["promote", "rollback"]

REQUEST_ENVIRONMENT = {
    MLFLOW_HTTP_REQUEST_TIMEOUT.name: "request_timeout_seconds",
    MLFLOW_HTTP_REQUEST_MAX_RETRIES.name: "request_retries",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "retry_backoff_seconds",
}
"""MLflow's variables, read on every HTTP request it makes, and the settings they come from."""

P = ParamSpec("P")
R = TypeVar("R")


def bound_requests(config: MlflowConfig) -> None:
    """Bound every HTTP request MLflow makes in this process by `config`'s timeout and retries."""
    for variable, setting in REQUEST_ENVIRONMENT.items():
        os.environ[variable] = str(getattr(config, setting))


def _network_failure(exc: BaseException) -> list[BaseException]:
    """The chain of causes of `exc` when it comes from a connection error or a timeout, else []."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    network = any(isinstance(cause, requests.RequestException) for cause in chain)
    return chain if network else []


def _why(chain: list[BaseException]) -> str:
    """In words, why a request failed: refused, no answer in time, or the innermost error."""
    if any(isinstance(cause, ConnectionRefusedError) for cause in chain):
        return "connection refused"
    if any(isinstance(cause, TimeoutError | requests.Timeout) for cause in chain):
        return f"no answer within {MLFLOW_HTTP_REQUEST_TIMEOUT.get()} s"
    return (str(chain[-1]).strip().splitlines() or [type(chain[-1]).__name__])[0]


@contextmanager
def reaching(uri: str) -> Iterator[None]:
    """Turn a failure to reach the tracking server at `uri` into RegistryUnavailableError."""
    try:
        yield
    except (MlflowException, requests.RequestException) as exc:
        chain = _network_failure(exc)
        if not chain:
            raise
        raise RegistryUnavailableError(
            f"MLflow at {redact_uri(uri)} is unreachable ({_why(chain)}, after "
            f"{MLFLOW_HTTP_REQUEST_MAX_RETRIES.get()} retries): start the tracking server or "
            "correct mlflow.tracking_uri (each request waits up to "
            "mlflow.request_timeout_seconds)"
        ) from exc


def _reaching_registry(method: Callable[P, R]) -> Callable[P, R]:
    """A ChampionRegistry method whose failures to reach the server name its URI."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with reaching(args[0].client.tracking_uri):
            return method(*args, **kwargs)

    return call


def connect(settings: Settings) -> MlflowClient:
    """Point MLflow's tracking and registry at the configured URI; a client on it.

    Bounds MLflow's HTTP requests (`bound_requests`). Creates nothing: readers (serving)
    use it as it is. MLflow's own log lines go to the root logger from here on
    (zerochurn.logs.adopt_mlflow_loggers), and it draws no progress bars while it
    downloads artifacts.
    """
    adopt_mlflow_loggers()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = settings.tracking_uri
    bound_requests(settings.mlflow)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


@functools.cache
def provenance_tags() -> dict[str, str]:
    """Tags of every run zerochurn logs: the package version, and the git commit of the
    checkout it runs from (MLflow's own source tag, shown in its UI), when it runs from one."""
    tags = {VERSION_TAG: __version__}
    checkout = Path(__file__).resolve().parents[2]  # zerochurn/model/registry.py -> repo
    try:
        found = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.TimeoutExpired):
        return tags
    lines = found.stdout.split()
    if found.returncode == 0 and len(lines) == 2 and Path(lines[0]).resolve() == checkout:
        tags[GIT_COMMIT_TAG] = lines[1]
    return tags


def end_status(error: BaseException | None) -> str:
    """The MLflow status a run ends with: FINISHED, KILLED when interrupted (Ctrl-C, or
    SIGTERM raised as a KeyboardInterrupt by the CLI), FAILED on any other exception."""
    if error is None:
        return "FINISHED"
    return "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"


def ensure_experiment(client: MlflowClient, settings: Settings, name: str, folder: str = "") -> str:
    """Id of experiment `name`, created if missing, tagged as a custom-model experiment.

    With the embedded default (SQLite in the workspace) its artifacts go to
    <workspace>/mlflow/artifacts[/folder]; a remote server keeps its own artifact store.
    """
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.tags.get(EXPERIMENT_KIND_TAG) is None:  # made before the tag was set
            client.set_experiment_tag(
                experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND
            )
        return experiment.experiment_id
    location = None
    if settings.mlflow.tracking_uri is None:
        location = (settings.workspace / "mlflow" / "artifacts" / folder).resolve().as_uri()
    return client.create_experiment(
        name, artifact_location=location, tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND}
    )


def configure(settings: Settings) -> MlflowClient:
    """Point MLflow at the configured tracking URI and experiment, for writers; a client.

    Creates the embedded store's folder and the experiment, and makes it the active one.
    """
    if settings.tracking_uri.startswith(SQLITE_URI_PREFIX):
        (settings.workspace / "mlflow").mkdir(parents=True, exist_ok=True)
    client = connect(settings)
    with reaching(settings.tracking_uri):
        mlflow.set_experiment(
            experiment_id=ensure_experiment(client, settings, settings.mlflow.experiment)
        )
    return client


def log_side_run(
    settings: Settings,
    experiment_suffix: str,
    artifact_folder: str,
    *,
    run_name: str,
    tags: Mapping[str, str],
    metrics: Mapping[str, float],
    params: Mapping[str, object] | None = None,
    artifacts: Sequence[Path] = (),
) -> str:
    """Record one finished run in the experiment "<mlflow.experiment><experiment_suffix>".

    For the stages that log beside training (monitoring, campaigns): an explicit client and
    experiment id, so the process's active experiment is left to training. Artifacts go to
    <workspace>/mlflow/artifacts/<artifact_folder> with the embedded store. Interrupted
    (KeyboardInterrupt, SIGTERM in the CLI) the run ends KILLED, on any other error FAILED,
    never left RUNNING. Returns the id.
    """
    client = configure(settings)
    experiment = settings.mlflow.experiment + experiment_suffix
    run = client.create_run(
        ensure_experiment(client, settings, experiment, artifact_folder),
        run_name=run_name,
        tags=dict(tags) | provenance_tags(),
    )
    run_id = run.info.run_id
    try:
        stamp = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(name, float(value), stamp, 0) for name, value in metrics.items()],
            params=[Param(name, str(value)) for name, value in (params or {}).items()],
        )
        for path in artifacts:
            client.log_artifact(run_id, str(path))
    except BaseException as error:
        client.set_terminated(run_id, end_status(error))
        raise
    client.set_terminated(run_id)
    return run_id


@dataclass(frozen=True)
class ChampionEvent:
    """One change of champion: who became champion, how and why.

    at: when (ISO 8601, UTC), or None for a change the records lack (reason UNRECORDED).
    """

    at: str | None
    version: str
    action: Action
    reason: str


@dataclass(frozen=True)
class GateRecord:
    """The promotion gate's decision on a version, as training recorded it (GATE_TAG)."""

    passed: bool
    compared_with: str
    reasons: tuple[str, ...]

    @classmethod
    def from_tag(cls, value: str) -> GateRecord:
        """The record of a GATE_TAG value (the JSON of training's GateDecision)."""
        data = json.loads(value)
        return cls(bool(data["passed"]), str(data["compared_with"]), tuple(data["reasons"]))


@dataclass(frozen=True)
class VersionSummary:
    """One registered version as `zerochurn models` shows it.

    champion_periods: (start, end) of each time it was champion, end None while it is; a
    start of None is a change the records lack. gate: None when no decision was recorded.
    """

    version: str
    created_at: str
    run_id: str
    aliases: tuple[str, ...]
    metrics: dict[str, float]
    champion_periods: list[tuple[str | None, str | None]] = field(default_factory=list)
    gate: GateRecord | None = None
    tags: dict[str, str] = field(default_factory=dict)
    """The version's registry tags, e.g. "gate": the promotion gate's decision as JSON."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ChampionRegistry:
    """Aliases and champion history of one registered model.

    Parameters
    ----------
    client : MlflowClient bound to the tracking/registry URI (`configure`)
    name : registered model name
    """

    def __init__(self, client: MlflowClient, name: str) -> None:
        self.client = client
        self.name = name

    @_reaching_registry
    def register(self, model_uri: str, gate: str | None = None) -> ModelVersion:
        """Register `model_uri` as a new version and make it the challenger.

        gate: the gate's decision (GATE_TAG value), tagged in the same call that creates
        the version, so that a version trained through the gate never lacks it.
        """
        tags = None if gate is None else {GATE_TAG: gate}
        version = mlflow.register_model(model_uri, self.name, tags=tags)
        crash_point("registry:registered")
        self.client.set_registered_model_alias(self.name, CHALLENGER, version.version)
        return version

    @_reaching_registry
    def version(self, alias: str) -> ModelVersion | None:
        """The version holding `alias`, or None."""
        try:
            return self.client.get_model_version_by_alias(self.name, alias)
        except MlflowException as exc:
            if _network_failure(exc):
                raise
            return None

    @_reaching_registry
    def events(self) -> list[ChampionEvent]:
        """Every change of champion, oldest first."""
        try:
            tags = self.client.get_registered_model(self.name).tags
        except MlflowException as exc:
            if _network_failure(exc):
                raise
            return []
        keys = sorted(key for key in tags if key.startswith(EVENT_TAG_PREFIX))
        return [ChampionEvent(**json.loads(tags[key])) for key in keys]

    @_reaching_registry
    def history(self) -> list[ChampionEvent]:
        """Every change of champion, oldest first, as the champion alias has it.

        The recorded events, then, when the alias holds another version than the last
        of them names, the change the records lack (at None, reason UNRECORDED).
        """
        events = self.events()
        holder = self.version(CHAMPION)
        if holder is not None and (not events or events[-1].version != str(holder.version)):
            events.append(ChampionEvent(None, str(holder.version), "promote", UNRECORDED))
        return events

    def _append(self, event: ChampionEvent) -> ChampionEvent:
        key = f"{EVENT_TAG_PREFIX}{len(self.events()) + 1:06d}"
        self.client.set_registered_model_tag(self.name, key, json.dumps(event.__dict__))
        return event

    def _move(self, version: str, action: Action, reason: str) -> ChampionEvent:
        """Record a change the records lack, move the champion alias to `version`, then
        record this change: killed at any point, the alias and the history still agree."""
        recorded, history = self.events(), self.history()
        for missing in history[len(recorded) :]:
            self._append(missing)
        self.client.set_registered_model_alias(self.name, CHAMPION, version)
        crash_point("registry:alias-moved")
        return self._append(ChampionEvent(_now(), version, action, reason))

    @_reaching_registry
    def promote(self, version: str, reason: str) -> ChampionEvent | None:
        """Make `version` the champion and record why; None when it already is.

        Run again after it was killed, a promotion records itself once with its reason.
        """
        version = str(version)
        self.client.get_model_version(self.name, version)  # raises if unknown
        recorded, history = self.events(), self.history()
        if history and history[-1].version == version:
            if len(history) == len(recorded):
                return None
            return self._append(ChampionEvent(_now(), version, "promote", reason))
        return self._move(version, "promote", reason)

    def champion_stack(self) -> list[str]:
        """Champions in order of promotion with rolled-back ones removed; last is current."""
        stack: list[str] = []
        for event in self.history():
            if event.action == "promote":
                stack.append(event.version)
            elif stack:
                stack.pop()
        return stack

    @_reaching_registry
    def rollback(self, reason: str) -> ChampionEvent:
        """Return the champion role to the version that held it before the current one."""
        stack = self.champion_stack()
        if len(stack) < 2:
            raise ValueError(f"{self.name} has no earlier champion to roll back to")
        return self._move(stack[-2], "rollback", reason)

    @_reaching_registry
    def summaries(self) -> list[VersionSummary]:
        """Every version, newest first, with its test metrics and champion periods."""
        periods: dict[str, list[tuple[str | None, str | None]]] = {}
        current: tuple[str, str | None] | None = None
        for event in self.history():
            if current is not None:
                periods.setdefault(current[0], []).append((current[1], event.at))
            current = (event.version, event.at)
        if current is not None:
            periods.setdefault(current[0], []).append((current[1], None))
        summaries = []
        for found in self.client.search_model_versions(f"name='{self.name}'"):
            # search results carry no aliases; a direct lookup does
            version = self.client.get_model_version(self.name, found.version)
            run = self.client.get_run(version.run_id) if version.run_id else None
            metrics = run.data.metrics if run is not None else {}
            created = dt.datetime.fromtimestamp(version.creation_timestamp / 1000, dt.UTC)
            summaries.append(
                VersionSummary(
                    version=str(version.version),
                    created_at=created.isoformat(timespec="seconds"),
                    run_id=version.run_id or "",
                    aliases=tuple(version.aliases),
                    metrics=dict(metrics),
                    champion_periods=periods.get(str(version.version), []),
                    gate=GateRecord.from_tag(version.tags[GATE_TAG])
                    if GATE_TAG in version.tags
                    else None,
                    tags=dict(version.tags),
                )
            )
        return sorted(summaries, key=lambda s: int(s.version), reverse=True)


def champion_registry(settings: Settings) -> ChampionRegistry:
    """The registry of the configured model, MLflow configured for writing (`configure`)."""
    return ChampionRegistry(configure(settings), settings.mlflow.registered_model)


def _test_metrics(metrics: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in sorted(metrics.items()) if k.startswith(TEST_METRIC_PREFIX)}


def find_champion(settings: Settings) -> ChampionVersion:
    """The registered version holding the champion alias, read-only (nothing is created).

    Raises ModelUnavailableError, saying what to do, when there is no store or no champion.
    """
    uri = settings.tracking_uri
    if uri.startswith(SQLITE_URI_PREFIX) and not Path(uri[len(SQLITE_URI_PREFIX) :]).is_file():
        raise ModelUnavailableError(f"no MLflow database at {uri}: train a model (zerochurn train)")
    client = connect(settings)
    name = settings.mlflow.registered_model
    with reaching(uri):
        try:
            version = client.get_model_version_by_alias(name, CHAMPION)
        except MlflowException as exc:
            if _network_failure(exc):
                raise
            raise ModelUnavailableError(
                f"registered model {name!r} has no {CHAMPION!r} at {redact_uri(uri)}: "
                "train one (zerochurn train) or promote a version (zerochurn promote N)"
            ) from exc
        run = client.get_run(version.run_id) if version.run_id else None
    return ChampionVersion(
        name=name,
        version=str(version.version),
        run_id=version.run_id or "",
        test_metrics={} if run is None else _test_metrics(run.data.metrics),
    )


def load_champion(settings: Settings, found: ChampionVersion | None = None) -> Champion:
    """The champion's fitted model and card, loaded from its pinned version.

    `found` (find_champion's) names the version; by default the current champion.
    Raises ModelUnavailableError when there is none.
    """
    found = found or find_champion(settings)
    with reaching(settings.tracking_uri):
        return load_champion_from(found.uri, found)


def model_location(settings: Settings, found: ChampionVersion) -> str:
    """Where the files of the registered version `found` are (a file:, s3:, dbfs: ... URI).

    Loading from there needs no registry: Spark executors do (`load_champion_from`).
    """
    with reaching(settings.tracking_uri):
        return connect(settings).get_model_version_download_uri(found.name, found.version)


def download_champion(settings: Settings, found: ChampionVersion, folder: Path) -> Path:
    """Copy the model files of the registered version `found` into `folder` (created);
    the local model folder, which `load_champion_from` loads with no registry."""
    connect(settings)
    with reaching(settings.tracking_uri):
        return Path(mlflow.artifacts.download_artifacts(found.uri, dst_path=str(folder)))


def load_champion_from(location: str, found: ChampionVersion) -> Champion:
    """The champion `found` loaded from its model files at `location` (a model URI)."""
    pyfunc = mlflow.pyfunc.load_model(location).unwrap_python_model()
    return Champion(
        registered=found, model=pyfunc.model, card=pyfunc.card, survival=pyfunc.survival
    )


def newest_card(settings: Settings) -> tuple[str, ModelCard] | None:
    """The newest registered version, whatever its aliases, and its logged model card;
    None when nothing is registered yet. Reads only (nothing is created)."""
    uri = settings.tracking_uri
    if uri.startswith(SQLITE_URI_PREFIX) and not Path(uri[len(SQLITE_URI_PREFIX) :]).is_file():
        return None
    client = connect(settings)
    found = client.search_model_versions(f"name='{settings.mlflow.registered_model}'")
    if not found:
        return None
    newest = max(found, key=lambda version: int(version.version))
    with tempfile.TemporaryDirectory() as folder:
        path = client.download_artifacts(newest.run_id, MODEL_CARD_FILE, folder)
        card = ModelCard.from_json(json.loads(Path(path).read_text()))
    return str(newest.version), card


def load_reference(settings: Settings, found: ChampionVersion) -> pd.DataFrame:
    """The reference rows training logged with the champion: a sample of its training rows,
    with their scores (features, churned, churn_probability, customer_id, as_of)."""
    client = connect(settings)
    with tempfile.TemporaryDirectory() as folder, reaching(settings.tracking_uri):
        path = client.download_artifacts(
            found.run_id, f"{REFERENCE_ARTIFACT}/{REFERENCE_FILE}", folder
        )
        return pd.read_parquet(path)


@dataclass(frozen=True)
class ValidatedUplift:
    """The registered uplift model holding the alias VALIDATED, loaded."""

    version: str
    model: UpliftModel = field(repr=False)


def load_validated_uplift(settings: Settings) -> ValidatedUplift | None:
    """The validated uplift model (uplift.registered_model @ VALIDATED), or None without one.

    Read-only, like find_champion: no store, no registered model or no validated version
    all give None; a tracking server that cannot be reached raises RegistryUnavailableError.
    """
    uri = settings.tracking_uri
    if uri.startswith(SQLITE_URI_PREFIX) and not Path(uri[len(SQLITE_URI_PREFIX) :]).is_file():
        return None
    client = connect(settings)
    name = settings.uplift.registered_model
    with reaching(uri):
        try:
            version = client.get_model_version_by_alias(name, VALIDATED)
        except MlflowException as exc:
            if _network_failure(exc):
                raise
            return None
        pyfunc = mlflow.pyfunc.load_model(f"models:/{name}/{version.version}").unwrap_python_model()
    return ValidatedUplift(version=str(version.version), model=pyfunc.model)

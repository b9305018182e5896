"""The model registry: challenger/champion aliases and a champion history MLflow does not keep.

MLflow aliases only say who holds a role now. Every change of champion is therefore also
written as an event tag on the registered model (``zerochurn.event.000001`` = JSON), from
which the history, the champion periods of each version and the rollback target follow.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Literal

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

CHAMPION = "champion"
CHALLENGER = "challenger"
EVENT_TAG_PREFIX = "zerochurn.event."

Action = Literal["promote", "rollback"]


@dataclass(frozen=True)
class ChampionEvent:
    """One change of champion: who became champion, how and why."""

    at: str
    version: str
    action: Action
    reason: str


@dataclass(frozen=True)
class VersionSummary:
    """One registered version as `zerochurn models` shows it."""

    version: str
    created_at: str
    run_id: str
    aliases: tuple[str, ...]
    metrics: dict[str, float]
    champion_periods: list[tuple[str, str | None]] = field(default_factory=list)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ChampionRegistry:
    """Aliases and champion history of one registered model.

    Parameters
    ----------
    client : MlflowClient bound to the tracking/registry URI
    name : registered model name
    """

    def __init__(self, client: MlflowClient, name: str) -> None:
        self.client = client
        self.name = name

    def register(self, model_uri: str) -> ModelVersion:
        """Register `model_uri` as a new version and make it the challenger."""
        version = mlflow.register_model(model_uri, self.name)
        self.client.set_registered_model_alias(self.name, CHALLENGER, version.version)
        return version

    def version(self, alias: str) -> ModelVersion | None:
        """The version holding `alias`, or None."""
        try:
            return self.client.get_model_version_by_alias(self.name, alias)
        except MlflowException:
            return None

    def events(self) -> list[ChampionEvent]:
        """Every change of champion, oldest first."""
        try:
            tags = self.client.get_registered_model(self.name).tags
        except MlflowException:
            return []
        keys = sorted(key for key in tags if key.startswith(EVENT_TAG_PREFIX))
        return [ChampionEvent(**json.loads(tags[key])) for key in keys]

    def _record(self, version: str, action: Action, reason: str) -> ChampionEvent:
        event = ChampionEvent(at=_now(), version=str(version), action=action, reason=reason)
        key = f"{EVENT_TAG_PREFIX}{len(self.events()) + 1:06d}"
        self.client.set_registered_model_tag(self.name, key, json.dumps(event.__dict__))
        self.client.set_registered_model_alias(self.name, CHAMPION, str(version))
        return event

    def promote(self, version: str, reason: str) -> ChampionEvent:
        """Make `version` the champion and record why."""
        self.client.get_model_version(self.name, str(version))  # raises if unknown
        return self._record(str(version), "promote", reason)

    def champion_stack(self) -> list[str]:
        """Champions in order of promotion with rolled-back ones removed; last is current."""
        stack: list[str] = []
        for event in self.events():
            if event.action == "promote":
                stack.append(event.version)
            elif stack:
                stack.pop()
        return stack

    def rollback(self, reason: str) -> ChampionEvent:
        """Return the champion role to the version that held it before the current one."""
        stack = self.champion_stack()
        if len(stack) < 2:
            raise ValueError(f"{self.name} has no earlier champion to roll back to")
        return self._record(stack[-2], "rollback", reason)

    def summaries(self) -> list[VersionSummary]:
        """Every version, newest first, with its test metrics and champion periods."""
        periods: dict[str, list[tuple[str, str | None]]] = {}
        current: tuple[str, str] | None = None
        for event in self.events():
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
                )
            )
        return sorted(summaries, key=lambda s: int(s.version), reverse=True)

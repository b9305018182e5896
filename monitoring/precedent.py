"""What the retraining policy must know about the last retrain: the newest model version
trained (from the registry) and the earlier monitoring runs (from the history).

`load_precedent` gathers both for `monitor.check`; the policy (monitoring/policy.py)
decides with them whether a retrain for drift would repeat the last one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from zerochurn.configs.settings import Settings
from zerochurn.journal import read_records
from zerochurn.model.card import ModelCard
from zerochurn.model.champion import RegistryUnavailableError
from zerochurn.model.registry import newest_card
from zerochurn.monitoring.errors import MonitoringError
from zerochurn.monitoring.policy import DRIFT_CHECKS, DriftReport, LastTraining

MONITORING_FOLDER = "monitoring"
HISTORY_FILE = "history.jsonl"


@dataclass(frozen=True)
class Precedent:
    """The history of monitoring runs and the newest trained version (None: none yet)."""

    history: tuple[DriftReport, ...]
    last: LastTraining | None


def history_path(settings: Settings) -> Path:
    """<workspace>/monitoring/history.jsonl: one line per monitoring run."""
    return settings.workspace / MONITORING_FOLDER / HISTORY_FILE


def drift_report(record: Mapping[str, Any]) -> DriftReport:
    """A history line as the policy reads it.

    Lines written before the checks that fired were recorded ("fired") count as a drift
    report when their decision was "retrain".
    """
    fired = record.get("fired")
    drift = (
        bool(set(fired) & set(DRIFT_CHECKS))
        if fired is not None
        else record["decision"] == "retrain"
    )
    period = record.get("period")
    return DriftReport(
        run=record["run"],
        created_at=dt.datetime.fromisoformat(record["created_at"]),
        period=None if period is None else pd.Timestamp(period),
        drift_fired=drift,
    )


def last_training(version: str, card: ModelCard) -> LastTraining:
    """The policy's view of a trained version's card."""
    return LastTraining(
        version=version,
        trained_at=dt.datetime.fromisoformat(card.trained_at),
        train_as_of=tuple(pd.Timestamp(day) for day in card.train_as_of),
        window_days=card.horizon_days,
    )


def precedent_of(records: Sequence[Mapping[str, Any]], newest: tuple[str, ModelCard] | None):
    """The Precedent of history lines and the newest (version, card), if any."""
    return Precedent(
        history=tuple(drift_report(record) for record in records),
        last=None if newest is None else last_training(*newest),
    )


def load_precedent(settings: Settings) -> Precedent:
    """The workspace's monitoring history and the registry's newest trained version.

    Raises MonitoringError when the registry cannot be reached.
    """
    path = history_path(settings)
    records = read_records(path) if path.is_file() else []
    try:
        newest = newest_card(settings)
    except RegistryUnavailableError as exc:
        raise MonitoringError(str(exc)) from exc
    return precedent_of(records, newest)

"""A checked monitoring run as one typed result, and summary.json, its JSON form.

`MonitoringSummary` gathers the typed results of each job of a run (where the current
rows came from, drift, performance, the policy's decision); `to_json` writes the
documented summary.json shape (docs/monitoring.md). Code reads the attributes, never
the JSON back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from zerochurn.monitoring.current import DataSource, LogSource
from zerochurn.monitoring.drift import DataDrift, PredictionDrift
from zerochurn.monitoring.performance import Performance
from zerochurn.monitoring.policy import Decision

ReportKind = Literal["drift", "performance"]
REPORT_FILES: dict[ReportKind, str] = {"drift": "drift.html", "performance": "performance.html"}
"""The Evidently report of each kind, as a file of the run folder."""


@dataclass(frozen=True)
class ModelFacts:
    """The champion a run checked; age_days: days from its training to the run."""

    name: str
    version: str
    run_id: str
    trained_at: str
    age_days: float


@dataclass(frozen=True)
class ReferenceFacts:
    """The reference rows compared with: how many, their as-of days, whose training rows."""

    rows: int
    as_of: tuple[str, ...]
    model_version: str


@dataclass(frozen=True)
class MonitoringSummary:
    """Everything a monitoring run found and decided.

    run: the run's name (its folder), from its UTC time; current: where the current rows
    came from, current_rows: how many; compared: both sides of the comparison in words;
    reports: the Evidently reports written.
    """

    run: str
    created_at: str
    decision: Decision
    model: ModelFacts
    current: DataSource | LogSource
    current_rows: int
    reference: ReferenceFacts
    compared: str
    data_drift: DataDrift
    prediction_drift: PredictionDrift
    performance: Performance
    reports: tuple[ReportKind, ...]

    def to_json(self) -> dict[str, Any]:
        """summary.json: JSON-ready data, in the documented shape."""
        return {
            "run": self.run,
            "created_at": self.created_at,
            "decision": self.decision.action,
            "hold": None if self.decision.hold is None else asdict(self.decision.hold),
            "compared": self.compared,
            "reasons": list(self.decision.reasons),
            "checks": [asdict(rule) for rule in self.decision.checks],
            "model": asdict(self.model),
            "current": self.current.to_json() | {"rows": self.current_rows},
            "reference": asdict(self.reference) | {"as_of": list(self.reference.as_of)},
            "data_drift": self.data_drift.to_json(),
            "prediction_drift": self.prediction_drift.to_json(),
            "performance": self.performance.to_json(),
            "reports": {kind: REPORT_FILES[kind] for kind in self.reports},
        }

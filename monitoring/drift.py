"""Drift of every feature the champion reads and of its predictions, current vs reference.

`check_drift` runs the Evidently drift report (monitoring/report.py) and reads it back
(monitoring/results.py) into typed results; a feature without any value in one of the
frames cannot be measured and counts as drifted when it has values in the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zerochurn.configs.settings import MonitoringConfig
from zerochurn.features.catalog import column_spec
from zerochurn.model.outputs import PROBABILITY_COLUMN
from zerochurn.monitoring.champion import ChampionContext
from zerochurn.monitoring.errors import MonitoringError
from zerochurn.monitoring.report import Columns, run_report
from zerochurn.monitoring.results import ColumnDrift, read_results

if TYPE_CHECKING:
    from evidently.core.report import Snapshot

UNMEASURED = "no values"
"""Method shown for a feature that has no value in the current or the reference rows."""


def _entry(drift: ColumnDrift) -> dict[str, Any]:
    """A column's drift as summary.json writes it."""
    return {
        "method": drift.method,
        "score": drift.score,
        "threshold": drift.threshold,
        "drifted": drift.drifted,
    }


def severity(drift: ColumnDrift) -> float:
    """How far past its threshold a column is; an unmeasured drifted column ranks first."""
    if drift.score is None or drift.threshold is None:
        return np.inf if drift.drifted else 0.0
    return drift.score / drift.threshold


@dataclass(frozen=True)
class GroupDrift:
    """Features of one catalog group, and how many of them drifted."""

    features: int
    drifted: int


@dataclass(frozen=True)
class DataDrift:
    """Drift of every feature the champion reads, most drifted first (`severity`).

    threshold: monitoring.drift_share, the share of drifted features the policy retrains at.
    """

    columns: tuple[ColumnDrift, ...]
    threshold: float

    @property
    def drifted(self) -> list[str]:
        """The drifted features, most drifted first."""
        return [entry.column for entry in self.columns if entry.drifted]

    @property
    def share(self) -> float:
        """Drifted features / features checked."""
        return len(self.drifted) / len(self.columns)

    def groups(self) -> dict[str, GroupDrift]:
        """Features and drifted features per catalog group, in order of first appearance."""
        counts: dict[str, list[int]] = {}
        for entry in self.columns:
            count = counts.setdefault(column_spec(entry.column).group, [0, 0])
            count[0] += 1
            count[1] += int(entry.drifted)
        return {group: GroupDrift(*count) for group, count in counts.items()}

    def to_json(self) -> dict[str, Any]:
        """The data_drift block of summary.json."""
        return {
            "features": len(self.columns),
            "drifted": self.drifted,
            "share": self.share,
            "threshold": self.threshold,
            "groups": {
                group: {"features": drift.features, "drifted": drift.drifted}
                for group, drift in self.groups().items()
            },
            "columns": {
                entry.column: {"group": column_spec(entry.column).group} | _entry(entry)
                for entry in self.columns
            },
        }


@dataclass(frozen=True)
class PredictionDrift:
    """Drift of the churn probability, with its mean in the reference and current rows."""

    drift: ColumnDrift
    reference_mean: float
    current_mean: float

    def to_json(self) -> dict[str, Any]:
        """The prediction_drift block of summary.json."""
        return _entry(self.drift) | {
            "column": PROBABILITY_COLUMN,
            "reference_mean": self.reference_mean,
            "current_mean": self.current_mean,
        }


@dataclass(frozen=True)
class DriftCheck:
    """What the drift report found, and the report itself (for drift.html)."""

    data: DataDrift
    prediction: PredictionDrift
    snapshot: Snapshot = field(repr=False)


def check_drift(
    rows: pd.DataFrame,
    reference: pd.DataFrame,
    champion: ChampionContext,
    config: MonitoringConfig,
) -> DriftCheck:
    """Drift of each feature and of the prediction, current `rows` against `reference`.

    Both frames need the champion's features and churn_probability. Raises
    MonitoringError naming the columns the current rows lack.
    """
    features = champion.features
    missing = [name for name in [*features, PROBABILITY_COLUMN] if name not in rows.columns]
    if missing:
        raise MonitoringError(
            f"the current rows lack columns {missing} that model version {champion.version} reads"
        )
    blank = {name: (rows[name].isna().all(), reference[name].isna().all()) for name in features}
    unmeasured = {
        name: ColumnDrift(name, UNMEASURED, None, None, drifted=in_current != in_reference)
        for name, (in_current, in_reference) in blank.items()
        if in_current or in_reference
    }
    columns = Columns(
        numeric=tuple(name for name in champion.model.numeric if name not in unmeasured),
        categorical=tuple(name for name in champion.model.categorical if name not in unmeasured),
    )
    snapshot = run_report(current=rows, reference=reference, columns=columns, config=config)
    measured = read_results(snapshot.dict()).drift
    drift = [unmeasured.get(name) or measured[name] for name in features]
    return DriftCheck(
        data=DataDrift(
            columns=tuple(sorted(drift, key=severity, reverse=True)),
            threshold=config.drift_share,
        ),
        prediction=PredictionDrift(
            drift=measured[PROBABILITY_COLUMN],
            reference_mean=float(reference[PROBABILITY_COLUMN].mean()),
            current_mean=float(rows[PROBABILITY_COLUMN].mean()),
        ),
        snapshot=snapshot,
    )

"""A monitoring check: the champion's reference against current rows, to a decision.

`check` runs the jobs of a run on rows gathered by monitoring/current.py: drift
(monitoring/drift.py), delayed-label performance (monitoring/performance.py), the
retraining policy (monitoring/policy.py, told about the last retrain by
monitoring/precedent.py), and draws the figures; the typed result is saved by
monitoring/record.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from zerochurn.configs.settings import Settings
from zerochurn.features.build import LABEL_COLUMN
from zerochurn.model.outputs import PROBABILITY_COLUMN
from zerochurn.model.plots import calibration_figure
from zerochurn.monitoring import plots
from zerochurn.monitoring.champion import ChampionContext
from zerochurn.monitoring.current import Current, as_of_days
from zerochurn.monitoring.drift import check_drift
from zerochurn.monitoring.errors import MonitoringError
from zerochurn.monitoring.performance import check_performance
from zerochurn.monitoring.policy import Decision, decide, hold
from zerochurn.monitoring.precedent import Precedent
from zerochurn.monitoring.summary import (
    ModelFacts,
    MonitoringSummary,
    ReferenceFacts,
    ReportKind,
)

if TYPE_CHECKING:
    from evidently.core.report import Snapshot
    from matplotlib.figure import Figure

RUN_FORMAT = "%Y%m%dT%H%M%S.%fZ"
SECONDS_PER_DAY = 86_400
NAMED_DAYS = 3
"""As-of days listed one by one when saying what a run compared; more are a range."""


@dataclass(frozen=True)
class Outcome:
    """A checked monitoring run, not yet saved: its summary, Evidently reports and figures."""

    summary: MonitoringSummary
    snapshots: dict[ReportKind, Snapshot] = field(repr=False)
    figures: dict[str, Figure] = field(repr=False)

    @property
    def decision(self) -> Decision:
        """The retraining policy's verdict."""
        return self.summary.decision


def reference_rows(champion: ChampionContext, snapshots: int | None) -> pd.DataFrame:
    """The reference rows of the champion's latest `snapshots` training as-of dates.

    A model trained on a flat table has no as-of dates: all its reference rows count.
    """
    reference = champion.reference
    if snapshots is None or "as_of" not in reference:
        return reference
    latest = sorted(reference["as_of"].unique())[-snapshots:]
    return reference[reference["as_of"].isin(latest)]


def days(as_of: tuple[str, ...]) -> str:
    """As-of days in a few words: "2025-02-01, 2025-03-01", "2025-01-01 .. 2025-06-01 (6 days)"."""
    if not as_of:
        return "no as-of dates"
    if len(as_of) <= NAMED_DAYS:
        return ", ".join(as_of)
    return f"{as_of[0]} .. {as_of[-1]} ({len(as_of)} days)"


def compared(current: Current, rows: int, reference: ReferenceFacts) -> str:
    """What a run compared, in words: the current rows and the reference rows."""
    return (
        f"{rows:,} current rows ({current.label}; as-of {days(current.source.as_of_days)}) "
        f"against {reference.rows:,} reference rows (model version {reference.model_version}'s "
        f"training rows; as-of {days(reference.as_of)})"
    )


def check(
    champion: ChampionContext,
    current: Current,
    settings: Settings,
    *,
    now: dt.datetime,
    precedent: Precedent | None = None,
) -> Outcome:
    """Run the drift and performance reports and the retraining policy on `current`.

    `now` (UTC) names the run and dates the model's age; `precedent` (the history and the
    newest trained version, `precedent.load_precedent`) tells the policy whether a
    retrain would repeat the last one (None: nothing before this run). Raises
    MonitoringError when there are fewer current rows than monitoring.min_rows.
    """
    config = settings.monitoring
    if len(current.rows) < config.min_rows:
        raise MonitoringError(
            f"only {len(current.rows)} current rows ({current.label}): expected at least "
            f"monitoring.min_rows={config.min_rows}{current.note}"
        )
    reference = reference_rows(champion, config.reference_snapshots)
    drift = check_drift(current.rows, reference, champion, config)
    performance, performance_snapshot = check_performance(current.labelled, champion, config)
    trained_at = dt.datetime.fromisoformat(champion.card.trained_at)
    age_days = (now - trained_at).total_seconds() / SECONDS_PER_DAY
    precedent = precedent or Precedent(history=(), last=None)
    held = hold(
        history=precedent.history,
        last=precedent.last,
        period=pd.Timestamp(current.source.period),
        now=now,
        config=config,
        training=settings.training,
    )
    decision = decide(
        drifted_features=drift.data.drifted,
        n_features=len(drift.data.columns),
        prediction=drift.prediction.drift,
        auc=performance.roc_auc,
        test_auc=champion.test_metrics["roc_auc"],
        ece=performance.ece,
        test_ece=champion.test_metrics["ece"],
        model_age_days=age_days,
        config=config,
        held=held,
    )
    reference_facts = ReferenceFacts(
        rows=len(reference), as_of=as_of_days(reference), model_version=champion.version
    )
    snapshots: dict[ReportKind, Snapshot] = {"drift": drift.snapshot}
    if performance_snapshot is not None:
        snapshots["performance"] = performance_snapshot
    summary = MonitoringSummary(
        run=now.strftime(RUN_FORMAT),
        created_at=now.isoformat(timespec="seconds"),
        decision=decision,
        model=ModelFacts(
            name=champion.name,
            version=champion.version,
            run_id=champion.run_id,
            trained_at=champion.card.trained_at,
            age_days=age_days,
        ),
        current=current.source,
        current_rows=len(current.rows),
        reference=reference_facts,
        compared=compared(current, len(current.rows), reference_facts),
        data_drift=drift.data,
        prediction_drift=drift.prediction,
        performance=performance,
        reports=tuple(snapshots),
    )
    figures = {
        "drift": plots.drift_figure([*drift.data.columns, drift.prediction.drift]),
        "prediction": plots.prediction_figure(
            reference[PROBABILITY_COLUMN].to_numpy(), current.rows[PROBABILITY_COLUMN].to_numpy()
        ),
    }
    if performance.judged:
        figures["calibration"] = calibration_figure(
            current.labelled[LABEL_COLUMN].to_numpy(),
            {f"version {champion.version}": current.labelled[PROBABILITY_COLUMN].to_numpy()},
        )
    return Outcome(summary, snapshots, figures)

"""A monitoring check: the champion's reference against current rows, to a decision.

`check` runs the jobs of a run on rows gathered by monitoring/current.py: drift
(monitoring/drift.py), delayed-label performance (monitoring/performance.py), the
retraining policy (monitoring/policy.py), and draws the figures; the typed result is
saved by monitoring/record.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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
from zerochurn.monitoring.policy import Decision, decide
from zerochurn.monitoring.summary import (
    ModelFacts,
    MonitoringSummary,
    ReferenceFacts,
    ReportKind,
)

if TYPE_CHECKING:
    import pandas as pd
    from evidently.core.report import Snapshot
    from matplotlib.figure import Figure

RUN_FORMAT = "%Y%m%dT%H%M%S.%fZ"
SECONDS_PER_DAY = 86_400


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


def check(
    champion: ChampionContext, current: Current, settings: Settings, *, now: dt.datetime
) -> Outcome:
    """Run the drift and performance reports and the retraining policy on `current`.

    `now` (UTC) names the run and dates the model's age. Raises MonitoringError when
    there are fewer current rows than monitoring.min_rows.
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
        reference=ReferenceFacts(rows=len(reference), as_of=as_of_days(reference)),
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

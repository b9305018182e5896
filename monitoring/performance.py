"""Delayed-label performance: the champion's ROC-AUC and calibration on rows whose label is
now known, against the same figures on its test period."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from zerochurn.configs.settings import MonitoringConfig
from zerochurn.features.build import LABEL_COLUMN
from zerochurn.model.metrics import expected_calibration_error
from zerochurn.model.outputs import PROBABILITY_COLUMN
from zerochurn.monitoring.champion import ChampionContext
from zerochurn.monitoring.current import as_of_days
from zerochurn.monitoring.report import Columns, run_report
from zerochurn.monitoring.results import read_results

if TYPE_CHECKING:
    from evidently.core.report import Snapshot


@dataclass(frozen=True)
class Performance:
    """How the champion does on labelled rows, next to its test-period figures.

    judged: whether there were enough churners and stayers (monitoring.min_labelled_churners)
    to judge; the figures from roc_auc on are None when not. auc_drop: test ROC-AUC minus
    this one; ece_change: this ECE minus the test ECE.
    """

    rows: int
    churners: int
    as_of: tuple[str, ...]
    test_roc_auc: float
    test_ece: float
    judged: bool
    roc_auc: float | None = None
    ece: float | None = None
    log_loss: float | None = None
    mean_probability: float | None = None
    churn_rate: float | None = None
    auc_drop: float | None = None
    ece_change: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The performance block of summary.json (the judged figures only when judged)."""
        block: dict[str, Any] = {
            "rows": self.rows,
            "churners": self.churners,
            "as_of": list(self.as_of),
            "test_roc_auc": self.test_roc_auc,
            "test_ece": self.test_ece,
            "judged": self.judged,
        }
        if self.judged:
            block |= {
                "roc_auc": self.roc_auc,
                "ece": self.ece,
                "log_loss": self.log_loss,
                "mean_probability": self.mean_probability,
                "churn_rate": self.churn_rate,
                "auc_drop": self.auc_drop,
                "ece_change": self.ece_change,
            }
        return block


def check_performance(
    labelled: pd.DataFrame, champion: ChampionContext, config: MonitoringConfig
) -> tuple[Performance, Snapshot | None]:
    """ROC-AUC, ECE and more of the labelled rows against the champion's test figures.

    labelled: rows with churn_probability and churned 0/1. The Evidently snapshot is None
    when too few churners or stayers are labelled to judge.
    """
    y = labelled[LABEL_COLUMN].to_numpy()
    churners = int(y.sum())
    unjudged = Performance(
        rows=len(labelled),
        churners=churners,
        as_of=as_of_days(labelled),
        test_roc_auc=champion.test_metrics["roc_auc"],
        test_ece=champion.test_metrics["ece"],
        judged=False,
    )
    if min(churners, len(y) - churners) < config.min_labelled_churners:
        return unjudged, None
    snapshot = run_report(
        current=labelled, reference=None, columns=Columns(label=LABEL_COLUMN), config=config
    )
    results = read_results(snapshot.dict())
    auc = results.scores["roc_auc"]
    ece = expected_calibration_error(y, labelled[PROBABILITY_COLUMN].to_numpy())
    judged = replace(
        unjudged,
        judged=True,
        roc_auc=auc,
        ece=ece,
        log_loss=results.scores["log_loss"],
        mean_probability=results.means[PROBABILITY_COLUMN],
        churn_rate=results.means[LABEL_COLUMN],
        auc_drop=champion.test_metrics["roc_auc"] - auc,
        ece_change=ece - champion.test_metrics["ece"],
    )
    return judged, snapshot

"""Keeping a checked monitoring run: its folder, a line of the history, an MLflow run.

<workspace>/monitoring/<run>/ gets the Evidently reports (the drift page with the run's
summary on top, monitoring/page.py), summary.json and the figures;
<workspace>/monitoring/history.jsonl one line per run, from which the trend figure is
drawn; monitoring/tracking.py the MLflow run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from zerochurn.configs.settings import MonitoringConfig, Settings
from zerochurn.io import atomic_directory, write_json
from zerochurn.journal import append_record, read_records
from zerochurn.monitoring.errors import MonitoringError
from zerochurn.monitoring.monitor import Outcome
from zerochurn.monitoring.page import drift_page
from zerochurn.monitoring.plots import trend_figure
from zerochurn.monitoring.precedent import MONITORING_FOLDER, history_path
from zerochurn.monitoring.summary import REPORT_FILES, MonitoringSummary
from zerochurn.monitoring.tracking import log_monitoring_run

SUMMARY_FILE = "summary.json"

HISTORY_THRESHOLDS: dict[str, Callable[[MonitoringConfig], float]] = {
    "drift_share": lambda config: config.drift_share,
    "prediction_drift": lambda config: config.prediction_threshold,
    "auc_drop": lambda config: config.auc_drop,
    "ece_change": lambda config: config.ece_rise,
}
"""History columns drawn in the trend figure, with the policy threshold of each."""


def history_record(summary: MonitoringSummary) -> dict[str, Any]:
    """The line a run adds to history.jsonl: its headline numbers, for trend charts."""
    performance = summary.performance
    return {
        "run": summary.run,
        "created_at": summary.created_at,
        "period": summary.current.period,
        "source": summary.current.source,
        "model_version": summary.model.version,
        "model_age_days": summary.model.age_days,
        "rows": summary.current_rows,
        "drift_share": summary.data_drift.share,
        "drifted_features": len(summary.data_drift.drifted),
        "prediction_drift": summary.prediction_drift.drift.score,
        "roc_auc": performance.roc_auc,
        "ece": performance.ece,
        "auc_drop": performance.auc_drop,
        "ece_change": performance.ece_change,
        "decision": summary.decision.action,
        "fired": list(summary.decision.fired),
        "until": None if summary.decision.hold is None else summary.decision.hold.until,
    }


def save(outcome: Outcome, settings: Settings) -> Path:
    """Write the run folder, add the run to the history, log it to MLflow; return the folder.

    <workspace>/monitoring/<run>/ gets drift.html (and performance.html when labels were
    judged), summary.json and the figures as PNG, trend.png included;
    <workspace>/monitoring/history.jsonl gets one line per run. Raises MonitoringError
    when the run's folder exists: a run is never overwritten.
    """
    summary = outcome.summary
    root = settings.workspace / MONITORING_FOLDER
    history_file = history_path(settings)
    record = history_record(summary)
    history = read_records(history_file) if history_file.is_file() else []
    trend = pd.DataFrame([*history, record])
    trend = trend.assign(period=pd.to_datetime(trend["period"])).astype(
        {name: float for name in HISTORY_THRESHOLDS}
    )
    thresholds = {name: rule(settings.monitoring) for name, rule in HISTORY_THRESHOLDS.items()}
    figures = outcome.figures | {"trend": trend_figure(trend, thresholds)}
    folder = root / summary.run
    if folder.exists():
        raise MonitoringError(f"{folder} exists: a monitoring run is never overwritten")
    with atomic_directory(folder) as staging:
        for kind, snapshot in outcome.snapshots.items():
            page = drift_page(snapshot, summary) if kind == "drift" else snapshot
            page.save_html(str(staging / REPORT_FILES[kind]))
        for name, figure in figures.items():
            figure.savefig(staging / f"{name}.png")
            plt.close(figure)
        write_json(summary.to_json(), staging / SUMMARY_FILE)
    append_record(history_file, record)
    numbers = {
        name: float(value)
        for name, value in record.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    log_monitoring_run(
        settings,
        summary,
        metrics=numbers | {"retrain": float(summary.decision.action == "retrain")},
        artifacts=[folder / REPORT_FILES[kind] for kind in summary.reports]
        + [folder / f"{name}.png" for name in figures]
        + [folder / SUMMARY_FILE],
    )
    return folder

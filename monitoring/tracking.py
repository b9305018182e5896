"""Monitoring's own MLflow runs, in the experiment "<experiment>-monitoring".

Models and their runs are written by training/ only. This module records each
monitoring run beside them, named "monitor v7 2026-03-01" (the model version and the
monitored period): headline numbers as metrics, the decision as tags, the Evidently
reports, figures and summary.json as artifacts, through model/registry.py's
`log_side_run`, which leaves the process's active MLflow experiment to training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from zerochurn.configs.settings import Settings
from zerochurn.model.registry import log_side_run
from zerochurn.monitoring.summary import MonitoringSummary

EXPERIMENT_SUFFIX = "-monitoring"
ARTIFACT_FOLDER = "monitoring"
"""Subfolder of <workspace>/mlflow/artifacts for monitoring runs (embedded store only)."""


def log_monitoring_run(
    settings: Settings,
    summary: MonitoringSummary,
    metrics: Mapping[str, float],
    artifacts: Sequence[Path],
) -> str:
    """Record one monitoring run and return its MLflow run id.

    Parameters
    ----------
    summary : the checked run (its name, decision, model version and source are tags)
    metrics : headline numbers, logged as run metrics
    artifacts : files logged at the run's artifact root (reports, figures, summary.json)

    Interrupted (KeyboardInterrupt, SIGTERM in the CLI) the run ends KILLED, on any other
    error FAILED, never left RUNNING.
    """
    return log_side_run(
        settings,
        EXPERIMENT_SUFFIX,
        ARTIFACT_FOLDER,
        run_name=f"monitor v{summary.model.version} {summary.current.period}",
        tags={
            "decision": summary.decision.action,
            "model_version": summary.model.version,
            "current.source": summary.current.source,
            "monitoring.run": summary.run,
        },
        metrics=metrics,
        artifacts=artifacts,
    )

"""Monitoring's own MLflow runs, in the experiment "<experiment>-monitoring".

Models and their runs are written by training/ only. This module records each
monitoring run beside them: headline numbers as metrics, the decision as tags, the
figures and summary.json as artifacts (the HTML reports, several MB each, stay in the
run folder), through model/registry.py's `log_side_run`, which leaves the process's
active MLflow experiment to training.
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
    artifacts : files logged at the run's artifact root (figures, summary.json)
    """
    return log_side_run(
        settings,
        EXPERIMENT_SUFFIX,
        ARTIFACT_FOLDER,
        run_name=f"monitor-{summary.run}",
        tags={
            "decision": summary.decision.action,
            "model_version": summary.model.version,
            "current.source": summary.current.source,
        },
        metrics=metrics,
        artifacts=artifacts,
    )

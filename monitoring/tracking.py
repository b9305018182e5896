"""Monitoring's own MLflow runs, in the experiment "<experiment>-monitoring".

Models and their runs are written by training/ only. This module records each
monitoring run beside them: headline numbers as metrics, the decision as tags, the
figures and summary.json as artifacts (the HTML reports, several MB each, stay in the
run folder). It uses an explicit client (model/registry.py's `configure`) and
experiment id, so the active MLflow experiment of the process is left to training.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlflow.entities import Metric

from zerochurn.configs.settings import Settings
from zerochurn.model.registry import configure, ensure_experiment
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
    client = configure(settings)
    run = client.create_run(
        ensure_experiment(
            client, settings, settings.mlflow.experiment + EXPERIMENT_SUFFIX, ARTIFACT_FOLDER
        ),
        run_name=f"monitor-{summary.run}",
        tags={
            "decision": summary.decision.action,
            "model_version": summary.model.version,
            "current.source": summary.current.source,
        },
    )
    run_id = run.info.run_id
    stamp = int(time.time() * 1000)
    client.log_batch(
        run_id, metrics=[Metric(name, float(value), stamp, 0) for name, value in metrics.items()]
    )
    for path in artifacts:
        client.log_artifact(run_id, str(path))
    client.set_terminated(run_id)
    return run_id

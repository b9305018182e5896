"""Campaign measurements as MLflow runs, in the experiment "<experiment>-campaigns".

One run per measurement: the campaign's facts as parameters, its numeric headline figures
as metrics, the HTML page, JSON and figure as artifacts. As monitoring/tracking.py does, it
uses an explicit client and experiment id, leaving the process's active experiment alone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from mlflow.entities import Metric, Param

from zerochurn.campaigns.store import Campaign
from zerochurn.configs.settings import Settings
from zerochurn.model.registry import configure, ensure_experiment

EXPERIMENT_SUFFIX = "-campaigns"
ARTIFACT_FOLDER = "campaigns"
"""Subfolder of <workspace>/mlflow/artifacts for campaign runs (embedded store only)."""


def log_measurement(
    settings: Settings,
    campaign: Campaign,
    figures: dict[str, object],
    artifacts: Sequence[Path],
) -> str:
    """Record one measurement of `campaign` and return its MLflow run id.

    figures: the summary's values; the numbers among them are logged as metrics.
    artifacts: files logged at the run's artifact root.
    """
    client = configure(settings)
    run = client.create_run(
        ensure_experiment(
            client, settings, settings.mlflow.experiment + EXPERIMENT_SUFFIX, ARTIFACT_FOLDER
        ),
        run_name=f"campaign-{campaign.name}",
        tags={"campaign": campaign.name, "model_version": campaign.model_version},
    )
    run_id = run.info.run_id
    stamp = int(time.time() * 1000)
    params = {
        "campaign": campaign.name,
        "as_of": campaign.as_of,
        "horizon_days": campaign.horizon_days,
        "holdout": campaign.holdout,
        "seed": campaign.seed,
        "value_column": campaign.value_column,
        "offer_cost": settings.campaigns.offer_cost,
    }
    numbers = {
        name: float(value)
        for name, value in figures.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    client.log_batch(
        run_id,
        metrics=[Metric(name, value, stamp, 0) for name, value in numbers.items()],
        params=[Param(name, str(value)) for name, value in params.items()],
    )
    for path in artifacts:
        client.log_artifact(run_id, str(path))
    client.set_terminated(run_id)
    return run_id

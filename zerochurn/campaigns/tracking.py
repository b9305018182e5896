"""Campaign measurements as MLflow runs, in the experiment "<experiment>-campaigns".

One run per measurement: the campaign's facts as parameters, its numeric headline figures
as metrics, the HTML page, JSON and figure as artifacts, through model/registry.py's
`log_side_run` (which leaves the process's active experiment alone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from zerochurn.campaigns.store import Campaign
from zerochurn.configs.settings import Settings
from zerochurn.model.registry import log_side_run

EXPERIMENT_SUFFIX = "-campaigns"
ARTIFACT_FOLDER = "campaigns"
"""Subfolder of <workspace>/mlflow/artifacts for campaign runs (embedded store only)."""


def log_measurement(
    settings: Settings,
    campaign: Campaign,
    figures: Mapping[str, object],
    artifacts: Sequence[Path],
) -> str:
    """Record one measurement of `campaign` and return its MLflow run id.

    figures: the summary's values; the numbers among them are logged as metrics.
    artifacts: files logged at the run's artifact root.
    """
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
    return log_side_run(
        settings,
        EXPERIMENT_SUFFIX,
        ARTIFACT_FOLDER,
        run_name=f"campaign-{campaign.name}",
        tags={"campaign": campaign.name, "model_version": campaign.model_version},
        metrics=numbers,
        params=params,
        artifacts=artifacts,
    )

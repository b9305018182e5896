"""The MLflow run of an uplift training: fit, judge, log, register, and mark it validated.

One run in the experiment "<mlflow.experiment>-uplift": the campaigns and settings as
parameters, the evaluation as metrics, the Qini figure, and the model (UpliftPyfunc). The
model is registered as a new version of uplift.registered_model; it gets the alias
VALIDATED only when the evaluation validates it, so a failed model never replaces a
validated one. Batch scoring loads the VALIDATED version (model/registry.py).
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import matplotlib.pyplot as plt
import mlflow
import pandas as pd
from mlflow.models import infer_signature

from zerochurn.campaigns.learning import CampaignRows
from zerochurn.configs.settings import Settings
from zerochurn.model.outputs import PROBABILITY_COLUMN
from zerochurn.model.pyfunc import UpliftPyfunc
from zerochurn.model.registry import VALIDATED, configure, ensure_experiment, reaching
from zerochurn.training.tracking import flatten
from zerochurn.training.uplift import (
    UpliftEvaluation,
    evaluate_uplift,
    fit_uplift,
    held_out,
    held_out_mask,
)
from zerochurn.training.uplift_plots import qini_figure

EXPERIMENT_SUFFIX = "-uplift"
ARTIFACT_FOLDER = "uplift"
MODEL_ARTIFACT = "uplift_model"
VERDICT_TAG = "zerochurn.validation"
EXAMPLE_ROWS = 5
"""Rows of the input example logged with the model."""


@dataclass(frozen=True)
class UpliftOutcome:
    """What an uplift training produced: the registered version, its evaluation, the run."""

    version: str
    evaluation: UpliftEvaluation
    run_id: str


def train_and_register_uplift(
    rows: CampaignRows, settings: Settings, truth: pd.DataFrame | None = None
) -> UpliftOutcome:
    """Fit on campaign members, judge on held-out ones, log and register (see the module).

    truth: the generator's true effects (campaign, customer_id, true_effect) when known.
    """
    config = settings.uplift
    held = held_out_mask(rows, config.validation_fraction, config.random_state)
    model = fit_uplift(rows, ~held, config)
    data = held_out(model, rows, held, truth)
    evaluation = evaluate_uplift(data, config)
    client = configure(settings)
    trained_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    card = {
        "trained_at": trained_at,
        "campaigns": rows.names,
        "customers": len(rows),
        "validated": evaluation.validated,
        "verdict": evaluation.verdict,
    }
    experiment = ensure_experiment(
        client, settings, settings.mlflow.experiment + EXPERIMENT_SUFFIX, ARTIFACT_FOLDER
    )
    figure = qini_figure(data)
    with (
        reaching(settings.tracking_uri),
        mlflow.start_run(experiment_id=experiment, run_name=f"uplift-{trained_at}") as run,
    ):
        mlflow.log_params(
            {"campaigns": ",".join(rows.names), "customers": len(rows)}
            | flatten(config.model_dump(mode="json"), "uplift.")
        )
        mlflow.log_metrics(evaluation.metrics())
        mlflow.set_tag(VERDICT_TAG, evaluation.verdict)
        mlflow.log_figure(figure, "qini.png")
        plt.close(figure)
        pyfunc = UpliftPyfunc(model, card)
        example = rows.features.head(EXAMPLE_ROWS).assign(
            **{PROBABILITY_COLUMN: rows.churn_probability[:EXAMPLE_ROWS]}
        )
        with warnings.catch_warnings():
            # counts are integers and never missing, as for the churn model (training/tracking.py)
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT,
                python_model=pyfunc,
                signature=infer_signature(example, pyfunc.predict(None, example)),
                input_example=example,
            )
    with reaching(settings.tracking_uri):
        version = mlflow.register_model(info.model_uri, config.registered_model)
        client.set_model_version_tag(
            config.registered_model, version.version, VERDICT_TAG, evaluation.verdict
        )
        if evaluation.validated:
            client.set_registered_model_alias(config.registered_model, VALIDATED, version.version)
    return UpliftOutcome(str(version.version), evaluation, run.info.run_id)

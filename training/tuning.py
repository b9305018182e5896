"""Random hyperparameter search for the LightGBM booster, one nested MLflow run per trial.

Trials are judged on the calibration period's ROC-AUC, so the test period stays unseen
until the final model is evaluated.
"""

from __future__ import annotations

import mlflow
from scipy.stats import loguniform, randint, uniform
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import ParameterSampler

from zerochurn.configs.settings import LightGBMConfig, Settings
from zerochurn.console import ProgressCallback
from zerochurn.training.data import LABEL, Snapshots
from zerochurn.training.fit import fit_churn_model
from zerochurn.training.tracking import tracked_run

SEARCH_SPACE = {
    "learning_rate": loguniform(0.01, 0.2),
    "num_leaves": randint(8, 128),
    "min_child_samples": randint(20, 500),
    "feature_fraction": uniform(0.5, 0.5),
    "bagging_fraction": uniform(0.5, 0.5),
    "lambda_l2": loguniform(1e-3, 30.0),
    "cat_smooth": loguniform(1.0, 100.0),
}
"""Distributions sampled per trial; the other booster settings stay as configured."""


def tune_booster(
    snapshots: Snapshots,
    settings: Settings,
    *,
    trials: int,
    progress: ProgressCallback | None = None,
) -> LightGBMConfig:
    """Best of `trials` sampled booster settings by calibration-period ROC-AUC.

    Parameters
    ----------
    snapshots : labelled train and calibration periods
    settings : the configuration whose booster settings are the starting point
    trials : number of sampled settings, each logged as a nested run
    """
    base = settings.training.lightgbm
    sampler = ParameterSampler(
        SEARCH_SPACE, n_iter=trials, random_state=settings.training.random_state
    )
    calibration = snapshots.calibration
    best, best_auc = base, float("-inf")
    for number, sampled in enumerate(sampler, start=1):
        candidate = base.model_copy(
            update={k: type(getattr(base, k))(v) for k, v in sampled.items()}
        )
        with tracked_run(f"trial {number} of {trials}", nested=True):
            model = fit_churn_model(snapshots, settings, candidate)
            auc = float(
                roc_auc_score(calibration[LABEL], model.raw_score(calibration[snapshots.features]))
            )
            mlflow.log_params(candidate.model_dump())
            mlflow.log_metrics(
                {"calibration_roc_auc": auc, "best_iteration": model.booster_.best_iteration}
            )
        if auc > best_auc:
            best, best_auc = candidate, auc
        if progress is not None:
            progress(f"trial {number} of {trials}: calibration AUC {auc:.4f} (best {best_auc:.4f})")
    return best

"""Random search of the LightGBM booster; training/train.py logs each trial as a nested run.

Trials are judged as the candidates are (training/validation.py): by their mean held-out
ROC-AUC over the folds of a flat table's cross-validation, or on the calibration period
of snapshots, so the test period stays unseen until the final model is evaluated. The
search space is small and scaled to the data: leaves, rows per leaf (up to 5% of the
rows), L2 penalty and the share of features per tree; the learning rate stays as
configured and early stopping picks the rounds. Trial 1 is the configured booster, so
tuning never does worse than not tuning by that measure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from scipy.stats import loguniform, randint, uniform
from sklearn.model_selection import ParameterSampler

from zerochurn.configs.settings import LightGBMConfig, Settings
from zerochurn.console import ProgressCallback
from zerochurn.training.development import Development
from zerochurn.training.families import FamilyFit, fit_lightgbm
from zerochurn.training.validation import fold_aucs

MIN_LEAF_ROWS = 20
"""Fewest rows per leaf the search tries."""
MAX_LEAF_SHARE = 0.05
"""Most rows per leaf the search tries, as a share of the training rows."""


def search_space(rows: int) -> dict[str, Any]:
    """Distributions sampled per trial, for `rows` training rows."""
    most = max(2 * MIN_LEAF_ROWS, int(MAX_LEAF_SHARE * rows))
    return {
        "num_leaves": randint(4, 32),
        "min_child_samples": loguniform(MIN_LEAF_ROWS, most),
        "lambda_l2": loguniform(1e-2, 100.0),
        "feature_fraction": uniform(0.4, 0.6),
    }


def with_values(base: LightGBMConfig, values: Mapping[str, float]) -> LightGBMConfig:
    """`base` with the sampled values, each cast to the type of base's field."""
    return base.model_copy(update={k: type(getattr(base, k))(v) for k, v in values.items()})


def sampled_boosters(
    base: LightGBMConfig, rows: int, count: int, seed: int
) -> Iterator[LightGBMConfig]:
    """`count` boosters drawn at random from the search space for `rows` training rows."""
    for values in ParameterSampler(search_space(rows), n_iter=count, random_state=seed):
        yield with_values(base, values)


def validation_auc(dev: Development, fitted: FamilyFit) -> float:
    """Mean held-out ROC-AUC of a fitted family over the development folds."""
    return float(np.mean(fold_aucs(dev.validation, dev.y_held, fitted.held)))


TrialCallback = Callable[[int, LightGBMConfig, FamilyFit, float], None]
"""Called after each trial with its number (from 1), booster, fitted family and ROC-AUC."""


def tune_booster(
    dev: Development,
    base: LightGBMConfig,
    settings: Settings,
    *,
    trials: int,
    on_trial: TrialCallback | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[LightGBMConfig, FamilyFit]:
    """The best of `trials` booster settings (the first is `base`) and its fitted family.

    Parameters
    ----------
    dev : the development rows and their validation
    base : the configured booster (already scaled to a flat table's rows)
    settings : the configuration (seed, early stopping, refit)
    trials : number of settings tried
    on_trial : told of every trial (training logs it as a nested MLflow run)
    """
    sampled = sampled_boosters(
        base,
        len(dev.validation.splits[0].fit),
        max(trials - 1, 0),
        settings.training.random_state,
    )
    tried: list[tuple[float, LightGBMConfig, FamilyFit]] = []
    for number, candidate in enumerate([base, *sampled], start=1):
        fitted = fit_lightgbm(dev, candidate, settings)
        auc = validation_auc(dev, fitted)
        if on_trial is not None:
            on_trial(number, candidate, fitted, auc)
        tried.append((auc, candidate, fitted))
        if progress is not None:
            best = max(result[0] for result in tried)
            progress(f"trial {number} of {trials}: validation AUC {auc:.4f} (best {best:.4f})")
    _, booster, fitted = max(tried, key=lambda result: result[0])  # ties: the earlier trial
    return booster, fitted

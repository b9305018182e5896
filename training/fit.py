"""Fitting the two models of a training run from configuration."""

from __future__ import annotations

from sklearn.pipeline import Pipeline

from zerochurn.configs.settings import LightGBMConfig, Settings
from zerochurn.training.baseline import make_baseline
from zerochurn.training.data import LABEL, Snapshots
from zerochurn.training.model import ChurnModel


def fit_churn_model(
    snapshots: Snapshots, settings: Settings, booster: LightGBMConfig
) -> ChurnModel:
    """Fit LightGBM on the train period and its calibrator on the calibration period."""
    model = ChurnModel(
        numeric=snapshots.numeric,
        categorical=snapshots.categorical,
        params=booster.model_dump(exclude={"num_boost_round", "early_stopping_rounds"}),
        num_boost_round=booster.num_boost_round,
        early_stopping_rounds=booster.early_stopping_rounds,
        validation_fraction=settings.training.validation_fraction,
        calibration=settings.training.calibration,
        calibration_folds=settings.training.calibration_folds,
        random_state=settings.training.random_state,
    )
    train, calibration = snapshots.train, snapshots.calibration
    return model.fit(
        train[snapshots.features],
        train[LABEL].to_numpy(),
        groups=train["customer_id"].to_numpy(),
        X_calibration=calibration[snapshots.features],
        y_calibration=calibration[LABEL].to_numpy(),
    )


def fit_baseline(snapshots: Snapshots, settings: Settings) -> Pipeline:
    """Fit the logistic-regression baseline on the train period."""
    baseline = make_baseline(
        snapshots.numeric,
        snapshots.categorical,
        c=settings.training.baseline_c,
        random_state=settings.training.random_state,
    )
    return baseline.fit(snapshots.train[snapshots.features], snapshots.train[LABEL].to_numpy())

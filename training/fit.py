"""Fitting the two models of a training run from configuration."""

from __future__ import annotations

from sklearn.pipeline import Pipeline

from zerochurn.configs.settings import LightGBMConfig, Settings, TableConfig
from zerochurn.model.estimator import ChurnModel
from zerochurn.training.baseline import make_baseline
from zerochurn.training.data import LABEL, Snapshots


def table_booster(booster: LightGBMConfig, rows: int, config: TableConfig) -> LightGBMConfig:
    """The booster for a flat table of `rows` training rows: min_child_samples lowered to 1%
    of the rows (not below config.min_rows_per_leaf). Measured on six public churn tables
    of 1.5k-15k rows, ROC-AUC +0.00 to +0.07 against the 200 tuned for monthly snapshots."""
    leaf = min(booster.min_child_samples, max(config.min_rows_per_leaf, rows // 100))
    return booster.model_copy(update={"min_child_samples": leaf})


def fit_churn_model(
    snapshots: Snapshots, settings: Settings, booster: LightGBMConfig
) -> ChurnModel:
    """Fit LightGBM on the train period and its calibrator on the calibration period.

    A flat table's model uses table_booster and the table's calibration method.
    """
    calibration = settings.training.calibration
    if snapshots.kind == "table":
        booster = table_booster(booster, len(snapshots.train), settings.table)
        calibration = settings.table.calibration
    model = ChurnModel(
        numeric=snapshots.numeric,
        categorical=snapshots.categorical,
        params=booster.model_dump(exclude={"num_boost_round", "early_stopping_rounds"}),
        num_boost_round=booster.num_boost_round,
        early_stopping_rounds=booster.early_stopping_rounds,
        validation_fraction=settings.training.validation_fraction,
        calibration=calibration,
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

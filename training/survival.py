"""The time-to-churn model of a training run: fit, anchor and out-of-time evaluation.

Pure steps like training/steps.py; train.py logs what they produce. The rows and their
split are training/survival_data.py's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from zerochurn.configs.settings import LightGBMConfig, Settings
from zerochurn.console import ProgressCallback
from zerochurn.features.population import label_window_days
from zerochurn.model.encoding import FeatureEncoder
from zerochurn.model.lifetime import anchor_to_horizon, horizon_months
from zerochurn.model.scorer import Family
from zerochurn.model.survival import SurvivalModel
from zerochurn.training import survival_metrics as measures
from zerochurn.training.data import LABEL, Snapshots
from zerochurn.training.development import development
from zerochurn.training.steps import calibrate, fit_families
from zerochurn.training.survival_data import (
    EVENT,
    MONTHS,
    SEGMENT,
    SurvivalRows,
    SurvivalSkipped,
    SurvivalSplit,
)


@dataclass(frozen=True)
class SurvivalFit:
    """The fitted time-to-churn model and its out-of-time evaluation.

    metrics: survival_<model>_<measure> for model hazard (the served, anchored curve),
    hazard_unanchored, cox and km_segment, and truth (the generator's, on generated data);
    calibration: model, month, bin, customers, predicted, observed rows.
    """

    model: SurvivalModel
    split: SurvivalSplit
    metrics: dict[str, float]
    calibration: pd.DataFrame


def fit_survival_model(
    rows: pd.DataFrame,
    settings: Settings,
    numeric: tuple[str, ...],
    categorical: tuple[str, ...],
    encoder: FeatureEncoder | None = None,
) -> SurvivalModel:
    """Fit SurvivalModel on the survival training rows with the configured booster
    (sharing `encoder`, the churn model's, when given)."""
    config = settings.survival
    features = [*numeric, *categorical]
    return SurvivalModel(
        numeric=numeric,
        categorical=categorical,
        months=config.months,
        tenure_edges_months=config.tenure_edges_months,
        params=config.lightgbm.model_dump(exclude={"num_boost_round", "early_stopping_rounds"}),
        num_boost_round=config.lightgbm.num_boost_round,
        early_stopping_rounds=config.lightgbm.early_stopping_rounds,
        validation_fraction=settings.training.validation_fraction,
        random_state=settings.training.random_state,
    ).fit(
        rows[features],
        rows[MONTHS].to_numpy(),
        rows[EVENT].to_numpy(),
        groups=rows["customer_id"].to_numpy(),
        encoder=encoder,
    )


def _linear_columns(numeric: tuple[str, ...], categorical: tuple[str, ...]) -> ColumnTransformer:
    """Median-imputed (with missing flags) and scaled numbers, one-hot categories: the
    usual encoding of a linear Cox model."""
    numeric_steps = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    categorical_steps = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing", keep_empty_features=True),
        OneHotEncoder(handle_unknown="ignore"),
    )
    return ColumnTransformer(
        [
            ("numeric", numeric_steps, list(numeric)),
            ("categorical", categorical_steps, list(categorical)),
        ]
    )


def _cox(
    rows: SurvivalRows, numeric: tuple[str, ...], categorical: tuple[str, ...], settings: Settings
) -> np.ndarray:
    """Curves of the Cox baseline on the test rows, fitted on a sample of the training rows
    encoded linearly (_linear_columns: imputed, scaled, one-hot)."""
    train = rows.train
    if len(train) > settings.survival.cox_max_rows:
        train = train.sample(
            n=settings.survival.cox_max_rows, random_state=settings.training.random_state
        )
    columns = _linear_columns(numeric, categorical).fit(train)

    def dense(frame: pd.DataFrame) -> np.ndarray:
        encoded = columns.transform(frame)
        return encoded.toarray() if sparse.issparse(encoded) else np.asarray(encoded, float)

    return measures.cox_curves(
        dense(train),
        train[MONTHS].to_numpy(),
        train[EVENT].to_numpy(),
        dense(rows.test),
        settings.survival.months,
        settings.survival.cox_alpha,
    )


def anchor_probability(
    snapshots: Snapshots,
    split: SurvivalSplit,
    settings: Settings,
    booster: LightGBMConfig,
    family: Family,
) -> np.ndarray | None:
    """Churn probabilities of the survival test rows from a churn model of the run's family
    fitted the same way on the split's anchor dates only (None when the data has no room
    for one)."""
    if split.anchor_calibration is None:
        return None
    rows = pd.concat([snapshots.train, snapshots.calibration, snapshots.test], ignore_index=True)

    def period(dates: tuple[pd.Timestamp, ...]) -> pd.DataFrame:
        return rows[rows["as_of"].isin(dates)].reset_index(drop=True)

    calibration = period((split.anchor_calibration,))
    train = period(split.anchor_train)
    if calibration[LABEL].nunique() < 2 or train[LABEL].nunique() < 2:
        return None
    earlier = dataclasses.replace(snapshots, train=train, calibration=calibration)
    dev = development(earlier, settings)
    fitted = fit_families(dev, settings, booster, (family,))[family]
    model = calibrate(fitted, dev, earlier, settings).model
    return model.predict_churn(period((split.test,))[snapshots.features])


def fit_survival(
    snapshots: Snapshots,
    settings: Settings,
    booster: LightGBMConfig,
    *,
    family: Family,
    ground_truth: pd.DataFrame | None = None,
    encoder: FeatureEncoder | None = None,
    progress: ProgressCallback | None = None,
) -> SurvivalFit:
    """Fit the time-to-churn model on snapshots.survival and judge it out of time.

    booster, family: how the run's churn model was fitted, to fit its out-of-time twin
    that anchors the judged curves; encoder: the churn model's fitted FeatureEncoder
    (every family's is LightGBM-ready), shared so serving encodes once.
    """
    report = progress or (lambda message: None)
    rows = snapshots.survival
    if rows is None:
        raise SurvivalSkipped(snapshots.survival_skipped or "no time-to-churn rows")
    numeric, categorical = snapshots.numeric, snapshots.categorical
    report(f"fitting the time-to-churn model on {len(rows.train):,} customer snapshots")
    model = fit_survival_model(rows.train, settings, numeric, categorical, encoder)
    report("refitting the churn model before the survival test date, to anchor its curves")
    anchor = anchor_probability(snapshots, rows.split, settings, booster, family)
    report("judging survival curves out of time against Kaplan-Meier and Cox baselines")
    metrics, calibration = evaluate_survival(
        model,
        rows,
        anchor=anchor,
        numeric=numeric,
        categorical=categorical,
        settings=settings,
        ground_truth=ground_truth,
    )
    return SurvivalFit(model, rows.split, metrics, calibration)


def evaluate_survival(
    model: SurvivalModel,
    rows: SurvivalRows,
    *,
    anchor: np.ndarray | None,
    numeric: tuple[str, ...],
    categorical: tuple[str, ...],
    settings: Settings,
    ground_truth: pd.DataFrame | None = None,
) -> tuple[dict[str, float], pd.DataFrame]:
    """Every curve's measures on the test rows, and the calibration tables of all of them.

    anchor: (n_test,) out-of-time churn probabilities of the test rows within the horizon
    (None: the served curve cannot be judged anchored, only the model's own).
    """
    config = settings.survival
    features = [*numeric, *categorical]
    test = rows.test
    months, event = test[MONTHS].to_numpy(), test[EVENT].to_numpy()
    own = model.survival(test[features])
    curves = {"hazard_unanchored": own}
    if anchor is not None:
        horizon = horizon_months(label_window_days(settings.churn))
        curves["hazard"] = anchor_to_horizon(own, anchor, horizon)
    train = rows.train
    groups = train[SEGMENT].to_numpy(dtype=object) if SEGMENT in train else np.zeros(len(train))
    test_groups = test[SEGMENT].to_numpy(dtype=object) if SEGMENT in test else np.zeros(len(test))
    curves["km_segment"] = measures.km_by_group(
        train[MONTHS].to_numpy(), train[EVENT].to_numpy(), groups, test_groups, config.months
    )
    curves["cox"] = _cox(rows, numeric, categorical, settings)
    metrics: dict[str, float] = {}
    tables = []
    for name, curve in curves.items():
        values, calibration = measures.survival_metrics(
            curve,
            months,
            event,
            evaluation_months=rows.split.evaluation_months,
            bins=config.calibration_bins,
        )
        metrics |= {f"survival_{name}_{key}": value for key, value in values.items()}
        tables += [table.assign(model=name, month=t) for t, table in calibration.items()]
    if ground_truth is not None:
        truth = _truth_at(test, ground_truth, rows.split.evaluation_months)
        if truth:
            for name, curve in curves.items():
                values = measures.truth_metrics(curve, truth, config.calibration_bins)
                metrics |= {f"survival_{name}_{key}": value for key, value in values.items()}
    table = pd.concat(tables, ignore_index=True)
    return metrics, table[["model", "month", "bin", "customers", "predicted", "observed"]]


def _truth_at(
    test: pd.DataFrame, ground_truth: pd.DataFrame, evaluation_months: tuple[int, ...]
) -> dict[int, np.ndarray]:
    """The generator's true S(t) of the test rows, for the months its ground truth has."""
    columns = {t: f"true_survival_{t}m" for t in evaluation_months}
    present = {t: c for t, c in columns.items() if c in ground_truth}
    if not present:
        return {}
    truth = ground_truth.assign(as_of=pd.to_datetime(ground_truth["as_of"]))
    joined = test[["customer_id", "as_of"]].merge(
        truth[["customer_id", "as_of", *present.values()]], on=["customer_id", "as_of"], how="left"
    )
    if joined[list(present.values())].isna().any().any():
        raise ValueError(f"ground truth lacks some of the {len(test)} survival test rows")
    return {t: joined[c].to_numpy(dtype=np.float64) for t, c in present.items()}

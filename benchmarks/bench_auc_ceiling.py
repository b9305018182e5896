"""How close the model can get to the oracle on the default world, and what holds it back.

Run: .venv/bin/python benchmarks/bench_auc_ceiling.py [--sizes 50000] [--repeats 1]
Setup: generate a 24-month world of N customers (seed 42) with its hidden churn drivers
recorded in the ground truth (generate.hidden_state), write and load it through the data
contract, build the out-of-time snapshots. Then fit the shipped model, and refit it with
diagnostic columns added to its features, none of which a real data set has:

- the true satisfaction of the customers with a survey answer in the history window, or
  of the never-surveyed ones only, or the true satisfaction, price experience and
  grievance of everyone;
- estimated drivers: each driver predicted from the shipped features by a LightGBM
  regression trained on the hidden truth (cross-fitted by customer on the training
  period). No feature built from these inputs without the truth can do better on
  average, so this bounds what more feature engineering of them can reach.

Reported: the test month's ROC-AUC as a share of the oracle's (`ratio`, issue #4's target
is >= 0.95), and the same share of the AUCs expected over label draws
(`expected_ratio*`, free of the test month's label noise). `seconds` is the whole run.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from harness import main

from zerochurn.configs import load_settings
from zerochurn.configs.settings import GenerateConfig, Settings
from zerochurn.contract.validate import load_raw
from zerochurn.model.encoding import FeatureEncoder
from zerochurn.model.metrics import classification_metrics
from zerochurn.synthetic import generate_world, write_world
from zerochurn.training.data import LABEL, Snapshots, build_snapshots
from zerochurn.training.development import development
from zerochurn.training.families import calibrated, fit_lightgbm
from zerochurn.training.steps import oracle_metrics

SIZES = [50_000]
MONTHS = 24
KEYS = ["customer_id", "as_of"]
DRIVERS = ["satisfaction", "price_experience", "grievance"]
PERIODS = ("train", "calibration", "test")
SURVEYED = "survey_answers_24m"
"""Feature that is positive for customers with a survey answer in the history window."""
FOLDS = 3
ESTIMATOR = {"n_estimators": 300, "learning_rate": 0.05, "num_leaves": 31, "verbose": -1}


def hidden_drivers(snapshots: Snapshots, truth: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The hidden drivers of each period's rows, aligned with them."""
    truth = truth.assign(as_of=pd.to_datetime(truth["as_of"]))
    return {
        period: getattr(snapshots, period)[KEYS]
        .merge(truth[[*KEYS, *DRIVERS]], on=KEYS, how="left")
        .set_axis(getattr(snapshots, period).index)[DRIVERS]
        for period in PERIODS
    }


def with_columns(snapshots: Snapshots, extra: dict[str, pd.DataFrame]) -> Snapshots:
    """The snapshots with `extra` (one frame per period, same columns) as more features."""
    frames = {p: pd.concat([getattr(snapshots, p), extra[p]], axis=1) for p in PERIODS}
    names = tuple(extra["train"].columns)
    return dataclasses.replace(snapshots, **frames, numeric=(*snapshots.numeric, *names))


def surveyed_only(drivers: dict[str, pd.DataFrame], snapshots: Snapshots, surveyed: bool):
    """True satisfaction where the row was (or, surveyed=False, was not) ever surveyed."""
    out = {}
    for period in PERIODS:
        answered = getattr(snapshots, period)[SURVEYED].fillna(0) > 0
        keep = answered if surveyed else ~answered
        out[period] = drivers[period][["satisfaction"]].where(keep)
    return out


def estimated_drivers(
    snapshots: Snapshots, drivers: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Each driver predicted from the shipped features by a regression trained on the truth.

    Training rows get out-of-fold predictions (folds by customer), so no row is scored by a
    regression that saw its own truth.
    """
    encoder = FeatureEncoder(numeric=snapshots.numeric, categorical=snapshots.categorical)
    encoder.fit(snapshots.train)
    x = {p: encoder.transform(getattr(snapshots, p)) for p in PERIODS}
    fold = pd.util.hash_array(snapshots.train["customer_id"].astype(str).to_numpy()) % FOLDS
    out = {p: pd.DataFrame(index=getattr(snapshots, p).index) for p in PERIODS}
    for driver in DRIVERS:
        y = drivers["train"][driver].to_numpy()
        train_pred = np.empty(len(y))
        for k in range(FOLDS):
            model = lgb.LGBMRegressor(**ESTIMATOR).fit(x["train"][fold != k], y[fold != k])
            train_pred[fold == k] = model.predict(x["train"][fold == k])
        model = lgb.LGBMRegressor(**ESTIMATOR).fit(x["train"], y)
        out["train"][f"estimated_{driver}"] = train_pred
        for period in ("calibration", "test"):
            out[period][f"estimated_{driver}"] = model.predict(x[period])
    return out


def ratios(snapshots: Snapshots, settings: Settings, truth: pd.DataFrame) -> dict[str, float]:
    """Fit the shipped LightGBM on these snapshots; its realised and expected share of the oracle."""
    dev = development(snapshots, settings)
    fitted = fit_lightgbm(dev, settings.training.lightgbm, settings)
    training = settings.training
    model = calibrated(
        fitted,
        dev,
        training.calibration,
        folds=training.calibration_folds,
        seed=training.random_state,
    ).model
    probability = model.predict_churn(snapshots.test[snapshots.features])
    auc = classification_metrics(snapshots.test[LABEL].to_numpy(), probability)["roc_auc"]
    oracle = oracle_metrics(snapshots.test, truth, probability, auc)
    return {
        "auc": auc,
        "oracle_auc": oracle["oracle_roc_auc"],
        "ratio": oracle["auc_vs_oracle"],
        "expected_ratio": oracle["expected_auc_vs_oracle"],
    }


def measure_once(customers: int) -> dict:
    """The shipped model's share of the oracle, and with each diagnostic addition."""
    start = time.perf_counter()
    settings = load_settings(environ={})
    config = GenerateConfig(customers=customers, months=MONTHS, hidden_state=True)
    world = generate_world(config, horizon_days=settings.churn.horizon_days)
    with tempfile.TemporaryDirectory() as tmp:
        raw = load_raw(write_world(world, Path(tmp) / "data"))
    snapshots = build_snapshots(raw, settings)
    truth = world.ground_truth
    drivers = hidden_drivers(snapshots, truth)
    shipped = ratios(snapshots, settings, truth)
    variants = {
        "estimated_drivers": estimated_drivers(snapshots, drivers),
        "true_satisfaction_surveyed": surveyed_only(drivers, snapshots, surveyed=True),
        "true_satisfaction_unsurveyed": surveyed_only(drivers, snapshots, surveyed=False),
        "true_drivers": drivers,
    }
    result = {**shipped, "test_rows": len(snapshots.test)}
    for name, extra in variants.items():
        figures = ratios(with_columns(snapshots, extra), settings, truth)
        result[f"ratio_{name}"] = figures["ratio"]
        result[f"expected_ratio_{name}"] = figures["expected_ratio"]
    result["seconds"] = time.perf_counter() - start
    return result


if __name__ == "__main__":
    main("auc_ceiling", SIZES, measure_once, repeats=1)

"""The training stage: snapshots -> LightGBM + baseline -> out-of-time metrics -> MLflow -> gate."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from zerochurn.configs.settings import LightGBMConfig, Settings
from zerochurn.console import ProgressCallback
from zerochurn.contract.dataset import RawData
from zerochurn.features import build_training_frame, monthly_as_of_dates
from zerochurn.features.catalog import feature_roles
from zerochurn.features.population import label_window_days
from zerochurn.training import plots, tracking
from zerochurn.training.baseline import make_baseline
from zerochurn.training.gate import GateDecision, promotion_decision
from zerochurn.training.metrics import classification_metrics
from zerochurn.training.model import ChurnModel
from zerochurn.training.pyfunc import ChurnPyfunc, ModelCard
from zerochurn.training.registry import CHAMPION, ChampionRegistry
from zerochurn.training.split import OutOfTimeSplit, out_of_time_split

LABEL = "churned"
KEYS = ("customer_id", "as_of")
VALUE_COLUMN = "customer_value"
EXAMPLE_ROWS = 5
SHAP_SAMPLE_ROWS = 5000


@dataclass(frozen=True)
class Snapshots:
    """Labelled feature rows of each out-of-time period, and the feature roles."""

    split: OutOfTimeSplit
    train: pd.DataFrame
    calibration: pd.DataFrame
    test: pd.DataFrame
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def features(self) -> list[str]:
        """Feature columns the models read, numeric first."""
        return [*self.numeric, *self.categorical]


@dataclass(frozen=True)
class TrainingOutcome:
    """What one training run produced and what the gate decided."""

    run_id: str
    version: str
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    decision: GateDecision
    champion: str | None


def build_snapshots(
    raw: RawData, settings: Settings, progress: ProgressCallback | None = None
) -> Snapshots:
    """Feature rows with 0/1 labels for the train, calibration and test as-of dates."""
    split = out_of_time_split(
        monthly_as_of_dates(raw, min_history_months=settings.training.min_history_months),
        data_end=raw.end,
        window_days=label_window_days(settings.churn),
        config=settings.training,
    )
    frame = build_training_frame(
        raw,
        [*split.train, *split.calibration, *split.test],
        settings.features,
        settings.churn,
        progress=progress,
    )
    frame = frame[frame[LABEL].notna()]
    frame = frame.assign(**{LABEL: frame[LABEL].astype(np.int64)})
    numeric, categorical = feature_roles(frame)

    def period(dates: tuple[pd.Timestamp, ...]) -> pd.DataFrame:
        return frame[frame["as_of"].isin(dates)].reset_index(drop=True)

    return Snapshots(
        split=split,
        train=period(split.train),
        calibration=period(split.calibration),
        test=period(split.test),
        numeric=tuple(numeric),
        categorical=tuple(categorical),
    )


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


def out_of_time_metrics(snapshots: Snapshots, probability: np.ndarray) -> dict[str, float]:
    """Out-of-time metrics of (n_test,) probabilities, value-weighted when values exist."""
    test = snapshots.test
    value = test[VALUE_COLUMN].fillna(0).to_numpy() if VALUE_COLUMN in test else None
    return classification_metrics(test[LABEL].to_numpy(), probability, value=value)


def oracle_metrics(
    test: pd.DataFrame, ground_truth: pd.DataFrame, model_auc: float
) -> dict[str, float]:
    """ROC-AUC of the generator's true probabilities on the test rows, and the model's share."""
    truth = ground_truth.assign(as_of=pd.to_datetime(ground_truth["as_of"]))
    joined = test[[*KEYS, LABEL]].merge(truth[[*KEYS, "true_probability"]], on=list(KEYS))
    if len(joined) < len(test):
        raise ValueError(f"ground truth covers {len(joined)} of {len(test)} test rows")
    oracle = classification_metrics(joined[LABEL].to_numpy(), joined["true_probability"].to_numpy())
    return {
        "oracle_roc_auc": oracle["roc_auc"],
        "oracle_ece": oracle["ece"],
        "auc_vs_oracle": model_auc / oracle["roc_auc"],
    }


def _figures(snapshots: Snapshots, model: ChurnModel, scores: dict[str, np.ndarray]) -> dict:
    y = snapshots.test[LABEL].to_numpy()
    sample = snapshots.test[snapshots.features].sample(
        n=min(len(snapshots.test), SHAP_SAMPLE_ROWS), random_state=0
    )
    return {
        "roc": plots.roc_figure(y, scores),
        "precision_recall": plots.precision_recall_figure(y, scores),
        "calibration": plots.calibration_figure(y, scores),
        "gain": plots.gain_figure(y, scores),
        "feature_importance": plots.importance_figure(model.feature_importance()),
        "shap_summary": plots.shap_summary_figure(model.contributions(sample), sample),
    }


def _reference(snapshots: Snapshots, model: ChurnModel, rows: int, seed: int) -> pd.DataFrame:
    """A sample of training rows with their scores: the monitoring reference of this model."""
    train = snapshots.train
    sample = train.sample(n=min(len(train), rows), random_state=seed).reset_index(drop=True)
    return sample.assign(churn_probability=model.predict_churn(sample[snapshots.features]))


def _prefixed(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{name}": value for name, value in metrics.items()}


def train_and_register(
    raw: RawData,
    settings: Settings,
    *,
    data_dir: Path,
    ground_truth: pd.DataFrame | None = None,
    booster: LightGBMConfig | None = None,
    progress: ProgressCallback | None = None,
) -> TrainingOutcome:
    """Train, evaluate out of time, log everything to MLflow, register and run the gate.

    Parameters
    ----------
    raw : the validated raw tables
    settings : full configuration (churn definition, features, training, MLflow)
    data_dir : where `raw` was read from, hashed for lineage
    ground_truth : the generator's true probabilities, when the data is synthetic
    booster : LightGBM parameters; defaults to settings.training.lightgbm (tuning passes its best)
    """
    report = progress or (lambda message: None)
    client = tracking.configure(settings)
    registry = ChampionRegistry(client, settings.mlflow.registered_model)
    snapshots = build_snapshots(raw, settings, progress)
    features = snapshots.features
    booster = booster or settings.training.lightgbm

    report("fitting LightGBM and calibrating")
    model = fit_churn_model(snapshots, settings, booster)
    report("fitting the logistic-regression baseline")
    baseline = make_baseline(
        snapshots.numeric,
        snapshots.categorical,
        c=settings.training.baseline_c,
        random_state=settings.training.random_state,
    ).fit(snapshots.train[features], snapshots.train[LABEL].to_numpy())

    report("evaluating out of time")
    test_x = snapshots.test[features]
    scores = {
        "lightgbm": model.predict_churn(test_x),
        "baseline": baseline.predict_proba(test_x)[:, 1],
    }
    metrics = out_of_time_metrics(snapshots, scores["lightgbm"])
    if ground_truth is not None:
        metrics |= oracle_metrics(snapshots.test, ground_truth, metrics["roc_auc"])
    baseline_metrics = out_of_time_metrics(snapshots, scores["baseline"])
    champion_version = registry.version(CHAMPION)
    champion_metrics = None
    if champion_version is not None:
        uri = f"models:/{settings.mlflow.registered_model}@{CHAMPION}"
        champion_model = mlflow.pyfunc.load_model(uri).unwrap_python_model().model
        scores["champion"] = champion_model.predict_churn(test_x)
        champion_metrics = out_of_time_metrics(snapshots, scores["champion"])
    decision = promotion_decision(
        metrics, champion=champion_metrics, baseline=baseline_metrics, gate=settings.training.gate
    )

    report("logging the run to MLflow")
    card = ModelCard(
        horizon_days=label_window_days(settings.churn),
        reference_churn_rate=float(snapshots.train[LABEL].mean()),
        churn_definition=settings.churn.definition,
        trained_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        train_as_of=tuple(snapshots.split.describe()["train"]),
        test_as_of=tuple(snapshots.split.describe()["test"]),
    )
    with mlflow.start_run(run_name=f"train-{card.trained_at}") as run:
        mlflow.log_params(tracking.flatten(settings.model_dump(mode="json")))
        mlflow.log_params(
            {
                "booster_used": json.dumps(booster.model_dump()),
                "calibration_method": model.calibration_method_,
                "best_iteration": model.booster_.best_iteration,
                "n_features": len(features),
            }
        )
        mlflow.log_dict(settings.model_dump(mode="json"), "config.json")
        mlflow.log_dict(asdict(card), "model_card.json")
        mlflow.set_tags(
            {
                f"data.sha256.{name}": digest
                for name, digest in tracking.raw_table_hashes(data_dir).items()
            }
            | {
                f"split.{period}": ",".join(dates)
                for period, dates in snapshots.split.describe().items()
            }
            | {"data.dir": str(data_dir)}
        )
        tracking.log_datasets(
            {
                "train": snapshots.train,
                "calibration": snapshots.calibration,
                "test": snapshots.test,
            },
            source=data_dir,
            target=LABEL,
        )
        mlflow.log_metrics(
            _prefixed("test", metrics)
            | _prefixed("baseline", baseline_metrics)
            | _prefixed("champion", champion_metrics or {})
            | _prefixed("calibration_cv_ece", model.calibration_scores_)
            | {"rows_train": len(snapshots.train), "rows_test": len(snapshots.test)}
        )
        tracking.log_figures(_figures(snapshots, model, scores))
        tracking.log_frame(
            _reference(
                snapshots, model, settings.training.reference_rows, settings.training.random_state
            ),
            tracking.REFERENCE_ARTIFACT,
            tracking.REFERENCE_FILE,
        )
        model_uri = tracking.log_churn_model(
            ChurnPyfunc(model, card), snapshots.test[features].head(EXAMPLE_ROWS)
        )
    version = registry.register(model_uri)
    client.set_model_version_tag(
        registry.name, version.version, "gate", json.dumps(asdict(decision))
    )
    if decision.passed:
        registry.promote(version.version, reason="gate: " + "; ".join(decision.reasons))
    champion = registry.version(CHAMPION)
    return TrainingOutcome(
        run_id=run.info.run_id,
        version=str(version.version),
        metrics=metrics,
        baseline_metrics=baseline_metrics,
        champion_metrics=champion_metrics,
        decision=decision,
        champion=None if champion is None else str(champion.version),
    )

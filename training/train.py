"""The training stage: snapshots -> LightGBM + baseline -> out-of-time metrics -> MLflow -> gate."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient

from zerochurn.configs.settings import CostConfig, Settings
from zerochurn.console import ProgressCallback
from zerochurn.features.population import label_window_days
from zerochurn.training import plots, tracking
from zerochurn.training.costs import (
    DecisionReport,
    decision_report,
    resolve_costs,
    savings_figure,
)
from zerochurn.training.data import KEYS, LABEL, Snapshots
from zerochurn.training.fit import fit_baseline, fit_churn_model
from zerochurn.training.gate import GateDecision, promotion_decision
from zerochurn.training.metrics import classification_metrics, expected_roc_auc
from zerochurn.training.model import ChurnModel
from zerochurn.training.pyfunc import ChurnPyfunc, ModelCard
from zerochurn.training.registry import CHAMPION, ChampionRegistry
from zerochurn.training.split import OutOfTimeSplit, RandomSplit
from zerochurn.training.tuning import tune_booster

VALUE_COLUMN = "customer_value"
EXAMPLE_ROWS = 5
SHAP_SAMPLE_ROWS = 5000


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
    savings: str | None = None
    savings_top_k: tuple[dict[str, object], ...] = ()


def out_of_time_metrics(snapshots: Snapshots, probability: np.ndarray) -> dict[str, float]:
    """Test-period metrics of (n_test,) probabilities, value-weighted when values exist."""
    test = snapshots.test
    value = test[VALUE_COLUMN].fillna(0).to_numpy() if VALUE_COLUMN in test else None
    return classification_metrics(test[LABEL].to_numpy(), probability, value=value)


def oracle_metrics(
    test: pd.DataFrame, ground_truth: pd.DataFrame, probability: np.ndarray, model_auc: float
) -> dict[str, float]:
    """How the model compares with the generator's true probabilities on the test rows.

    probability: the model's (n,) scores of the test rows, in their order. Returns the
    oracle's ROC-AUC and ECE, the model's share of the oracle's AUC, and the same share of
    the AUCs expected over label draws (training.metrics.expected_roc_auc), which is free
    of the test month's label noise.
    """
    truth = ground_truth.assign(as_of=pd.to_datetime(ground_truth["as_of"]))
    rows = test[[*KEYS, LABEL]].assign(model=probability)
    joined = rows.merge(truth[[*KEYS, "true_probability"]], on=list(KEYS))
    if len(joined) < len(test):
        raise ValueError(f"ground truth covers {len(joined)} of {len(test)} test rows")
    true_probability = joined["true_probability"].to_numpy()
    oracle = classification_metrics(joined[LABEL].to_numpy(), true_probability)
    oracle_expected = expected_roc_auc(true_probability, true_probability)
    return {
        "oracle_roc_auc": oracle["roc_auc"],
        "oracle_ece": oracle["ece"],
        "auc_vs_oracle": model_auc / oracle["roc_auc"],
        "oracle_expected_roc_auc": oracle_expected,
        "expected_auc_vs_oracle": expected_roc_auc(joined["model"].to_numpy(), true_probability)
        / oracle_expected,
    }


def check_costs(snapshots: Snapshots, config: CostConfig) -> None:
    """Raise ValueError naming the setting, column and rows when the costs cannot be read."""
    for period in (snapshots.calibration, snapshots.test):
        resolve_costs(period, config)


def comparable(champion: ChurnModel, features: list[str]) -> bool:
    """Whether the champion reads only columns of these rows, so the gate can compare them.

    A champion trained on other data (another table, or the raw tables when this run
    reads a flat table) would score these rows as all-missing: the gate then compares
    the challenger with the baseline instead.
    """
    return set(champion.feature_names_) <= set(features)


def as_of_dates(split: OutOfTimeSplit | RandomSplit, period: str) -> tuple[str, ...]:
    """ISO as-of dates of a period of an out-of-time split; none for a random split."""
    return tuple(split.describe()[period]) if isinstance(split, OutOfTimeSplit) else ()


def load_champion(settings: Settings) -> ChurnPyfunc:
    """The current champion's pyfunc, unwrapped to the ChurnPyfunc that was logged."""
    uri = f"models:/{settings.mlflow.registered_model}@{CHAMPION}"
    return mlflow.pyfunc.load_model(uri).unwrap_python_model()


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


def _period(
    rows: pd.DataFrame,
    model: ChurnModel,
    features: list[str],
    probability: np.ndarray | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A period's rows, churn probabilities and labels, as costs.decision_report takes them."""
    if probability is None:
        probability = model.predict_churn(rows[features])
    return rows, probability, rows[LABEL].to_numpy()


def savings_metrics(report: DecisionReport) -> dict[str, float]:
    """Run metrics of the cost report: the chosen threshold and the test period's savings."""
    test = report.test
    metrics = {
        "decision_customers": test.customers,
        "decision_share": test.share,
        "decision_realised_savings": test.realised_savings,
        "decision_expected_savings": test.expected_savings,
    }
    if not report.chosen.contacts_nobody:
        metrics["decision_threshold"] = report.chosen.threshold
    for row in report.top_k.itertuples():
        metrics[f"savings_{row.name}"] = row.realised_savings
    return metrics


def _prefixed(prefix: str, metrics: dict[str, float] | None) -> dict[str, float]:
    return {f"{prefix}_{name}": value for name, value in (metrics or {}).items()}


def _log_lineage(settings: Settings, snapshots: Snapshots, data_dir: Path) -> None:
    mlflow.log_params(tracking.flatten(settings.model_dump(mode="json")))
    mlflow.log_dict(settings.model_dump(mode="json"), "config.json")
    hashes = tracking.source_hashes(data_dir)
    periods = snapshots.split.describe()
    mlflow.set_tags(
        {f"data.sha256.{name}": digest for name, digest in hashes.items()}
        | {f"split.{period}": ",".join(dates) for period, dates in periods.items()}
        | {"data.dir": str(data_dir), "data.kind": snapshots.kind}
    )
    if snapshots.notes:
        mlflow.log_dict([asdict(note) for note in snapshots.notes], "column_notes.json")
    tracking.log_datasets(
        {"train": snapshots.train, "calibration": snapshots.calibration, "test": snapshots.test},
        source=data_dir,
        target=LABEL,
    )


def train_and_register(
    snapshots: Snapshots,
    settings: Settings,
    *,
    data_dir: Path,
    ground_truth: pd.DataFrame | None = None,
    tune_trials: int = 0,
    progress: ProgressCallback | None = None,
) -> TrainingOutcome:
    """Train, evaluate out of time, log everything to MLflow, register and run the gate.

    Parameters
    ----------
    snapshots : labelled, out-of-time split feature rows (training.data.build_snapshots)
    settings : full configuration (churn definition, training, gate, MLflow)
    data_dir : the folder of raw tables, or the flat table's file, hashed for lineage
    ground_truth : the generator's true probabilities, when the data is synthetic
    tune_trials : random-search trials before the final fit, as nested runs (0: none)
    """
    report = progress or (lambda message: None)
    check_costs(snapshots, settings.costs)  # a bad cost column fails before the run starts
    client: MlflowClient = tracking.configure(settings)
    registry = ChampionRegistry(client, settings.mlflow.registered_model)
    features = snapshots.features
    trained_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with mlflow.start_run(run_name=f"train-{trained_at}") as run:
        _log_lineage(settings, snapshots, data_dir)
        booster = settings.training.lightgbm
        if tune_trials:
            booster = tune_booster(snapshots, settings, trials=tune_trials, progress=report)
        report("fitting LightGBM and calibrating")
        model = fit_churn_model(snapshots, settings, booster)
        report("fitting the logistic-regression baseline")
        baseline = fit_baseline(snapshots, settings)

        report("evaluating out of time")
        test_x = snapshots.test[features]
        scores = {
            "lightgbm": model.predict_churn(test_x),
            "baseline": baseline.predict_proba(test_x)[:, 1],
        }
        metrics = out_of_time_metrics(snapshots, scores["lightgbm"])
        if ground_truth is not None:
            metrics |= oracle_metrics(
                snapshots.test, ground_truth, scores["lightgbm"], metrics["roc_auc"]
            )
        baseline_metrics = out_of_time_metrics(snapshots, scores["baseline"])
        champion_metrics = None
        if registry.version(CHAMPION) is not None:
            champion_model = load_champion(settings).model
            if comparable(champion_model, features):
                scores["champion"] = champion_model.predict_churn(test_x)
                champion_metrics = out_of_time_metrics(snapshots, scores["champion"])
            else:
                report("the champion reads other columns: the gate compares with the baseline")
        savings = decision_report(
            _period(snapshots.calibration, model, features),
            _period(snapshots.test, model, features, scores["lightgbm"]),
            settings.costs,
        )
        decision = promotion_decision(
            metrics,
            champion=champion_metrics,
            baseline=baseline_metrics,
            gate=settings.training.gate,
        )

        report("logging figures, reference data and the model to MLflow")
        card = ModelCard(
            horizon_days=label_window_days(settings.churn),
            reference_churn_rate=float(snapshots.train[LABEL].mean()),
            churn_definition=settings.churn.definition,
            trained_at=trained_at,
            train_as_of=as_of_dates(snapshots.split, "train"),
            test_as_of=as_of_dates(snapshots.split, "test"),
            inactivity_days=settings.churn.inactivity_days,
            data_kind=snapshots.kind,
            id_column=snapshots.id_column,
            target_column=snapshots.target_column,
            margin_column=snapshots.margin_column,
            decision_threshold=None if savings is None else savings.chosen.threshold,
            costs=settings.costs.model_dump(mode="json") if savings is not None else None,
        )
        mlflow.log_params(
            {
                "booster": json.dumps(booster.model_dump()),
                "calibration_method": model.calibration_method_,
                "best_iteration": model.booster_.best_iteration,
                "n_features": len(features),
            }
        )
        mlflow.log_dict(asdict(card), "model_card.json")
        mlflow.log_metrics(
            _prefixed("test", metrics)
            | _prefixed("baseline", baseline_metrics)
            | _prefixed("champion", champion_metrics)
            | _prefixed("calibration_cv_ece", model.calibration_scores_)
            | {"rows_train": len(snapshots.train), "rows_test": len(snapshots.test)}
        )
        figures = _figures(snapshots, model, scores)
        if savings is not None:
            mlflow.log_metrics(savings_metrics(savings))
            mlflow.log_dict(savings.top_k.to_dict(orient="records"), "savings_top_k.json")
            figures["savings"] = savings_figure(savings.test_curve, savings.test)
        tracking.log_figures(figures)
        reference = _reference(
            snapshots, model, settings.training.reference_rows, settings.training.random_state
        )
        tracking.log_frame(reference, tracking.REFERENCE_ARTIFACT, tracking.REFERENCE_FILE)
        model_uri = tracking.log_churn_model(
            ChurnPyfunc(model, card), test_x.head(EXAMPLE_ROWS), any_cells=snapshots.kind == "table"
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
        savings=None if savings is None else savings.test.describe(),
        savings_top_k=() if savings is None else tuple(savings.top_k.to_dict(orient="records")),
    )

"""The pure steps of a training run: fit, evaluate, compare (the gate), decide (promotion).

Frames and settings in, typed results out; no MLflow. training/train.py runs them inside
one MLflow run and logs what they produce.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from zerochurn.configs.settings import CostConfig, GateConfig, LightGBMConfig, Settings
from zerochurn.console import ProgressCallback
from zerochurn.features.population import label_window_days
from zerochurn.model.card import ModelCard
from zerochurn.model.estimator import ChurnModel
from zerochurn.model.metrics import classification_metrics, expected_roc_auc
from zerochurn.model.periods import OutOfTimeSplit
from zerochurn.model.savings import DecisionReport, decision_report
from zerochurn.training.data import KEYS, LABEL, Snapshots
from zerochurn.training.fit import fit_baseline, fit_churn_model
from zerochurn.training.gate import GateDecision, promotion_decision
from zerochurn.training.split import RandomSplit

VALUE_COLUMN = "customer_value"


@dataclass(frozen=True)
class Candidates:
    """The models of one run, fitted on the train period: the challenger and the baseline.

    booster: the LightGBM settings the challenger was fitted with (tuned or configured).
    """

    booster: LightGBMConfig
    model: ChurnModel
    baseline: Pipeline


@dataclass(frozen=True)
class Evaluation:
    """Out-of-time results of one run, all on the same test rows.

    scores: (n_test,) churn probabilities per model: "lightgbm", "baseline" and, when a
    comparable champion exists, "champion". metrics and baseline_metrics: test metrics of
    the challenger (with the oracle's figures on generated data) and the baseline;
    champion_metrics: the champion's, None without one. savings: the cost report, None
    without costs.
    """

    scores: dict[str, np.ndarray]
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    savings: DecisionReport | None


@dataclass(frozen=True)
class Promotion:
    """Whether the gate's decision makes the new version champion, and the recorded reason."""

    promote: bool
    reason: str


def fit_candidates(
    snapshots: Snapshots,
    settings: Settings,
    booster: LightGBMConfig,
    progress: ProgressCallback | None = None,
) -> Candidates:
    """Fit LightGBM (and its calibrator) and the logistic-regression baseline."""
    report = progress or (lambda message: None)
    report("fitting LightGBM and calibrating")
    model = fit_churn_model(snapshots, settings, booster)
    report("fitting the logistic-regression baseline")
    baseline = fit_baseline(snapshots, settings)
    return Candidates(booster=booster, model=model, baseline=baseline)


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
    the AUCs expected over label draws (model.metrics.expected_roc_auc), which is free
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


def comparable(champion: ChurnModel, features: list[str]) -> bool:
    """Whether the champion reads only columns of these rows, so the gate can compare them.

    A champion trained on other data (another table, or the raw tables when this run
    reads a flat table) would score these rows as all-missing: the gate then compares
    the challenger with the baseline instead.
    """
    return set(champion.feature_names_) <= set(features)


def _period(
    rows: pd.DataFrame,
    model: ChurnModel,
    features: list[str],
    probability: np.ndarray | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A period's rows, churn probabilities and labels, as savings.decision_report takes them."""
    if probability is None:
        probability = model.predict_churn(rows[features])
    return rows, probability, rows[LABEL].to_numpy()


def evaluate(
    snapshots: Snapshots,
    candidates: Candidates,
    costs: CostConfig,
    *,
    champion: ChurnModel | None = None,
    ground_truth: pd.DataFrame | None = None,
) -> Evaluation:
    """Score the test period with every model and measure them; pick the cost threshold.

    champion: the current champion when it can score these rows (`comparable`);
    ground_truth: the generator's true probabilities, when the data is synthetic. The
    threshold of the cost report is chosen on the calibration period (savings.decision_report).
    """
    features = snapshots.features
    test_x = snapshots.test[features]
    scores = {
        "lightgbm": candidates.model.predict_churn(test_x),
        "baseline": candidates.baseline.predict_proba(test_x)[:, 1],
    }
    metrics = out_of_time_metrics(snapshots, scores["lightgbm"])
    if ground_truth is not None:
        metrics |= oracle_metrics(
            snapshots.test, ground_truth, scores["lightgbm"], metrics["roc_auc"]
        )
    baseline_metrics = out_of_time_metrics(snapshots, scores["baseline"])
    champion_metrics = None
    if champion is not None:
        scores["champion"] = champion.predict_churn(test_x)
        champion_metrics = out_of_time_metrics(snapshots, scores["champion"])
    savings = decision_report(
        _period(snapshots.calibration, candidates.model, features),
        _period(snapshots.test, candidates.model, features, scores["lightgbm"]),
        costs,
    )
    return Evaluation(scores, metrics, baseline_metrics, champion_metrics, savings)


def compare(evaluation: Evaluation, gate: GateConfig) -> GateDecision:
    """The promotion gate on the run's test metrics: the champion's, else the baseline's."""
    return promotion_decision(
        evaluation.metrics,
        champion=evaluation.champion_metrics,
        baseline=evaluation.baseline_metrics,
        gate=gate,
    )


def decide(decision: GateDecision) -> Promotion:
    """Promote the new version exactly when the gate passed it, recording the gate's reasons."""
    return Promotion(promote=decision.passed, reason="gate: " + "; ".join(decision.reasons))


def as_of_dates(split: OutOfTimeSplit | RandomSplit, period: str) -> tuple[str, ...]:
    """ISO as-of dates of a period of an out-of-time split; none for a random split."""
    return tuple(split.describe()[period]) if isinstance(split, OutOfTimeSplit) else ()


def model_card(
    snapshots: Snapshots,
    settings: Settings,
    *,
    trained_at: str,
    savings: DecisionReport | None,
) -> ModelCard:
    """The card the model is logged with: its training population and decision threshold."""
    return ModelCard(
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
        costs=settings.costs if savings is not None else None,
    )

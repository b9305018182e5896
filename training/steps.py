"""The pure steps of a training run: fit, evaluate, compare (the gate), decide (promotion).

Frames and settings in, typed results out; no MLflow. training/train.py runs them inside
one MLflow run and logs what they produce.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zerochurn.configs.settings import CostConfig, GateConfig, LightGBMConfig, Settings
from zerochurn.console import ProgressCallback
from zerochurn.features.population import label_window_days
from zerochurn.model.card import ModelCard
from zerochurn.model.estimator import ChurnModel
from zerochurn.model.metrics import (
    classification_metrics,
    expected_roc_auc,
    paired_auc_difference,
)
from zerochurn.model.periods import OutOfTimeSplit
from zerochurn.model.savings import DecisionReport, decision_report
from zerochurn.model.scorer import Family
from zerochurn.training.columns import ColumnNote
from zerochurn.training.data import KEYS, LABEL, Snapshots
from zerochurn.training.development import Development
from zerochurn.training.families import (
    FamilyFit,
    calibrated,
    fit_blend_family,
    fit_lightgbm,
    fit_logistic,
)
from zerochurn.training.gate import AucDifference, GateDecision, promotion_decision
from zerochurn.training.selection import BASELINE, Candidate, Selection, select
from zerochurn.training.split import RandomSplit

VALUE_COLUMN = "customer_value"


@dataclass(frozen=True)
class Candidates:
    """The models of one run: every candidate family's, validated, and the one selected.

    booster: the LightGBM settings its candidate was fitted with (tuned or configured);
    validation: how the candidates were validated, in words; threshold_rows: the held-out
    rows whose probabilities choose the cost threshold (the calibration period, or every
    training row of a cross-validated table with its out-of-fold probability).
    """

    booster: LightGBMConfig
    validation: str
    candidates: tuple[Candidate, ...]
    selection: Selection
    threshold_rows: pd.DataFrame

    def candidate(self, family: Family) -> Candidate:
        """The candidate of a family."""
        return next(c for c in self.candidates if c.family == family)

    @property
    def chosen(self) -> Candidate:
        return self.candidate(self.selection.chosen)

    @property
    def model(self) -> ChurnModel:
        """The selected model: the run's challenger."""
        return self.chosen.model

    @property
    def baseline(self) -> ChurnModel:
        """The baseline's (logistic) model."""
        return self.candidate(BASELINE).model


@dataclass(frozen=True)
class Evaluation:
    """Test-period results of one run, all on the same test rows.

    scores: (n_test,) churn probabilities per candidate family and, when a comparable
    champion exists, "champion". metrics: the selected model's test metrics (with the
    oracle's figures on generated data); candidate_metrics: every candidate's, by family
    (baseline_metrics: the logistic one's); champion_metrics: the champion's, None
    without one; difference: the selected model's paired ROC-AUC difference with the
    champion; savings: the cost report, None without costs.
    """

    scores: dict[str, np.ndarray]
    metrics: dict[str, float]
    candidate_metrics: dict[str, dict[str, float]]
    champion_metrics: dict[str, float] | None
    difference: AucDifference | None
    savings: DecisionReport | None

    @property
    def baseline_metrics(self) -> dict[str, float]:
        return self.candidate_metrics[BASELINE]


@dataclass(frozen=True)
class Promotion:
    """Whether the gate's decision makes the new version champion, and the recorded reason."""

    promote: bool
    reason: str


def _blend_refusal(fitted: FamilyFit, dev: Development) -> str | None:
    """Why a fitted blend may not be chosen: it is one of its parts, or cannot be validated."""
    if dev.validation.n_folds < 2:
        return "too few churners in the held-out rows to validate its weight on other folds"
    blend = fitted.scorer
    weights = blend.weights_.weights
    if weights.max() == 1.0:
        alone = blend.parts[int(np.argmax(weights))].family
        return f"its best weight puts everything on {alone}, a candidate of its own"
    return None


def fit_families(
    dev: Development,
    settings: Settings,
    booster: LightGBMConfig,
    families: Collection[Family],
    *,
    lightgbm: FamilyFit | None = None,
    progress: ProgressCallback | None = None,
) -> dict[Family, FamilyFit]:
    """Fit the families asked for (a blend fits its LightGBM and logistic parts too),
    LightGBM with `booster` unless already fitted (`lightgbm`)."""
    report = progress or (lambda message: None)
    training = settings.training
    validation = dev.validation.describe()
    fits: dict[Family, FamilyFit] = {}
    if {"lightgbm", "blend"} & set(families):
        report(f"fitting LightGBM ({validation})")
        fits["lightgbm"] = lightgbm or fit_lightgbm(dev, booster, settings)
    if {"logistic", "blend"} & set(families):
        report(f"fitting the logistic model ({validation})")
        fits["logistic"] = fit_logistic(
            dev, training.logistic, training.random_state, training.selection.threads
        )
    if "blend" in families:
        parts = (fits["lightgbm"], fits["logistic"])
        fits["blend"] = fit_blend_family(dev, parts, training.selection.blend_weight_steps)
    return fits


def calibrate(
    fitted: FamilyFit, dev: Development, snapshots: Snapshots, settings: Settings
) -> Candidate:
    """A fitted family calibrated with the run's method (a flat table's own, or training's)."""
    training = settings.training
    method = settings.table.calibration if snapshots.kind == "table" else training.calibration
    return calibrated(
        fitted, dev, method, folds=training.calibration_folds, seed=training.random_state
    )


def fit_candidates(
    dev: Development,
    snapshots: Snapshots,
    settings: Settings,
    booster: LightGBMConfig,
    *,
    lightgbm: FamilyFit | None = None,
    progress: ProgressCallback | None = None,
) -> Candidates:
    """Fit, calibrate and validate every candidate family, then select one.

    lightgbm: the LightGBM family already fitted with `booster` (by tuning), else fitted here.
    """
    report = progress or (lambda message: None)
    training = settings.training
    families = training.candidates
    fits = fit_families(dev, settings, booster, families, lightgbm=lightgbm, progress=report)
    refused = {"blend": _blend_refusal(fits["blend"], dev)} if "blend" in fits else {}
    report("calibrating the candidates on their held-out scores")
    candidates = tuple(
        dataclasses.replace(
            calibrate(fitted, dev, snapshots, settings), refused=refused.get(family)
        )
        for family, fitted in fits.items()
    )
    selection = select(candidates, dev.validation, training.gate.baseline_margin)
    return Candidates(
        booster=booster,
        validation=dev.validation.describe(),
        candidates=candidates,
        selection=selection,
        threshold_rows=dev.held_frame,
    )


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
    reads a flat table) would score these rows as all-missing: the run's model then
    counts as a first model.
    """
    return set(champion.feature_names_) <= set(features)


def evaluate(
    snapshots: Snapshots,
    candidates: Candidates,
    costs: CostConfig,
    *,
    champion: ChurnModel | None = None,
    ground_truth: pd.DataFrame | None = None,
) -> Evaluation:
    """Score the test period with every candidate and the champion, and measure them.

    champion: the current champion when it can score these rows (`comparable`);
    ground_truth: the generator's true probabilities, when the data is synthetic. The
    threshold of the cost report is chosen on held-out probabilities of the development
    rows (Candidates.threshold_rows), never on the test rows.
    """
    test = snapshots.test
    test_x = test[snapshots.features]
    scores = {c.family: c.model.predict_churn(test_x) for c in candidates.candidates}
    candidate_metrics = {
        family: out_of_time_metrics(snapshots, probability)
        for family, probability in scores.items()
    }
    chosen = candidates.selection.chosen
    metrics = dict(candidate_metrics[chosen])
    if ground_truth is not None:
        metrics |= oracle_metrics(test, ground_truth, scores[chosen], metrics["roc_auc"])
    champion_metrics, difference = None, None
    y = test[LABEL].to_numpy()
    if champion is not None:
        scores["champion"] = champion.predict_churn(test_x)
        champion_metrics = out_of_time_metrics(snapshots, scores["champion"])
        auc_gain, standard_error = paired_auc_difference(y, scores[chosen], scores["champion"])
        difference = AucDifference(auc_gain, standard_error, len(test))
    held = candidates.threshold_rows
    savings = decision_report(
        (held, candidates.chosen.held_probability, held[LABEL].to_numpy()),
        (test, scores[chosen], y),
        costs,
    )
    return Evaluation(scores, metrics, candidate_metrics, champion_metrics, difference, savings)


def refusals(notes: tuple[ColumnNote, ...]) -> tuple[str, ...]:
    """Reasons in the column notes that forbid promoting any model of the run: leakage."""
    return tuple(
        f"every candidate reads {note.column}, which alone ranks churners with ROC-AUC "
        f"{note.leakage_auc:.3f}: possible leakage. Leave it out with --exclude {note.column}, "
        "or promote this version by hand if it is known before customers churn"
        for note in notes
        if note.leakage_auc is not None
    )


def compare(
    evaluation: Evaluation, gate: GateConfig, notes: tuple[ColumnNote, ...]
) -> GateDecision:
    """The promotion gate on the run's test metrics, refused when the notes say leakage."""
    return promotion_decision(
        evaluation.metrics,
        champion=evaluation.champion_metrics,
        gate=gate,
        difference=evaluation.difference,
        refusals=refusals(notes),
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

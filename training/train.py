"""The training stage: snapshots -> candidate families -> selection -> test metrics -> MLflow -> gate.

training/steps.py does the work in pure steps (fit and select, evaluate, compare,
decide); `train_and_register` is the thin shell around them: one MLflow run (with a
nested run per candidate) that logs what they produced, then the registry
(model/registry.py) registers the selected model and, if the gate passed it, promotes it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from zerochurn.configs.secrets import redacted
from zerochurn.configs.settings import CostConfig, Settings
from zerochurn.console import ProgressCallback
from zerochurn.crash import crash_point
from zerochurn.model.card import ModelCard
from zerochurn.model.champion import CHAMPION, ModelUnavailableError, RegistryUnavailableError
from zerochurn.model.estimator import ChurnModel
from zerochurn.model.periods import OutOfTimeSplit
from zerochurn.model.plots import calibration_figure
from zerochurn.model.pyfunc import ChurnPyfunc
from zerochurn.model.registry import (
    MODEL_CARD_FILE,
    REFERENCE_ARTIFACT,
    REFERENCE_FILE,
    champion_registry,
    load_champion,
    reaching,
)
from zerochurn.model.savings import DecisionReport, resolve_costs
from zerochurn.training import plots, tracking
from zerochurn.training.data import LABEL, Snapshots
from zerochurn.training.development import development
from zerochurn.training.fit import run_booster
from zerochurn.training.gate import GateDecision
from zerochurn.training.steps import (
    Candidates,
    Evaluation,
    comparable,
    compare,
    decide,
    evaluate,
    fit_candidates,
    model_card,
)
from zerochurn.training.survival import SurvivalFit, fit_survival
from zerochurn.training.tuning import tune_booster

EXAMPLE_ROWS = 5
SHAP_SAMPLE_ROWS = 5000


@dataclass(frozen=True)
class TrainingOutcome:
    """What one training run produced and what the gate decided.

    family: the selected model's family and selection why; metrics: its test metrics;
    candidate_metrics: every candidate's, by family (baseline_metrics: the logistic one's).
    """

    run_id: str
    version: str
    family: str
    selection: str
    metrics: dict[str, float]
    candidate_metrics: dict[str, dict[str, float]]
    baseline_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    decision: GateDecision
    champion: str | None
    savings: str | None = None
    savings_top_k: tuple[dict[str, object], ...] = ()
    survival_metrics: dict[str, float] | None = None
    survival_skipped: str = ""


def run_name(snapshots: Snapshots, data_dir: Path, version: str | None = None) -> str:
    """A training run's name in MLflow: "train v7 as-of 2026-01-01" (the latest as-of date,
    the test period's), or "train v7 telco.csv" for a flat table; no version until registered."""
    named = "train" if version is None else f"train v{version}"
    if isinstance(snapshots.split, OutOfTimeSplit):
        return f"{named} as-of {max(snapshots.split.test):%Y-%m-%d}"
    return f"{named} {Path(data_dir).name}"


def check_costs(snapshots: Snapshots, config: CostConfig) -> None:
    """Raise ValueError naming the setting, column and rows when the costs cannot be read."""
    for period in (snapshots.calibration, snapshots.test):
        if len(period):
            resolve_costs(period, config)


def _champion_to_compare(
    settings: Settings, features: list[str], report: ProgressCallback
) -> ChurnModel | None:
    """The current champion's model when the gate can compare with it on these features."""
    try:
        champion = load_champion(settings)
    except RegistryUnavailableError:
        raise
    except ModelUnavailableError:
        return None
    if comparable(champion.model, features):
        return champion.model
    report("the champion reads other columns: the gate compares with the baseline")
    return None


def _figures(snapshots: Snapshots, model: ChurnModel, scores: dict[str, np.ndarray]) -> dict:
    y = snapshots.test[LABEL].to_numpy()
    sample = snapshots.test[snapshots.features].sample(
        n=min(len(snapshots.test), SHAP_SAMPLE_ROWS), random_state=0
    )
    contributions = model.contributions(sample)
    return {
        "roc": plots.roc_figure(y, scores),
        "precision_recall": plots.precision_recall_figure(y, scores),
        "calibration": calibration_figure(y, scores),
        "gain": plots.gain_figure(y, scores),
        "feature_importance": plots.importance_figure(contributions),
        "shap_summary": plots.shap_summary_figure(contributions, sample),
    }


def _reference(snapshots: Snapshots, model: ChurnModel, rows: int, seed: int) -> pd.DataFrame:
    """A sample of training rows with their scores: the monitoring reference of this model."""
    train = snapshots.train
    sample = train.sample(n=min(len(train), rows), random_state=seed).reset_index(drop=True)
    return sample.assign(churn_probability=model.predict_churn(sample[snapshots.features]))


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
    """The run's configuration, the data it read (hashes, split, datasets), column notes."""
    config = redacted(settings)  # no API key or password in a run anyone can read
    mlflow.log_params(tracking.flatten(config))
    mlflow.log_dict(config, "config.json")
    hashes = tracking.source_hashes(data_dir)
    periods = snapshots.split.describe()
    mlflow.set_tags(
        {f"data.sha256.{name}": digest for name, digest in hashes.items()}
        | {f"split.{period}": ",".join(dates) for period, dates in periods.items()}
        | {"data.dir": str(data_dir), "data.kind": snapshots.kind}
    )
    if snapshots.notes:
        mlflow.log_dict([asdict(note) for note in snapshots.notes], "column_notes.json")
    periods = {
        "train": snapshots.train,
        "calibration": snapshots.calibration,
        "test": snapshots.test,
    }
    tracking.log_datasets(
        {
            name: frame for name, frame in periods.items() if len(frame)
        },  # a table has no calibration
        source=data_dir,
        target=LABEL,
    )


def _log_survival(survival: SurvivalFit) -> None:
    """The time-to-churn model's split, measures, calibration table and figure."""
    mlflow.set_tags({f"survival.{key}": value for key, value in survival.split.describe().items()})
    mlflow.log_params(
        {
            "survival_best_iteration": survival.model.booster_.best_iteration,
            "survival_seen_months": survival.model.seen_months_,
        }
    )
    mlflow.log_metrics(survival.metrics)
    mlflow.log_dict(survival.calibration.to_dict(orient="records"), "survival_calibration.json")
    tracking.log_figures(
        {"survival_calibration": plots.survival_calibration_figure(survival.calibration)}
    )


def _log_results(
    snapshots: Snapshots,
    settings: Settings,
    candidates: Candidates,
    evaluation: Evaluation,
    card: ModelCard,
    survival: SurvivalFit | None,
) -> str:
    """Log the run's parameters, metrics, figures, reference rows and model; the model URI."""
    model, features, savings = candidates.model, snapshots.features, evaluation.savings
    mlflow.log_params(
        {
            "booster": json.dumps(candidates.booster.model_dump()),
            "validation": candidates.validation,
            "n_features": len(features),
        }
        | {f"model.{key}": value for key, value in model.describe().items()}
    )
    mlflow.set_tags({"model.family": model.family, "selection.reason": candidates.selection.reason})
    mlflow.log_dict(card.to_json(), MODEL_CARD_FILE)
    mlflow.log_metrics(
        _prefixed("test", evaluation.metrics)
        | _prefixed("baseline", evaluation.baseline_metrics)
        | _prefixed("champion", evaluation.champion_metrics)
        | _prefixed("calibration_cv_ece", model.calibration_scores)
        | {"rows_train": len(snapshots.train), "rows_test": len(snapshots.test)}
    )
    tracking.log_candidates(candidates, evaluation.candidate_metrics)
    figures = _figures(snapshots, model, evaluation.scores)
    if savings is not None:
        mlflow.log_metrics(savings_metrics(savings))
        mlflow.log_dict(savings.top_k.to_dict(orient="records"), "savings_top_k.json")
        figures["savings"] = plots.savings_figure(savings.test_curve, savings.test)
    tracking.log_figures(figures)
    reference = _reference(
        snapshots, model, settings.training.reference_rows, settings.training.random_state
    )
    tracking.log_frame(reference, REFERENCE_ARTIFACT, REFERENCE_FILE)
    if survival is not None:
        _log_survival(survival)
    else:
        mlflow.set_tag("survival.skipped", snapshots.survival_skipped)
    return tracking.log_churn_model(
        ChurnPyfunc(model, card, None if survival is None else survival.model),
        snapshots.test[features].head(EXAMPLE_ROWS),
        any_cells=snapshots.kind == "table",
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
    """Fit and select the candidates, evaluate on the test rows, log everything to MLflow,
    register the selected model and run the gate.

    Parameters
    ----------
    snapshots : labelled, out-of-time split feature rows (training.data.build_snapshots)
    settings : full configuration (churn definition, training, gate, MLflow)
    data_dir : the folder of raw tables, or the flat table's file, hashed for lineage
    ground_truth : the generator's true probabilities, when the data is synthetic
    tune_trials : LightGBM random-search trials before the candidates, as nested runs (0: none)
    """
    report = progress or (lambda message: None)
    check_costs(snapshots, settings.costs)  # a bad cost column fails before the run starts
    registry = champion_registry(settings)
    with reaching(settings.tracking_uri):
        for run_id in tracking.close_abandoned_runs(registry.client, settings.mlflow.experiment):
            report(f"closed run {run_id}: its training process was killed (status KILLED)")
    trained_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with (
        reaching(settings.tracking_uri),
        tracking.tracked_run(run_name(snapshots, data_dir)) as run,
    ):
        _log_lineage(settings, snapshots, data_dir)
        crash_point("train:run-started")
        dev = development(snapshots, settings)
        booster, tuned = run_booster(snapshots, settings), None
        if tune_trials:
            booster, tuned = tune_booster(
                dev,
                booster,
                settings,
                trials=tune_trials,
                on_trial=tracking.log_trial,
                progress=report,
            )
        candidates = fit_candidates(
            dev, snapshots, settings, booster, lightgbm=tuned, progress=report
        )
        report(f"selected {candidates.selection.chosen}: {candidates.selection.reason}")
        report("evaluating on the test rows")
        evaluation = evaluate(
            snapshots,
            candidates,
            settings.costs,
            champion=_champion_to_compare(settings, snapshots.features, report),
            ground_truth=ground_truth,
        )
        decision = compare(evaluation, settings.training.gate, snapshots.notes)
        survival = None
        if snapshots.survival is not None:
            survival = fit_survival(
                snapshots,
                settings,
                booster,
                family=candidates.selection.chosen,
                ground_truth=ground_truth,
                encoder=candidates.model.encoder,
                progress=report,
            )
        report("logging figures, reference data and the model to MLflow")
        card = model_card(snapshots, settings, trained_at=trained_at, savings=evaluation.savings)
        model_uri = _log_results(snapshots, settings, candidates, evaluation, card, survival)
    version = registry.register(model_uri, gate=json.dumps(asdict(decision)))
    crash_point("train:registered")
    registry.client.update_run(run.info.run_id, name=run_name(snapshots, data_dir, version.version))
    promotion = decide(decision)
    if promotion.promote:
        registry.promote(version.version, reason=promotion.reason)
    champion = registry.version(CHAMPION)
    savings = evaluation.savings
    return TrainingOutcome(
        run_id=run.info.run_id,
        version=str(version.version),
        family=candidates.selection.chosen,
        selection=candidates.selection.reason,
        metrics=evaluation.metrics,
        candidate_metrics=evaluation.candidate_metrics,
        baseline_metrics=evaluation.baseline_metrics,
        champion_metrics=evaluation.champion_metrics,
        decision=decision,
        champion=None if champion is None else str(champion.version),
        savings=None if savings is None else savings.test.describe(),
        savings_top_k=() if savings is None else tuple(savings.top_k.to_dict(orient="records")),
        survival_metrics=None if survival is None else survival.metrics,
        survival_skipped=snapshots.survival_skipped,
    )

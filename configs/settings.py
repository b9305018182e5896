"""Pydantic models of zerochurn's configuration, one per stage, all frozen."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from zerochurn.contract.schema import GRADE_SCORES, SURVEY_DIMENSIONS, SURVEY_ITEMS

DriftScenario = Literal["price_increase", "service_outage", "new_segment"]
Family = Literal["lightgbm", "logistic", "blend"]
"""Model families a training run compares (zerochurn/model/scorer.py)."""
"""Names of the drift scenarios the synthetic world can apply."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DataConfig(_Frozen):
    """Where the raw tables live."""

    raw_dir: Path | None = Field(
        None, description="Folder of raw tables; None means <workspace>/data."
    )
    as_of: dt.date | None = Field(
        None,
        description="The day the data was extracted: an event dated after it (a transaction, "
        "survey, complaint, signup or cancellation; due dates excepted) is a contract "
        "problem, and nothing is scored after the day that follows it. None: today (UTC).",
    )


class GenerateConfig(_Frozen):
    """Size, seed and drift of the synthetic world written by `zerochurn generate`."""

    customers: int = Field(50000, gt=0, description="Customers at the start, before arrivals.")
    months: int = Field(24, ge=3, le=240, description="Months of history to simulate.")
    seed: int = Field(42, ge=0, description="Random seed; the same seed gives the same world.")
    start: dt.date = Field(dt.date(2024, 1, 1), description="First day of the first month.")
    drift: DriftScenario | None = Field(None, description="Drift scenario to apply, if any.")
    drift_from: str | None = Field(
        None, description="First month (YYYY-MM) the drift applies to; required with drift."
    )
    hidden_state: bool = Field(
        False,
        description="Also record each customer's hidden churn drivers (satisfaction, price "
        "experience, grievance, frailty) in the ground truth, for diagnostics of what the "
        "data cannot show; never features.",
    )

    @field_validator("start")
    @classmethod
    def _first_of_month(cls, value: dt.date) -> dt.date:
        if value.day != 1:
            raise ValueError(f"start must be the first day of a month, got {value}")
        return value

    @field_validator("drift_from")
    @classmethod
    def _month_format(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
            raise ValueError(f"drift_from must look like YYYY-MM, got {value!r}")
        return value

    @model_validator(mode="after")
    def _drift_needs_month(self) -> GenerateConfig:
        if (self.drift is None) != (self.drift_from is None):
            raise ValueError("drift and drift_from must be given together")
        return self


class ChurnConfig(_Frozen):
    """The one churn definition every stage uses."""

    definition: Literal["cancellation", "inactivity"] = Field(
        "cancellation",
        description="cancellation: cancel_date within the horizon after T; "
        "inactivity: a customer also leaves after inactivity_days without a transaction; "
        "churned = gone by T + horizon_days.",
    )
    horizon_days: int = Field(90, gt=0, description="Days after the as-of date a churn counts.")
    inactivity_days: int = Field(
        90, gt=0, description="Days without a transaction that make a customer churned."
    )


class ValueFunctionConfig(_Frozen):
    """Inputs of the customer value function CLV = m * sum_t (r / (1 + d))^t (domain.md 3)."""

    annual_discount_rate: float = Field(0.10, ge=0, lt=1, description="Yearly discount rate d.")
    max_months: int = Field(60, gt=0, description="Months summed at most (the lifetime cap).")
    min_monthly_retention: float = Field(
        0.50, gt=0, lt=1, description="Lower clip of the monthly retention rate r."
    )
    max_monthly_retention: float = Field(
        0.995, gt=0, lt=1, description="Upper clip of r, so no customer is worth forever."
    )

    @model_validator(mode="after")
    def _ordered(self) -> ValueFunctionConfig:
        if self.min_monthly_retention > self.max_monthly_retention:
            raise ValueError("min_monthly_retention must not exceed max_monthly_retention")
        return self


def _default_weights() -> dict[str, float]:
    return {
        "product_quality": 0.20,
        "price": 0.12,
        "assortment": 0.10,
        "staff_attitude": 0.10,
        "invoicing": 0.08,
        "logistics": 0.12,
        "problem_handling": 0.10,
        "complaint_handling": 0.10,
        "business_process": 0.08,
    }


class FeatureConfig(_Frozen):
    """Windows and weights of the point-in-time features."""

    revenue_windows_months: tuple[int, ...] = Field(
        (1, 3, 6, 12), description="Trailing windows (months) of revenue sums."
    )
    complaint_windows_days: tuple[int, ...] = Field(
        (30, 90, 365), description="Trailing windows (days) of complaint counts."
    )
    satisfied_score: int = Field(75, description="Score at or above which an answer is satisfied.")
    complaint_unresolved_days: int = Field(
        30, gt=0, description="Days open after which an unresolved complaint is called old."
    )
    survey_history_months: int = Field(
        24,
        gt=0,
        description="Months of questionnaires averaged in the satisfaction history features: "
        "each questionnaire is a noisy reading of a slowly moving satisfaction, so the mean "
        "of several is a better estimate than the latest alone.",
    )
    complaint_load_half_life_days: float = Field(
        120.0,
        gt=0,
        description="Half-life (days) of a complaint's weight in the complaint-load features: "
        "the grievance a badly handled complaint leaves fades over months.",
    )
    followup_wait_days: int = Field(
        7,
        ge=0,
        description="Days after its resolution before a complaint without a follow-up call "
        "counts as not followed up.",
    )
    value_function: ValueFunctionConfig = ValueFunctionConfig()
    satisfaction_index_weights: dict[str, float] = Field(
        default_factory=_default_weights,
        description="Weight of each survey dimension in the 0..100 satisfaction index; "
        "perceived quality weighs most, as in the ACSI model of domain.md section 4.",
    )

    @field_validator("satisfaction_index_weights")
    @classmethod
    def _known_positive_weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(SURVEY_DIMENSIONS))
        if unknown:
            raise ValueError(f"unknown dimensions {unknown}: expected some of {SURVEY_DIMENSIONS}")
        if any(w < 0 for w in value.values()) or sum(value.values()) <= 0:
            raise ValueError("weights must be >= 0 and sum to more than 0")
        return value


class MlflowConfig(_Frozen):
    """Where runs and models are tracked."""

    tracking_uri: str | None = Field(
        None, description="MLflow tracking URI; None means SQLite inside the workspace."
    )
    experiment: str = Field("zerochurn", min_length=1, description="Experiment name.")
    registered_model: str = Field("zerochurn", min_length=1, description="Registry model name.")
    request_timeout_seconds: int = Field(
        10,
        gt=0,
        description="Seconds one HTTP request to a remote tracking server may take to connect "
        "and to answer. MLflow's own default is 120 s with 7 retries: a server that is down "
        "held `serve` for about 250 s and a port that never answers for about 20 minutes.",
    )
    request_retries: int = Field(
        2,
        ge=0,
        description="Retries of a failed request (refused, timed out, 429 or 5xx) before the "
        "command fails with an error naming the tracking URI. A call gives up after at most "
        "(retries + 1) x request_timeout_seconds plus the backoff.",
    )
    retry_backoff_seconds: int = Field(
        1,
        ge=0,
        description="Backoff factor between retries: they wait this x 1, 2, 4, ... seconds "
        "(plus up to a second of jitter).",
    )


class LightGBMConfig(_Frozen):
    """Booster parameters of the LightGBM churn model."""

    learning_rate: float = Field(0.03, gt=0, le=1, description="Shrinkage per boosting round.")
    num_leaves: int = Field(4, ge=2, description="Leaves per tree.")
    min_child_samples: int = Field(200, ge=1, description="Rows a leaf needs at least.")
    feature_fraction: float = Field(0.8, gt=0, le=1, description="Share of features per tree.")
    bagging_fraction: float = Field(0.8, gt=0, le=1, description="Share of rows per tree.")
    bagging_freq: int = Field(1, ge=0, description="Re-sample rows every this many rounds.")
    lambda_l2: float = Field(1.0, ge=0, description="L2 penalty on leaf values.")
    cat_smooth: float = Field(10.0, ge=0, description="Smoothing of categorical splits.")
    num_threads: int = Field(
        0, ge=0, description="Threads; 0 uses every core (set 1 on a busy shared machine)."
    )
    num_boost_round: int = Field(2000, gt=0, description="Most boosting rounds.")
    early_stopping_rounds: int = Field(
        100, gt=0, description="Rounds without validation improvement before stopping."
    )


class GateConfig(_Frozen):
    """When a model may become champion (challenger and champion scored on the same test rows)."""

    min_auc_gain: float = Field(
        0.0, description="Challenger ROC-AUC must be at least champion's plus this."
    )
    max_ece_increase: float = Field(
        0.01, ge=0, description="Challenger ECE may exceed the champion's by at most this."
    )
    confidence: float = Field(
        0.9,
        ge=0.5,
        lt=1,
        description="One-sided confidence with which the challenger's ROC-AUC gain over the "
        "champion must reach min_auc_gain (paired DeLong test on the test rows): a 0.003 "
        "gain on 2,000 rows is noise, not a win. 0.5 compares the point values.",
    )
    baseline_margin: float = Field(
        0.0,
        description="Another family is chosen over the baseline (the logistic model) only when "
        "its validated ROC-AUC exceeds the baseline's by more than this (a negative value "
        "never keeps the baseline for a near-tie).",
    )


class LogisticConfig(_Frozen):
    """The logistic family (the baseline): L2 logistic regression on a per-column basis."""

    knots: int = Field(
        5,
        ge=2,
        description="Knots of each number's cubic spline, at its training quantiles; 2 gives "
        "one standardised column per number (a plain linear effect).",
    )
    c_grid: tuple[float, ...] = Field(
        (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
        min_length=1,
        description="Inverse L2 strengths tried; the best held-out ROC-AUC wins.",
    )
    max_rows: int = Field(
        100_000,
        gt=0,
        description="Most rows it learns from (a random sample of a larger training set): "
        "a model of a few hundred coefficients gains nothing from more.",
    )
    max_iter: int = Field(2000, gt=0, description="Most solver (lbfgs) iterations.")


class SelectionConfig(_Frozen):
    """How candidate families are validated and compared before the test period."""

    folds: int = Field(
        5,
        ge=2,
        description="Folds of a flat table's cross-validation; parts the calibration period "
        "of snapshots is cut into for the spread and the blend's weight.",
    )
    repeats: int = Field(
        2, ge=1, description="Repeats of a flat table's cross-validation, each with new folds."
    )
    single_repeat_rows: int = Field(
        50_000,
        gt=0,
        description="From this many training rows on a table is cross-validated once: its "
        "folds are large enough to be stable.",
    )
    blend_weight_steps: int = Field(
        10, ge=1, description="The blend's LightGBM weight is chosen among steps + 1 values 0..1."
    )
    threads: int = Field(
        1,
        ge=1,
        description="Threads of each fit of a flat table's candidates (LightGBM and BLAS) and "
        "of every logistic fit: the fits are small, and threads waiting for busy cores were "
        "measured to slow them 3 to 20 times.",
    )
    refit_rounds_factor: float = Field(
        1.1,
        ge=1,
        description="A table's LightGBM is refitted on every training row with this many "
        "times the rounds its cross-validation stopped at (more rows take more rounds).",
    )


class TrainingConfig(_Frozen):
    """How snapshots are split out of time, and how models are fitted and calibrated."""

    candidates: tuple[Family, ...] = Field(
        ("lightgbm", "logistic", "blend"),
        min_length=1,
        description="Model families compared; the logistic one is the baseline and always "
        "fitted, the blend needs lightgbm.",
    )
    lightgbm: LightGBMConfig = LightGBMConfig()
    logistic: LogisticConfig = LogisticConfig()
    selection: SelectionConfig = SelectionConfig()
    calibration: Literal["auto", "platt", "isotonic"] = Field(
        "auto", description="auto: the method with the lower cross-validated ECE."
    )
    calibration_folds: int = Field(5, ge=2, description="Folds of that cross-validation.")
    validation_fraction: float = Field(
        0.15, gt=0, lt=1, description="Share of training customers held out for early stopping."
    )
    test_snapshots: int = Field(1, ge=1, description="Latest labelled as-of dates kept for test.")
    calibration_snapshots: int = Field(
        1, ge=1, description="As-of dates before the test period used only for calibration."
    )
    train_snapshots: int = Field(12, ge=1, description="Most recent as-of dates trained on.")
    min_history_months: int = Field(
        3, ge=1, description="Months of data before the first as-of date used."
    )
    random_state: int = Field(0, ge=0, description="Seed of every random choice in training.")
    reference_rows: int = Field(
        50_000, gt=0, description="Training rows logged with the model as monitoring reference."
    )
    gate: GateConfig = GateConfig()

    @field_validator("candidates")
    @classmethod
    def _families_fit_together(cls, families: tuple[Family, ...]) -> tuple[Family, ...]:
        if "logistic" not in families:
            raise ValueError("candidates must include logistic, the baseline")
        if "blend" in families and "lightgbm" not in families:
            raise ValueError("the blend candidate averages lightgbm and logistic: add lightgbm")
        if len(set(families)) < len(families):
            raise ValueError(f"candidates {list(families)} name a family twice")
        return families


class SurvivalConfig(_Frozen):
    """The time-to-churn model trained beside the churn model (docs/training.md, survival).

    It is fitted on snapshots of the raw tables (not on a flat table, which has no time
    axis) and judged out of time at a test date with evaluation_months of follow-up.
    """

    enabled: bool = Field(True, description="Fit the time-to-churn model with the churn model.")
    months: int = Field(
        24,
        ge=12,
        le=120,
        description="Months of the survival curve S(t), t = 1..months; past them a curve goes "
        "on with its last month's hazard (expected lifetime and CLV run to "
        "features.value_function.max_months).",
    )
    evaluation_months: tuple[int, ...] = Field(
        (3, 6, 12), description="Months at which S(t) is evaluated out of time."
    )
    train_snapshots: int = Field(
        8, ge=1, description="Most as-of dates before the survival test date trained on."
    )
    snapshot_step_months: int = Field(
        1, ge=1, description="Months between those as-of dates, oldest (longest follow-up) first."
    )
    min_train_months: int = Field(
        3, ge=1, description="Fewest months of follow-up the oldest training date needs."
    )
    tenure_edges_months: tuple[float, ...] = Field(
        (3.0, 6.0, 12.0, 24.0),
        description="Tenure bands (months at the as-of date) whose hazard may change "
        "month by month in its own way (new customers settle).",
    )
    lightgbm: LightGBMConfig = Field(
        LightGBMConfig(learning_rate=0.05, num_leaves=8, min_child_samples=400),
        description="Booster of the hazard model on customer-month rows.",
    )
    calibration_bins: int = Field(
        10, ge=2, description="Bins (deciles) of predicted S(t) in the calibration check."
    )
    cox_max_rows: int = Field(
        60_000, gt=0, description="Training rows of the Cox baseline at most (a random sample)."
    )
    cox_alpha: float = Field(
        1.0,
        gt=0,
        description="L2 penalty of the Cox baseline: keeps a feature that nearly separates "
        "churners (recency under the inactivity definition) from diverging.",
    )

    @field_validator("evaluation_months")
    @classmethod
    def _months(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(m <= 0 for m in value) or list(value) != sorted(set(value)):
            raise ValueError(f"evaluation_months must increase strictly from 1, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _within_curve(self) -> SurvivalConfig:
        if max(self.evaluation_months) > self.months:
            raise ValueError(
                f"evaluation_months {list(self.evaluation_months)} reach past months={self.months}"
            )
        return self


class TableConfig(_Frozen):
    """Training and scoring on a flat customer table (one row per customer, no time axis)."""

    id_column: str = Field("customer_id", min_length=1, description="Column of customer ids.")
    target_column: str = Field(
        "churned", min_length=1, description="Column of churn labels (yes/no, 1/0, ...)."
    )
    positive_label: str | None = Field(
        None,
        min_length=1,
        description="The target value that means churned (compared stripped, in any case); "
        "every other non-blank value means stayed. None: recognise the common spellings "
        "(yes/no, 1/0, true/false, churned/stayed, ...).",
    )
    exclude: tuple[str, ...] = Field((), description="Columns never used as features.")
    margin_column: str | None = Field(
        None,
        description="Column of each customer's monthly margin (or revenue): scores then carry "
        "customer_value and value_at_risk. Set churn.horizon_days to the label's window.",
    )
    test_fraction: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="Share of rows held out for the test (stratified); the rest is "
        "cross-validated, and every model calibrated on its out-of-fold scores.",
    )
    calibration: Literal["auto", "platt", "isotonic"] = Field(
        "auto",
        description="Calibration of a table model on its out-of-fold scores; auto: the method "
        "with the lower cross-validated ECE (Platt fails on some tables, isotonic on others).",
    )
    min_rows_per_leaf: int = Field(
        20,
        gt=0,
        description="A table model's min_child_samples is the configured one, lowered to 1% "
        "of its training rows but not below this.",
    )
    id_unique_share: float = Field(
        0.95,
        gt=0,
        le=1,
        description="A text column with at least this share of distinct values looks like an id "
        "and is not used.",
    )
    leakage_auc: float = Field(
        0.98,
        gt=0.5,
        le=1,
        description="A column that alone ranks churners with at least this AUC is reported as "
        "possible leakage.",
    )


class ServingConfig(_Frozen):
    """The scoring service, batch scores and at-risk lists."""

    host: str = Field("127.0.0.1", description="Address the service binds to.")
    port: int = Field(3000, gt=0, lt=65536, description="Port the service listens on.")
    max_batch: int = Field(1000, gt=0, description="Most records or ids in one request.")
    api_keys: tuple[str, ...] = Field(
        (), description="Accepted API keys; ZEROCHURN_API_KEYS (comma-separated) adds more."
    )
    top_reasons: int = Field(3, gt=0, description="Reasons returned per customer.")
    tier_cutoffs: dict[str, int] = Field(
        default_factory=lambda: {"medium": 100, "high": 150, "critical": 250},
        description="Lowest churn_index of each risk tier above 'low'.",
    )
    model_source: Literal["mlflow", "bentoml"] = Field(
        "mlflow",
        description="Where the service loads the champion: mlflow (registry alias champion) "
        "or bentoml (the BentoML model store, as inside a Bento).",
    )
    bento_model: str = Field(
        "zerochurn-churn",
        min_length=1,
        description="Model in the BentoML model store: a name (its latest import) or "
        "name:version; build-bento pins the champion's version.",
    )
    scores_dir: Path | None = Field(
        None, description="Folder of batch scores and the snapshot store; None: <workspace>/scores."
    )
    at_risk_limit: int = Field(100, gt=0, description="Customers /at_risk returns by default.")
    workers: int = Field(
        2,
        ge=1,
        description="Worker processes of the service, which share its port; each loads the "
        "model (memory x workers). 2 uses both cores of a 2-core machine.",
    )
    threads: int = Field(
        4,
        ge=1,
        description="Requests one worker handles at once: while a request waits for its "
        "prediction-log commit, others score, and their records share the next fsync.",
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024,
        gt=0,
        description="Largest request body; a larger one gets 413 without being read. 4 MiB "
        "holds a full /score batch of 1,000 records (about 1.7 MB).",
    )
    metrics: Literal["key", "open", "off"] = Field(
        "key",
        description="Exposure of /metrics (Prometheus): key: with the API key like the API "
        "(Prometheus sends it as a bearer token); open: without a key, for a scraper inside "
        "a trusted network; off: no /metrics.",
    )
    reload_poll_seconds: float = Field(
        0.5,
        gt=0,
        description="How often each worker checks whether another worker's /reload pinned a "
        "new model.",
    )
    reload_timeout_seconds: float = Field(
        60.0,
        gt=0,
        description="Longest /reload waits for every worker to serve the new model before it "
        "answers with those that do.",
    )

    @field_validator("tier_cutoffs")
    @classmethod
    def _named_positive_cutoffs(cls, value: dict[str, int]) -> dict[str, int]:
        if "low" in value:
            raise ValueError("tier_cutoffs must not name 'low': it is the tier below all cut-offs")
        if len(set(value.values())) != len(value) or any(c <= 0 for c in value.values()):
            raise ValueError(f"tier_cutoffs must be distinct and > 0, got {value}")
        return value


class WebConfig(_Frozen):
    """The retention team's web workspace, served by the service at /app (serving/web/)."""

    page_size: int = Field(50, gt=0, le=1000, description="Customers per page of the at-risk list.")
    session_hours: float = Field(
        8.0, gt=0, description="Hours a sign-in lasts; then the visitor signs in again."
    )
    secure_cookie: bool = Field(
        False,
        description="Send the session cookie over HTTPS only: set true when the service is "
        "reached through TLS (127.0.0.1 is plain HTTP).",
    )
    mlflow_ui: str | None = Field(
        "http://127.0.0.1:5000",
        description="Address of an MLflow UI on the tracking store, for links to runs "
        "(`mlflow ui` serves one there); None: no links.",
    )
    cache_dir: Path | None = Field(
        None,
        description="Folder of the customer index built from the raw data folder of the "
        "latest scores; None: <workspace>/web.",
    )
    registry_seconds: float = Field(
        30.0,
        ge=0,
        description="The model-health page reads the registry again after this many seconds "
        "(a few MLflow queries per version); 0: on every visit.",
    )
    survey_quarters: int = Field(
        4, gt=0, description="Quarters of survey answers a customer page shows."
    )
    revenue_months: int = Field(24, gt=0, description="Months of revenue a customer page shows.")


NumericDriftMethod = Literal["wasserstein", "psi", "jensenshannon", "hellinger", "kl_div", "ed"]
"""Evidently drift measures of numeric columns that are distances, not p-values."""

CategoricalDriftMethod = Literal["jensenshannon", "psi", "hellinger", "kl_div"]
"""Evidently drift measures of categorical columns that are distances, not p-values."""


class MonitoringConfig(_Frozen):
    """Drift checks, delayed-label performance and the retraining policy.

    Drift is measured with distances only: a p-value test flags ever smaller differences
    as the data grows, so its verdict would change meaning with the number of rows.
    A column drifts when its distance reaches the threshold.
    """

    drift_share: float = Field(
        0.3, gt=0, le=1, description="Retrain when at least this share of features drift."
    )
    auc_drop: float = Field(
        0.05, gt=0, lt=1, description="Retrain when ROC-AUC falls this much below the test AUC."
    )
    ece_rise: float = Field(
        0.02,
        gt=0,
        lt=1,
        description="Retrain when the calibration error (ECE) rises this much above the test ECE.",
    )
    max_model_age_days: int = Field(90, gt=0, description="Retrain models older than this.")
    retrain_cooldown_days: int = Field(
        7,
        ge=0,
        description="Days after a model trained in answer to a drift report during which the "
        "same drift does not ask for another retrain (state 'cooldown'), when waiting for "
        "labels does not apply (a flat table's model, or a model that already learned from "
        "the drifted months). Performance, calibration and age still retrain at once. "
        "0: no cool-down.",
    )
    numeric_method: NumericDriftMethod = Field(
        "wasserstein",
        description="Drift measure of numeric features (Evidently method id); wasserstein is "
        "the distance divided by the reference's standard deviation.",
    )
    numeric_threshold: float = Field(
        0.1, gt=0, description="A numeric feature drifts when its distance reaches this."
    )
    categorical_method: CategoricalDriftMethod = Field(
        "jensenshannon", description="Drift measure of categorical features."
    )
    categorical_threshold: float = Field(
        0.1, gt=0, description="A categorical feature drifts when its distance reaches this."
    )
    prediction_method: NumericDriftMethod = Field(
        "wasserstein", description="Drift measure of the churn probability."
    )
    prediction_threshold: float = Field(
        0.1, gt=0, description="Retrain when the churn probability's distance reaches this."
    )
    reference_snapshots: int | None = Field(
        3,
        ge=1,
        description="Compare with the reference rows of the model's latest N training as-of "
        "dates only (None: all); earlier snapshots have shorter histories, so their windowed "
        "and recency features differ from any later month.",
    )
    window_days: int = Field(
        30, gt=0, description="Days of the prediction log checked when --since is not given."
    )
    min_rows: int = Field(500, gt=0, description="Fewest current rows a drift check runs on.")
    label_lag_days: int = Field(
        0,
        ge=0,
        description="Days after a row's churn horizon ends before its label is trusted "
        "(cancellations recorded late).",
    )
    min_labelled_churners: int = Field(
        30,
        gt=0,
        description="Labelled churners, and as many non-churners, needed before ROC-AUC and "
        "ECE are judged.",
    )
    performance_snapshots: int = Field(
        3,
        gt=0,
        description="Data-folder mode: latest labelled monthly as-of dates after the model's "
        "test period that are scored to measure performance.",
    )
    log_retention_days: int | None = Field(
        400,
        ge=1,
        description="Days of the prediction log kept before today (UTC). Every monitoring run "
        "that reads the log first deletes the whole day files (predictions-YYYY-MM-DD.jsonl) "
        "of older days, with their segment files; today's and later files and other files are "
        "never deleted, and the service never deletes. 400 keeps a year-over-year comparison "
        "possible. None: keep everything.",
    )
    log_segment_rows: int = Field(
        10_000,
        ge=1,
        description="Prediction-log batches of at least this many rows (batch scoring runs) are "
        "written as a Parquet segment file that their log line names, not inline as JSON: "
        "1,000,000 scored rows take 1.7 s to write and 1.4 s to read as Parquet (300 MB), "
        "34 s and 28 s as one JSON line (810 MB). Smaller batches stay inline, service "
        "requests included: a segment costs about 10 ms and a file of its own.",
    )

    log_durability: Literal["fsync", "os"] = Field(
        "fsync",
        description="When a score is acknowledged (a service answer sent, a batch run done): "
        "fsync: its prediction-log records are on disk, a power loss loses nothing "
        "acknowledged; os: they are written to the operating system, which survives the "
        "process being killed, but a power loss loses what the kernel had not yet flushed "
        "(up to about 30 s). docs/monitoring.md.",
    )
    log_commit_interval_ms: float = Field(
        0.0,
        ge=0,
        description="Least time between two prediction-log commits of one process: requests "
        "arriving meanwhile share the next fsync. 0: commit as soon as the previous fsync "
        "is done, with whatever queued during it (measured fastest: docs/monitoring.md).",
    )

    @model_validator(mode="after")
    def _window_within_retention(self) -> MonitoringConfig:
        days = self.log_retention_days
        if days is not None and days < self.window_days:
            raise ValueError(
                f"log_retention_days ({days}) must be at least window_days "
                f"({self.window_days}): the default monitoring window would reach deleted days"
            )
        return self


class SatisfactionTarget(_Frozen):
    """An improvement target for one survey item or dimension (domain.md section 1).

    The default is the case's "+10 points in complaint-handling satisfaction within three
    months": the target is the baseline quarter's mean score plus `points`, to be reached
    by a quarter that ends within `months` months after the baseline quarter.
    """

    level: Literal["item", "dimension"] = Field(
        "dimension", description="Whether name is a survey item or a survey dimension."
    )
    name: str = Field("complaint_handling", description="The item or dimension (schema.py).")
    points: float = Field(10.0, gt=0, description="Rise of the mean score (25..100) to reach.")
    months: int = Field(3, gt=0, description="Months after the baseline quarter to reach it in.")
    baseline_quarter: str | None = Field(
        None, description="Quarter (YYYYQn) the rise counts from; None: the first one answered."
    )

    @field_validator("baseline_quarter")
    @classmethod
    def _quarter_format(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{4}Q[1-4]", value):
            raise ValueError(f"baseline_quarter must look like YYYYQn, got {value!r}")
        return value

    @model_validator(mode="after")
    def _known_name(self) -> SatisfactionTarget:
        known = SURVEY_ITEMS if self.level == "item" else SURVEY_DIMENSIONS
        if self.name not in known:
            raise ValueError(f"unknown {self.level} {self.name!r}: expected one of {list(known)}")
        return self


class ReportsConfig(_Frozen):
    """The satisfaction, complaint and churn reports (`zerochurn report ...`)."""

    group_by: Literal["region", "segment"] = Field(
        "region", description="Customer attribute the satisfaction report groups by."
    )
    low_score: float = Field(
        70.0,
        description="Mean score under which an item or group is flagged low; the satisfied "
        "bar above it is features.satisfied_score.",
    )
    highlight_items: int = Field(3, gt=0, description="Weakest items the report highlights.")
    highlight_groups: int = Field(1, gt=0, description="Weakest groups the report highlights.")
    target: SatisfactionTarget | None = Field(
        SatisfactionTarget(), description="Satisfaction target tracked against actuals; None: none."
    )
    churn_months: int = Field(
        12, gt=0, description="Latest complete calendar months the churn report covers."
    )
    satisfaction_band_edges: tuple[float, ...] = Field(
        (50.0, 70.0, 75.0),
        description="Inner edges of the bands of a customer's latest mean survey score; "
        "a band includes its lower edge.",
    )
    complaint_lookback_days: int = Field(
        90, gt=0, description="Days before a month's start whose complaints set its outcome."
    )

    @field_validator("satisfaction_band_edges")
    @classmethod
    def _increasing_edges(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        low, high = min(GRADE_SCORES.values()), max(GRADE_SCORES.values())
        if any(a >= b for a, b in zip(value, value[1:], strict=False)) or not all(
            low < edge < high for edge in value
        ):
            raise ValueError(f"band edges must increase strictly within ({low}, {high})")
        return value


class RunConfig(_Frozen):
    """The end-to-end job of `zerochurn run`: after training, a later, drifted stretch."""

    later_months: int = Field(
        3, gt=0, description="Months simulated after the training data for monitoring."
    )
    later_drift: DriftScenario = Field(
        "service_outage", description="Drift scenario of those later months."
    )
    at_risk_top: int = Field(1000, gt=0, description="Customers in the at-risk list.")
    campaign_top: int = Field(
        10_000,
        ge=0,
        description="Customers of the demo retention campaign on the riskiest customers at "
        "the end of the training data, played out in the later months, measured and learned "
        "from (docs/campaigns.md); 0: no campaign.",
    )


class CostConfig(_Frozen):
    """Costs that set the decision threshold and savings reports (model/savings.py).

    Each cost is a number (the same amount of money for every customer) or the name of a
    column of the scored table holding each customer's amount. Leave both None to skip
    the cost report; give both or neither.
    """

    missed_churner: float | str | None = Field(
        None,
        description="Money lost when a churner is not contacted, e.g. 'customer_value'; "
        "None: no cost report.",
    )
    retention_offer: float | str | None = Field(
        None,
        description="Money a retention offer costs, paid for every contacted customer "
        "(needless when the customer would have stayed); None: no cost report.",
    )
    offer_success_rate: float = Field(
        1.0,
        gt=0,
        le=1,
        description="Chance an offer keeps a would-be churner; 1.0 when missed_churner already "
        "nets out how often offers work.",
    )
    top_k: tuple[int, ...] = Field(
        (100, 1000), description="Numbers of top-risk customers whose savings are reported."
    )
    top_shares: tuple[float, ...] = Field(
        (0.05, 0.1), description="Shares of top-risk customers whose savings are reported."
    )

    @field_validator("missed_churner", "retention_offer", mode="before")
    @classmethod
    def _amount_or_column(cls, value: object) -> object:
        if isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
            raise ValueError(f"expected an amount >= 0 or a column name, got {value!r}")
        if isinstance(value, int | float) and not 0 <= value < float("inf"):
            raise ValueError(f"expected an amount >= 0 or a column name, got {value}")
        return value

    @field_validator("top_k")
    @classmethod
    def _positive_counts(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(k <= 0 for k in value):
            raise ValueError(f"top_k must be > 0, got {list(value)}")
        return value

    @field_validator("top_shares")
    @classmethod
    def _shares(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 < share <= 1 for share in value):
            raise ValueError(f"top_shares must lie in (0, 1], got {list(value)}")
        return value

    @model_validator(mode="after")
    def _both_or_neither(self) -> CostConfig:
        if (self.missed_churner is None) != (self.retention_offer is None):
            raise ValueError("missed_churner and retention_offer must be given together")
        return self

    @property
    def configured(self) -> bool:
        """Whether costs are given, so savings are reported."""
        return self.missed_churner is not None

    @property
    def columns(self) -> tuple[str, ...]:
        """The data columns the costs are read from (never model features of a flat table)."""
        values = (self.missed_churner, self.retention_offer)
        return tuple(dict.fromkeys(value for value in values if isinstance(value, str)))


class EngineConfig(_Frozen):
    """Which engine builds features and batch scores: pandas on this machine, or Apache Spark.

    Both run the same feature and scoring functions and give the same numbers; Spark runs
    them on partitions of customers (docs/spark.md) and needs the `spark` extra.
    """

    name: Literal["pandas", "spark"] = Field(
        "pandas", description="pandas: one process holds every table; spark: Apache Spark."
    )
    spark_master: str = Field(
        "local[*]",
        min_length=1,
        description="Master URL of the Spark session the CLI starts: local[N] (N cores of this "
        "machine), spark://host:7077, yarn, k8s://...",
    )
    spark_driver_memory: str = Field(
        "2g", pattern=r"^\d+[kmgt]$", description="Heap of the Spark driver JVM, e.g. 2g."
    )
    spark_conf: dict[str, str] = Field(
        default_factory=dict,
        description="Any further Spark settings, e.g. {spark.executor.memory: 8g}; they win "
        "over zerochurn's own.",
    )
    customers_per_partition: int = Field(
        100_000,
        gt=0,
        description="Customers per Spark partition: each partition is one pandas call, so this "
        "bounds a Python worker's memory (about 3 GB at peak per 100,000 customers of 24 months).",
    )


class CampaignConfig(_Frozen):
    """Retention campaigns with a randomised control group (`zerochurn campaign ...`)."""

    folder: Path | None = Field(
        None, description="Folder of the campaign records; None: <workspace>/campaigns."
    )
    holdout: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="Share of each risk tier kept out of the action as the control group.",
    )
    seed: int | None = Field(
        None,
        ge=0,
        description="Seed of the randomisation; None: a fresh one, recorded with the campaign.",
    )
    min_group_customers: int = Field(
        50,
        ge=2,
        description="Customers the treatment and the control group each need before a "
        "campaign is measured: fewer give an interval too wide to act on.",
    )
    confidence: float = Field(
        0.95, gt=0, lt=1, description="Confidence level of the measured intervals."
    )
    offer_cost: float = Field(
        250.0,
        ge=0,
        description="Money one retention action costs, paid for every contacted customer "
        "(every treatment customer when the outcomes do not say who was contacted).",
    )


def _uplift_booster() -> LightGBMConfig:
    return LightGBMConfig(
        learning_rate=0.05,
        num_leaves=4,
        min_child_samples=50,
        num_boost_round=1000,
        early_stopping_rounds=50,
    )


class UpliftConfig(_Frozen):
    """The uplift model of who responds to the retention action (`zerochurn uplift`).

    It is validated when, on held-out campaign customers, its normalised Qini reaches
    min_qini and a permutation test says a random ranking of the same customers does as well
    with probability at most max_p_value. Only a validated model ranks the at-risk list.
    """

    lightgbm: LightGBMConfig = Field(
        default_factory=_uplift_booster,
        description="Booster of the treatment group's correction to the churn model's "
        "log-odds (small trees: campaign groups are a few thousand customers).",
    )
    validation_fraction: float = Field(
        0.3,
        gt=0,
        lt=1,
        description="Share of campaign customers (per group) held out to validate the model.",
    )
    early_stopping_fraction: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="Share of the treatment group's training customers used for early stopping.",
    )
    min_qini: float = Field(
        0.01, description="Held-out normalised Qini a validated model reaches at least."
    )
    max_p_value: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="Largest chance that a random ranking scores that Qini, for validation.",
    )
    permutations: int = Field(1000, ge=19, description="Random rankings of that permutation test.")
    top_share: float = Field(
        0.3, gt=0, le=1, description="Share of customers of the uplift-at-k figures."
    )
    registered_model: str = Field(
        "zerochurn-uplift",
        min_length=1,
        description="Registered model name; the validated version holds the alias 'validated'.",
    )
    random_state: int = Field(0, ge=0, description="Seed of the splits and the booster.")


class Settings(_Frozen):
    """All of zerochurn's configuration."""

    workspace: Path = Field(
        Path("workspace"), description="Folder for data, MLflow, scores and reports."
    )
    data: DataConfig = DataConfig()
    generate: GenerateConfig = GenerateConfig()
    churn: ChurnConfig = ChurnConfig()
    features: FeatureConfig = FeatureConfig()
    mlflow: MlflowConfig = MlflowConfig()
    training: TrainingConfig = TrainingConfig()
    survival: SurvivalConfig = SurvivalConfig()
    table: TableConfig = TableConfig()
    serving: ServingConfig = ServingConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    run: RunConfig = RunConfig()
    reports: ReportsConfig = ReportsConfig()
    costs: CostConfig = CostConfig()
    engine: EngineConfig = EngineConfig()
    campaigns: CampaignConfig = CampaignConfig()
    web: WebConfig = WebConfig()
    uplift: UpliftConfig = UpliftConfig()

    @property
    def data_dir(self) -> Path:
        """Folder of the raw tables."""
        return self.data.raw_dir if self.data.raw_dir is not None else self.workspace / "data"

    @property
    def campaigns_dir(self) -> Path:
        """Folder of the campaign records."""
        folder = self.campaigns.folder
        return folder if folder is not None else self.workspace / "campaigns"

    @property
    def tracking_uri(self) -> str:
        """MLflow tracking URI, defaulting to a SQLite file in the workspace."""
        if self.mlflow.tracking_uri:
            return self.mlflow.tracking_uri
        return f"sqlite:///{(self.workspace / 'mlflow' / 'mlflow.db').resolve()}"

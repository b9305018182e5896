"""The retraining policy: a pure decision from drift, performance and model age, with reasons.

Five checks may fire (`decide`). A retrain they ask for is held back when it would repeat
the last one (`hold`): drift that a model was already trained in answer to does not ask
again until something new can come of it, either the drifted months' labels maturing
enough for a model to learn from them (state "retrain_pending_labels") or, where that
does not apply, a cool-down (state "cooldown"). Performance, calibration and age are
never held: they are news.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from zerochurn.configs.settings import MonitoringConfig, TrainingConfig
from zerochurn.model.periods import first_data_end_training_on
from zerochurn.monitoring.results import ColumnDrift

NAMED_FEATURES = 5
"""Drifted features named in a reason; the summary lists them all."""
DRIFT_CHECKS = ("data_drift", "prediction_drift")
"""Checks that compare the data alone: a retrain that could not learn anything new about
it answers them no better the second time."""

HoldState = Literal["retrain_pending_labels", "cooldown"]
Action = Literal["retrain", "ok", "retrain_pending_labels", "cooldown"]


@dataclass(frozen=True)
class Check:
    """One rule of the policy: whether it fired, and the comparison in words."""

    name: str
    fired: bool
    reason: str


@dataclass(frozen=True)
class Hold:
    """Why the checks that fired do not ask for a retrain now, and until when.

    until: ISO day from which the hold no longer applies: a date of the data (the
    monitored period) for "retrain_pending_labels", a UTC calendar day for "cooldown".
    """

    state: HoldState
    until: str
    reason: str


@dataclass(frozen=True)
class Decision:
    """The policy's verdict: retrain when any check fired, unless a hold applies."""

    checks: tuple[Check, ...]
    hold: Hold | None = None

    @property
    def fired(self) -> tuple[str, ...]:
        """Names of the checks that fired."""
        return tuple(check.name for check in self.checks if check.fired)

    @property
    def action(self) -> Action:
        """ "ok" when no check fired, the hold's state when one applies, else "retrain"."""
        if not self.fired:
            return "ok"
        return "retrain" if self.hold is None else self.hold.state

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why: the hold if any, then the checks that fired, or every check when none did."""
        fired = tuple(check.reason for check in self.checks if check.fired)
        held = () if self.hold is None else (self.hold.reason,)
        return (*held, *fired) or tuple(check.reason for check in self.checks)


@dataclass(frozen=True)
class DriftReport:
    """A monitoring run of the history, as the policy reads it.

    created_at: when it ran (UTC); period: the monitored as-of day (None when unknown);
    drift_fired: whether a drift check fired.
    """

    run: str
    created_at: dt.datetime
    period: pd.Timestamp | None
    drift_fired: bool


@dataclass(frozen=True)
class LastTraining:
    """The newest model version trained, whatever the gate decided.

    train_as_of: as-of dates of its train period, oldest first (empty for a flat table's
    model); window_days: how far its labels look ahead.
    """

    version: str
    trained_at: dt.datetime
    train_as_of: tuple[pd.Timestamp, ...]
    window_days: int


def answered_drift(history: Sequence[DriftReport], last: LastTraining) -> DriftReport | None:
    """The first report of the drift `last` was trained in answer to, if it was.

    That is the first of the unbroken run of drift-firing reports that ends with the
    latest report made before `last` was trained; None when that latest report found no
    drift (or there is none).
    """
    before = sorted(
        (report for report in history if report.created_at < last.trained_at),
        key=lambda report: report.created_at,
    )
    onset = None
    for report in reversed(before):
        if not report.drift_fired:
            break
        onset = report
    return onset


def hold(
    *,
    history: Sequence[DriftReport],
    last: LastTraining | None,
    period: pd.Timestamp | None,
    now: dt.datetime,
    config: MonitoringConfig,
    training: TrainingConfig,
) -> Hold | None:
    """Whether a retrain for drift would repeat the last one, and until when.

    Parameters
    ----------
    history : earlier monitoring runs, any order
    last : the newest model version trained (None: no model yet)
    period : the as-of day of the current rows (None: not known, e.g. a flat table)
    now : the run's time (UTC)
    config : retrain_cooldown_days
    training : the periods a retrain would split its snapshots into

    "retrain_pending_labels" when `last` was trained after the drift was first reported
    (`answered_drift`) but its train period ends before the month of the first drifted
    period, while the data (`period`) has not reached the day a retrain learns from that
    month (`model.periods.first_data_end_training_on`). Otherwise "cooldown" for monitoring.retrain_cooldown_days after such a
    training, unless the drifted months' labels have since matured (then a retrain learns
    something new). None when neither applies.
    """
    if last is None:
        return None
    onset = answered_drift(history, last)
    if onset is None:
        return None
    trained = f"version {last.version} was trained on {last.trained_at:%Y-%m-%d}"
    reported = f"after drift was first reported (monitoring run {onset.run}"
    if last.train_as_of and onset.period is not None and period is not None:
        learned_until = max(last.train_as_of)
        month = onset.period.to_period("M").to_timestamp()
        if learned_until < month:
            until = first_data_end_training_on(month, window_days=last.window_days, config=training)
            if period < until:
                return Hold(
                    "retrain_pending_labels",
                    f"{until:%Y-%m-%d}",
                    f"retrain pending labels until the data reaches {until:%Y-%m-%d}: "
                    f"{trained} {reported}, on {onset.period:%Y-%m-%d} data) but learned from "
                    f"as-of dates up to {learned_until:%Y-%m-%d} only; a model learns from "
                    f"{month:%Y-%m-%d} once the {last.window_days}-day labels of it and of the "
                    f"calibration and test periods after it are in the data, so retraining "
                    f"before {until:%Y-%m-%d} would repeat version {last.version}",
                )
            return None  # the drifted months' labels matured: a retrain learns from them
    days = config.retrain_cooldown_days
    until = last.trained_at + dt.timedelta(days=days)
    if now >= until:
        return None
    return Hold(
        "cooldown",
        f"{until:%Y-%m-%d}",
        f"cool-down until {until:%Y-%m-%d %H:%M} UTC: {trained} {reported}) and the same drift "
        f"waits monitoring.retrain_cooldown_days={days} days before asking again",
    )


def _data_drift(drifted: Sequence[str], n_features: int, config: MonitoringConfig) -> Check:
    share = len(drifted) / n_features
    fired = share >= config.drift_share
    named = ", ".join(drifted[:NAMED_FEATURES])
    more = len(drifted) - NAMED_FEATURES
    listed = f" ({named}{f' and {more} more' if more > 0 else ''})" if drifted else ""
    reason = (
        f"{len(drifted)} of {n_features} features drifted{listed}: share {share:.0%} "
        f"{'>=' if fired else '<'} {config.drift_share:.0%}"
    )
    return Check("data_drift", fired, reason)


def _prediction_drift(prediction: ColumnDrift) -> Check:
    verdict = "drifted" if prediction.drifted else "stable"
    reason = (
        f"predictions {verdict}: {prediction.method} {prediction.score:.3f} "
        f"{'>=' if prediction.drifted else '<'} {prediction.threshold}"
    )
    return Check("prediction_drift", prediction.drifted, reason)


def _worsening(
    name: str,
    metric: str,
    current: float | None,
    at_test: float,
    lower_is_worse: bool,
    limit: float,
) -> Check:
    """Fire when a delayed-label metric got worse than at test time by at least `limit`."""
    if current is None:
        return Check(name, False, f"{metric} not judged: too few labelled churners yet")
    change = at_test - current if lower_is_worse else current - at_test
    fired = change >= limit
    word = "drop" if lower_is_worse else "rise"
    reason = (
        f"{metric} {current:.4f} vs {at_test:.4f} at test: {word} {change:+.4f} "
        f"{'>=' if fired else '<'} {limit}"
    )
    return Check(name, fired, reason)


def _performance(auc: float | None, test_auc: float, config: MonitoringConfig) -> Check:
    return _worsening("performance", "ROC-AUC", auc, test_auc, True, config.auc_drop)


def _calibration(ece: float | None, test_ece: float, config: MonitoringConfig) -> Check:
    return _worsening("calibration", "ECE", ece, test_ece, False, config.ece_rise)


def _age(model_age_days: float, config: MonitoringConfig) -> Check:
    fired = model_age_days > config.max_model_age_days
    reason = (
        f"model is {model_age_days:.0f} days old: "
        f"{'more than' if fired else 'within'} {config.max_model_age_days} days"
    )
    return Check("model_age", fired, reason)


def decide(
    *,
    drifted_features: Sequence[str],
    n_features: int,
    prediction: ColumnDrift,
    auc: float | None,
    test_auc: float,
    ece: float | None,
    test_ece: float,
    model_age_days: float,
    config: MonitoringConfig,
    held: Hold | None = None,
) -> Decision:
    """Retrain when the drifted share of features reaches ``config.drift_share``, the
    prediction drifts, ROC-AUC falls ``config.auc_drop`` below the test AUC, ECE rises
    ``config.ece_rise`` above the test ECE, or the model is older than
    ``config.max_model_age_days``; unless only drift checks fired and `held` (`hold`'s
    verdict) says a retrain would repeat the last one.

    Parameters
    ----------
    drifted_features : names of the drifted features, most drifted first
    n_features : features checked
    prediction : drift of the churn probability
    auc, ece : ROC-AUC and calibration error on labelled recent rows, None while too
        few rows are labelled
    test_auc, test_ece : the same on the model's out-of-time test period
    model_age_days : days since the model was trained
    config : the policy's thresholds
    held : whether a retrain for drift would repeat the last one (`hold`), None if not
    """
    if n_features <= 0:
        raise ValueError(f"n_features={n_features}: expected at least one feature checked")
    checks = (
        _data_drift(list(drifted_features), n_features, config),
        _prediction_drift(prediction),
        _performance(auc, test_auc, config),
        _calibration(ece, test_ece, config),
        _age(model_age_days, config),
    )
    fired = [check.name for check in checks if check.fired]
    only_drift = bool(fired) and set(fired) <= set(DRIFT_CHECKS)
    return Decision(checks, held if only_drift else None)

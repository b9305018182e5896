"""The retraining policy: a pure decision from drift, performance and model age, with reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from zerochurn.configs.settings import MonitoringConfig
from zerochurn.monitoring.results import ColumnDrift

NAMED_FEATURES = 5
"""Drifted features named in a reason; the summary lists them all."""

Action = Literal["retrain", "ok"]


@dataclass(frozen=True)
class Check:
    """One rule of the policy: whether it fired, and the comparison in words."""

    name: str
    fired: bool
    reason: str


@dataclass(frozen=True)
class Decision:
    """The policy's verdict: retrain when any check fired."""

    checks: tuple[Check, ...]

    @property
    def action(self) -> Action:
        """ "retrain" when any check fired, else "ok"."""
        return "retrain" if any(check.fired for check in self.checks) else "ok"

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why: the checks that fired, or every check when none did."""
        fired = tuple(check.reason for check in self.checks if check.fired)
        return fired or tuple(check.reason for check in self.checks)


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
) -> Decision:
    """Retrain when the drifted share of features reaches ``config.drift_share``, the
    prediction drifts, ROC-AUC falls ``config.auc_drop`` below the test AUC, ECE rises
    ``config.ece_rise`` above the test ECE, or the model is older than
    ``config.max_model_age_days``.

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
    """
    if n_features <= 0:
        raise ValueError(f"n_features={n_features}: expected at least one feature checked")
    return Decision(
        (
            _data_drift(list(drifted_features), n_features, config),
            _prediction_drift(prediction),
            _performance(auc, test_auc, config),
            _calibration(ece, test_ece, config),
            _age(model_age_days, config),
        )
    )

"""The retraining policy: a pure decision with reasons, checked rule by rule."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from zerochurn.configs.settings import MonitoringConfig, TrainingConfig
from zerochurn.model.periods import first_data_end_training_on, out_of_time_split
from zerochurn.monitoring.policy import (
    DriftReport,
    LastTraining,
    answered_drift,
    decide,
    hold,
)
from zerochurn.monitoring.results import ColumnDrift

CONFIG = MonitoringConfig(drift_share=0.3, auc_drop=0.05, ece_rise=0.02, max_model_age_days=90)
STABLE = ColumnDrift("churn_probability", "wasserstein", 0.02, 0.1, drifted=False)


def healthy(**changes):
    """Arguments of a model with nothing wrong; `changes` breaks one thing at a time."""
    arguments = {
        "drifted_features": ["days_since_survey"],
        "n_features": 10,
        "prediction": STABLE,
        "auc": 0.78,
        "test_auc": 0.80,
        "ece": 0.012,
        "test_ece": 0.010,
        "model_age_days": 10.0,
        "config": CONFIG,
    }
    return decide(**(arguments | changes))


def fired(decision) -> set[str]:
    return {check.name for check in decision.checks if check.fired}


def test_a_healthy_model_is_kept_with_every_check_as_reason():
    decision = healthy()
    assert decision.action == "ok"
    assert fired(decision) == set()
    assert len(decision.reasons) == len(decision.checks) == 5
    assert decision.reasons[0] == "1 of 10 features drifted (days_since_survey): share 10% < 30%"
    assert "drop +0.0200 < 0.05" in decision.reasons[2]


def test_drift_share_fires_at_the_threshold_and_names_the_features():
    names = [f"f{i}" for i in range(7)]
    decision = healthy(drifted_features=names[:3])
    assert decision.action == "retrain" and fired(decision) == {"data_drift"}
    assert decision.reasons == ("3 of 10 features drifted (f0, f1, f2): share 30% >= 30%",)
    many = healthy(drifted_features=names)
    assert "(f0, f1, f2, f3, f4 and 2 more)" in many.reasons[0]
    assert fired(healthy(drifted_features=names[:2])) == set()


def test_prediction_drift_fires_with_method_and_score():
    drifted = ColumnDrift("churn_probability", "wasserstein", 0.134, 0.1, drifted=True)
    decision = healthy(prediction=drifted)
    assert fired(decision) == {"prediction_drift"}
    assert decision.reasons == ("predictions drifted: wasserstein 0.134 >= 0.1",)


@pytest.mark.parametrize(
    ("auc", "expected"), [(0.749, {"performance"}), (0.751, set()), (0.85, set())]
)
def test_auc_drop_fires_from_the_configured_drop(auc, expected):
    assert fired(healthy(auc=auc)) == expected


def test_calibration_fires_when_ece_rises_enough():
    assert fired(healthy(ece=0.031)) == {"calibration"}
    assert fired(healthy(ece=0.029)) == set()


def test_performance_without_labels_is_not_judged():
    decision = healthy(auc=None, ece=None)
    assert decision.action == "ok"
    assert "ROC-AUC not judged: too few labelled churners yet" in decision.reasons


def test_age_fires_only_past_the_limit():
    assert fired(healthy(model_age_days=90.0)) == set()
    decision = healthy(model_age_days=91.0)
    assert fired(decision) == {"model_age"}
    assert decision.reasons == ("model is 91 days old: more than 90 days",)


def test_every_fired_rule_is_a_reason():
    decision = healthy(drifted_features=["a", "b", "c"], auc=0.70, model_age_days=200.0)
    assert fired(decision) == {"data_drift", "performance", "model_age"}
    assert len(decision.reasons) == 3


def test_no_features_is_refused():
    with pytest.raises(ValueError, match="n_features=0: expected at least one"):
        healthy(drifted_features=[], n_features=0)


def test_drift_methods_are_distances_only():
    with pytest.raises(ValueError, match="numeric_method"):
        MonitoringConfig(numeric_method="ks")


# The hold: a retrain for drift that would repeat the last one waits.

TRAINED = dt.datetime(2026, 5, 1, 10, 5, tzinfo=dt.UTC)
LAST = LastTraining(
    version="2",
    trained_at=TRAINED,
    train_as_of=tuple(pd.date_range("2024-10-01", "2025-01-01", freq="MS")),
    window_days=90,
)
"""Version 2: trained in answer to drift on 2025-10-01 data, learned up to 2025-01-01."""


def report(run: str, minute: int, period: str, drift: bool) -> DriftReport:
    created = dt.datetime(2026, 5, 1, 10, minute, tzinfo=dt.UTC)
    return DriftReport(run, created, pd.Timestamp(period), drift)


ASKED = (report("a", 0, "2025-09-01", False), report("b", 1, "2025-10-01", True))


def held(period: str, *, history=ASKED, last=LAST, days_after: float = 0.0, **config):
    return hold(
        history=history,
        last=last,
        period=pd.Timestamp(period),
        now=TRAINED + dt.timedelta(days=days_after),
        config=MonitoringConfig(**config),
        training=TrainingConfig(),
    )


def test_the_answered_drift_is_the_first_of_the_streak_before_the_training():
    history = (
        report("ok", 0, "2025-08-01", False),
        report("first", 1, "2025-09-01", True),
        report("again", 2, "2025-10-01", True),
        report("after", 30, "2025-10-01", True),  # made after the training: not answered
    )
    assert answered_drift(history, LAST).run == "first"
    assert answered_drift(history[:1], LAST) is None  # no drift before the training
    assert answered_drift((*history[1:3], report("calm", 4, "2025-10-01", False)), LAST) is None
    assert answered_drift((), LAST) is None


def test_a_month_is_learned_once_the_periods_after_it_have_labels():
    # default periods: 1 test and 1 calibration snapshot, each purged by the 90-day window;
    # train 2025-10-01 needs calibration 2026-01-01 (10-01 + 90 days = 12-30), then test
    # 2026-04-01 (01-01 + 90 = 04-01) and the test labels: 04-01 + 90 days = 06-30
    ready = first_data_end_training_on(
        pd.Timestamp("2025-10-01"), window_days=90, config=TrainingConfig()
    )
    assert ready == pd.Timestamp("2026-06-30")
    split = out_of_time_split(
        pd.date_range("2024-01-01", ready, freq="MS"),
        data_end=ready,
        window_days=90,
        config=TrainingConfig(),
    )
    assert max(split.train) == pd.Timestamp("2025-10-01")
    earlier = out_of_time_split(
        pd.date_range("2024-01-01", ready, freq="MS"),
        data_end=ready - pd.Timedelta(days=1),
        window_days=90,
        config=TrainingConfig(),
    )
    assert max(earlier.train) < pd.Timestamp("2025-10-01")


def test_drift_answered_by_a_model_that_could_not_learn_it_waits_for_labels():
    waiting = held("2025-10-01")
    assert waiting.state == "retrain_pending_labels" and waiting.until == "2026-06-30"
    assert waiting.reason.startswith(
        "retrain pending labels until the data reaches 2026-06-30: version 2 was trained on "
        "2026-05-01 after drift was first reported (monitoring run b, on 2025-10-01 data) but "
        "learned from as-of dates up to 2025-01-01 only"
    )
    assert held("2026-06-29").state == "retrain_pending_labels"
    # once the labels have matured a retrain learns from the drifted month: no cool-down
    assert held("2026-06-30") is None
    assert held("2026-06-30", days_after=1.0) is None


def test_a_model_that_learned_from_the_drift_cools_down_instead():
    learned = LastTraining("2", TRAINED, (pd.Timestamp("2025-10-01"),), 90)
    cooling = held("2025-10-01", last=learned, days_after=3.0)
    assert cooling.state == "cooldown" and cooling.until == "2026-05-08"
    assert "monitoring.retrain_cooldown_days=7" in cooling.reason
    assert held("2025-10-01", last=learned, days_after=7.0) is None
    assert held("2025-10-01", last=learned, days_after=3.0, retrain_cooldown_days=0) is None


def test_a_flat_table_model_cools_down():
    table = LastTraining("2", TRAINED, (), 90)
    assert held("2026-05-01", last=table, days_after=1.0).state == "cooldown"


def test_nothing_holds_without_a_training_that_answered_drift():
    assert held("2025-10-01", last=None) is None
    assert held("2025-10-01", history=ASKED[:1]) is None


def test_a_hold_covers_drift_checks_only():
    waiting = held("2025-10-01")
    drifted = ColumnDrift("churn_probability", "wasserstein", 0.134, 0.1, drifted=True)
    decision = healthy(prediction=drifted, held=waiting)
    assert decision.action == "retrain_pending_labels" and decision.hold == waiting
    assert decision.reasons == (waiting.reason, "predictions drifted: wasserstein 0.134 >= 0.1")
    # labels showing decay are news: the retrain goes ahead
    decayed = healthy(prediction=drifted, auc=0.70, held=waiting)
    assert decayed.action == "retrain" and decayed.hold is None
    # with nothing fired there is nothing to hold
    calm = healthy(held=waiting)
    assert calm.action == "ok" and calm.hold is None

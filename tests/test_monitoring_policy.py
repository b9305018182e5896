"""The retraining policy: a pure decision with reasons, checked rule by rule."""

from __future__ import annotations

import pytest

from zerochurn.configs.settings import MonitoringConfig
from zerochurn.monitoring.policy import decide
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

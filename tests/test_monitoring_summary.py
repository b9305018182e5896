"""summary.json keeps its documented shape (docs/monitoring.md), written from typed results."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pandas as pd

from zerochurn.configs.settings import MonitoringConfig
from zerochurn.monitoring.current import DataSource, LogSource, Retention
from zerochurn.monitoring.drift import DataDrift, PredictionDrift
from zerochurn.monitoring.performance import Performance
from zerochurn.monitoring.policy import Hold, decide
from zerochurn.monitoring.precedent import drift_report
from zerochurn.monitoring.record import history_record
from zerochurn.monitoring.results import ColumnDrift
from zerochurn.monitoring.summary import ModelFacts, MonitoringSummary, ReferenceFacts

PREDICTION = ColumnDrift("churn_probability", "wasserstein", 0.134, 0.1, drifted=True)
DRIFT = DataDrift(
    columns=(
        ColumnDrift("complaints_30d", "wasserstein", 0.4, 0.1, drifted=True),
        ColumnDrift("segment", "no values", None, None, drifted=False),
        ColumnDrift("revenue_trend", "wasserstein", 0.05, 0.1, drifted=False),
    ),
    threshold=0.3,
)
UNJUDGED = Performance(
    rows=10, churners=1, as_of=("2026-02-01",), test_roc_auc=0.74, test_ece=0.011, judged=False
)


def summary(current, performance: Performance = UNJUDGED) -> MonitoringSummary:
    decision = decide(
        drifted_features=DRIFT.drifted,
        n_features=3,
        prediction=PREDICTION,
        auc=performance.roc_auc,
        test_auc=performance.test_roc_auc,
        ece=performance.ece,
        test_ece=performance.test_ece,
        model_age_days=2.0,
        config=MonitoringConfig(),
    )
    return MonitoringSummary(
        run="20260124T103000.000000Z",
        created_at="2026-01-24T10:30:00+00:00",
        decision=decision,
        model=ModelFacts("zerochurn", "3", "abc", "2026-01-22T10:30:00+00:00", 2.0),
        current=current,
        current_rows=600,
        reference=ReferenceFacts(rows=900, as_of=("2025-02-01", "2025-03-01"), model_version="3"),
        compared="600 current rows (...) against 900 reference rows (...)",
        data_drift=DRIFT,
        prediction_drift=PredictionDrift(PREDICTION, reference_mean=0.05, current_mean=0.06),
        performance=performance,
        reports=("drift",),
    )


def test_summary_json_has_the_documented_blocks_in_order():
    written = summary(DataSource(as_of="2026-07-01")).to_json()
    assert list(written) == [
        "run",
        "created_at",
        "decision",
        "hold",
        "compared",
        "reasons",
        "checks",
        "model",
        "current",
        "reference",
        "data_drift",
        "prediction_drift",
        "performance",
        "reports",
    ]
    assert written["decision"] == "retrain" and written["hold"] is None
    assert written["compared"] == "600 current rows (...) against 900 reference rows (...)"
    assert written["checks"][0] == {
        "name": "data_drift",
        "fired": True,
        "reason": "1 of 3 features drifted (complaints_30d): share 33% >= 30%",
    }
    assert written["model"] == {
        "name": "zerochurn",
        "version": "3",
        "run_id": "abc",
        "trained_at": "2026-01-22T10:30:00+00:00",
        "age_days": 2.0,
    }
    assert written["current"] == {
        "source": "data",
        "as_of": ["2026-07-01"],
        "period": "2026-07-01",
        "rows": 600,
    }
    assert written["reference"] == {
        "rows": 900,
        "as_of": ["2025-02-01", "2025-03-01"],
        "model_version": "3",
    }
    assert written["reports"] == {"drift": "drift.html"}
    json.dumps(written, allow_nan=False)  # JSON-ready as it is


def test_drift_blocks_list_every_feature_most_drifted_first_with_groups():
    written = summary(DataSource(as_of="2026-07-01")).to_json()
    drift = written["data_drift"]
    assert drift["features"] == 3 and drift["drifted"] == ["complaints_30d"]
    assert drift["share"] == 1 / 3 and drift["threshold"] == 0.3
    assert drift["groups"] == {
        "complaints": {"features": 1, "drifted": 1},
        "profile": {"features": 1, "drifted": 0},
        "value": {"features": 1, "drifted": 0},
    }
    assert list(drift["columns"]) == ["complaints_30d", "segment", "revenue_trend"]
    assert drift["columns"]["segment"] == {
        "group": "profile",
        "method": "no values",
        "score": None,
        "threshold": None,
        "drifted": False,
    }
    assert written["prediction_drift"] == {
        "method": "wasserstein",
        "score": 0.134,
        "threshold": 0.1,
        "drifted": True,
        "column": "churn_probability",
        "reference_mean": 0.05,
        "current_mean": 0.06,
    }


def test_performance_has_its_judged_figures_only_when_judged():
    assert summary(DataSource(as_of="2026-07-01")).to_json()["performance"] == {
        "rows": 10,
        "churners": 1,
        "as_of": ["2026-02-01"],
        "test_roc_auc": 0.74,
        "test_ece": 0.011,
        "judged": False,
    }
    judged = replace(
        UNJUDGED,
        judged=True,
        roc_auc=0.75,
        ece=0.02,
        log_loss=0.3,
        mean_probability=0.05,
        churn_rate=0.08,
        auc_drop=-0.01,
        ece_change=0.009,
    )
    assert list(summary(DataSource(as_of="2026-07-01"), judged).to_json()["performance"]) == [
        "rows",
        "churners",
        "as_of",
        "test_roc_auc",
        "test_ece",
        "judged",
        "roc_auc",
        "ece",
        "log_loss",
        "mean_probability",
        "churn_rate",
        "auc_drop",
        "ece_change",
    ]


def test_a_log_source_adds_the_window_and_the_retention():
    source = LogSource(
        log_dir="/w/predictions",
        since="2026-01-01T00:00:00+00:00",
        until="2026-01-31T00:00:00+00:00",
        as_of=("2026-01-01",),
        period="2026-01-01",
        retention=Retention(days=400, kept_from="2024-12-17", pruned=2),
    )
    assert summary(source).to_json()["current"] == {
        "source": "prediction_log",
        "log_dir": "/w/predictions",
        "since": "2026-01-01T00:00:00+00:00",
        "until": "2026-01-31T00:00:00+00:00",
        "as_of": ["2026-01-01"],
        "period": "2026-01-01",
        "retention": {"days": 400, "kept_from": "2024-12-17", "pruned": 2},
        "rows": 600,
    }


def test_the_history_line_reads_the_typed_summary():
    assert history_record(summary(DataSource(as_of="2026-07-01"))) == {
        "run": "20260124T103000.000000Z",
        "created_at": "2026-01-24T10:30:00+00:00",
        "period": "2026-07-01",
        "source": "data",
        "model_version": "3",
        "model_age_days": 2.0,
        "rows": 600,
        "drift_share": 1 / 3,
        "drifted_features": 1,
        "prediction_drift": 0.134,
        "roc_auc": None,
        "ece": None,
        "auc_drop": None,
        "ece_change": None,
        "decision": "retrain",
        "fired": ["data_drift", "prediction_drift"],
        "until": None,
    }


def test_a_held_decision_shows_its_state_until_and_reason_everywhere():
    waiting = Hold("retrain_pending_labels", "2026-06-30", "retrain pending labels until ...")
    checked = summary(DataSource(as_of="2025-10-01"))
    held = replace(checked, decision=replace(checked.decision, hold=waiting))
    written = held.to_json()
    assert written["decision"] == "retrain_pending_labels"
    assert written["hold"] == {
        "state": "retrain_pending_labels",
        "until": "2026-06-30",
        "reason": "retrain pending labels until ...",
    }
    assert written["reasons"][0] == "retrain pending labels until ..."
    line = history_record(held)
    assert (line["decision"], line["until"]) == ("retrain_pending_labels", "2026-06-30")
    # the history line is what the next run's policy reads back
    report = drift_report(line)
    assert report.drift_fired and report.period == pd.Timestamp("2025-10-01")
    assert report.created_at == dt.datetime(2026, 1, 24, 10, 30, tzinfo=dt.UTC)


def test_history_lines_from_before_fired_was_recorded_read_by_their_decision():
    old = {"run": "r", "created_at": "2026-01-24T10:30:00+00:00", "period": "2025-10-01"}
    assert drift_report(old | {"decision": "retrain"}).drift_fired
    assert not drift_report(old | {"decision": "ok"}).drift_fired
    assert not drift_report(old | {"decision": "retrain", "fired": ["model_age"]}).drift_fired

"""The drift page opens on the run's summary, then the most drifted columns."""

from __future__ import annotations

import pandas as pd
import pytest
from test_monitoring_summary import summary

from zerochurn.configs.settings import MonitoringConfig
from zerochurn.monitoring.current import DataSource
from zerochurn.monitoring.page import drift_page
from zerochurn.monitoring.report import Columns, run_report
from zerochurn.monitoring.results import drift_metric_ids

# complaints_30d moves, revenue_trend does not: the summary (test_monitoring_summary) says
# complaints_30d drifted most, then segment (not measured), then revenue_trend
REFERENCE = pd.DataFrame(
    {
        "revenue_trend": [0.0, 0.1, 0.2, 0.3] * 25,
        "complaints_30d": [0.0, 1.0, 2.0, 3.0] * 25,
        "churn_probability": [0.1, 0.2, 0.3, 0.4] * 25,
    }
)


@pytest.fixture(scope="module")
def page():
    current = REFERENCE.assign(complaints_30d=REFERENCE["complaints_30d"] + 1.0)
    snapshot = run_report(
        current=current,
        reference=REFERENCE,
        columns=Columns(numeric=("revenue_trend", "complaints_30d")),
        config=MonitoringConfig(),
    )
    checked = summary(DataSource(as_of="2026-07-01"))
    return snapshot, drift_page(snapshot, checked), checked


def test_the_page_opens_on_the_summary(page):
    _, laid_out, checked = page
    first, second, third = laid_out.dump_dict()["widgets"][:3]
    counters = {item["label"]: item["value"] for item in first["params"]["counters"]}
    assert counters == {
        "drifted features": "1 of 3 (33%)",
        "the policy retrains at": "30%",
        "prediction drift": "0.134 (wasserstein, threshold 0.1)",
        "decision": "retrain",
    }
    assert checked.compared in second["params"]["text"]
    assert (
        "- 1 of 3 features drifted (complaints_30d): share 33% >= 30%" in second["params"]["text"]
    )
    assert third["params"]["header"] == ["feature", "group", "method", "score", "threshold"]
    assert third["params"]["data"] == [
        ["complaints_30d", "complaints", "wasserstein", "0.4", "0.1"]
    ]


def test_then_the_columns_most_drifted_first_and_nothing_lost(page):
    snapshot, laid_out, _ = page
    ids = drift_metric_ids(snapshot.dict())
    widgets = laid_out.dump_dict()["widgets"][3:]
    shown = list(dict.fromkeys(widget["linked_metrics"][0] for widget in widgets))
    assert shown == [ids["churn_probability"], ids["complaints_30d"], ids["revenue_trend"]]
    assert len(widgets) == len(snapshot.dump_dict()["widgets"])
    assert "Most drifted features" in laid_out.get_html_str(as_iframe=False)

"""The web workspace's pure parts: chart geometry, the at-risk filter form, model-health
facts read from the registry's tags and a monitoring summary, and number formats."""

from __future__ import annotations

import json

import pytest

from zerochurn.configs import load_settings
from zerochurn.serving.schemas import request_models
from zerochurn.serving.store import AtRiskQuery
from zerochurn.serving.web.at_risk import pages, parse_form
from zerochurn.serving.web.charts import LABEL_WIDTH, bar_chart, line_chart, nice_ticks
from zerochurn.serving.web.health import gate_view, latest_run_folder, monitoring_view, run_url
from zerochurn.serving.web.rendering import money, number, percent, shown_path, when


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (0, 162, [0, 50, 100, 150, 200]),
        (0, 1, [0, 0.25, 0.5, 0.75, 1]),
        (55.2, 83.9, [50, 60, 70, 80, 90]),  # step 7.2 rounds up to 10
        (0, 0, [0, 0.25, 0.5, 0.75, 1]),
    ],
)
def test_nice_ticks_cover_the_range_in_round_steps(low, high, ticks):
    assert nice_ticks(low, high) == ticks


def _marks(chart, tag):
    return [
        dict(mark.attrs) | {"text": mark.text, "tip": mark.tip}
        for mark in chart.marks
        if mark.tag == tag
    ]


def test_bar_lengths_are_proportional_and_a_missing_value_has_no_bar():
    chart = bar_chart(
        ["a", "b", "c"], {"index": [100, 50, None]}, title="t", fmt=number, references={"avg": 100}
    )
    bars = _marks(chart, "rect")
    assert [bar["tip"] for bar in bars] == ["a: 100", "b: 50"]
    assert bars[0]["x"] == bars[1]["x"] == LABEL_WIDTH
    assert bars[0]["width"] == pytest.approx(2 * bars[1]["width"], abs=0.1)
    assert "n/a" in [text["text"] for text in _marks(chart, "text")]
    reference = next(line for line in _marks(chart, "line") if line["class"] == "ref")
    assert reference["x1"] == pytest.approx(LABEL_WIDTH + bars[0]["width"], abs=0.1)


def test_a_missing_value_breaks_the_line_and_the_latest_label_is_kept():
    labels = [f"m{n}" for n in range(10)]
    values = [1.0, 2.0, None, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    chart = line_chart(labels, {"revenue": values}, title="t", fmt=number)
    assert len(_marks(chart, "polyline")) == 2  # m0-m1, then m3-m9
    assert len(_marks(chart, "circle")) == 9
    shown = [text["text"] for text in _marks(chart, "text") if text["text"].startswith("m")]
    assert shown == ["m1", "m3", "m5", "m7", "m9"]  # every second, counted from the last


def test_one_point_is_drawn_in_the_middle():
    chart = line_chart(["2026-01-01"], {"p": [0.2]}, title="t", fmt=percent, zero=True)
    (dot,) = _marks(chart, "circle")
    assert dot["tip"] == "2026-01-01: 20.0%"


@pytest.fixture(scope="module")
def at_risk_request():
    return request_models(load_settings(environ={})).at_risk


def test_the_form_is_validated_as_the_api_request_and_paged(at_risk_request):
    params = {"region": " north ", "tier": "high", "min_value": "1000", "plan": "", "page": "3"}
    form = parse_form(params, at_risk_request, page_size=20)
    assert form.errors == ()
    assert form.query == AtRiskQuery(
        region="north", tier="high", min_value=1000.0, limit=20, offset=40
    )
    assert form.link(4) == "region=north&tier=high&min_value=1000&page=4"
    assert form.link(1) == form.filters_only() == "region=north&tier=high&min_value=1000"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_value": "lots"}, "min value"),
        ({"tier": "extreme"}, "tier"),
        ({"min_churn_index": "-5"}, "min churn index"),
        ({"sort": "name"}, "sort"),
    ],
)
def test_a_bad_filter_names_its_field(at_risk_request, params, message):
    form = parse_form(params, at_risk_request, page_size=20)
    assert form.query is None
    assert form.errors[0].startswith(message)


def test_a_bad_page_number_reads_as_the_first(at_risk_request):
    assert parse_form({"page": "x"}, at_risk_request, page_size=20).page == 1
    assert parse_form({"page": "-2"}, at_risk_request, page_size=20).page == 1
    assert (pages(0, 50), pages(50, 50), pages(51, 50)) == (1, 1, 2)


def test_gate_decision_is_read_from_the_version_tag():
    decision = {"passed": False, "compared_with": "champion", "reasons": ["ROC-AUC 0.70 < 0.71"]}
    assert gate_view({"gate": json.dumps(decision)}).reasons == ("ROC-AUC 0.70 < 0.71",)
    assert not gate_view({"gate": json.dumps(decision)}).passed
    assert gate_view({}) is None


def test_run_links_need_an_mlflow_ui_and_an_experiment():
    assert (
        run_url("http://mlflow:5000/", "3", "abc") == "http://mlflow:5000/#/experiments/3/runs/abc"
    )
    assert run_url(None, "3", "abc") is None
    assert run_url("http://mlflow:5000", None, "abc") is None


def test_the_latest_monitoring_run_is_the_newest_folder_with_a_summary(tmp_path):
    summary = {
        "run": "20261124T194044.487974Z",
        "created_at": "2026-11-24T19:40:44+00:00",
        "decision": "retrain",
        "reasons": ["19 of 55 features drifted"],
        "model": {"version": "1"},
        "current": {"source": "data", "period": "2026-07-01"},
        "data_drift": {
            "features": 55,
            "drifted": ["revenue_trend"],
            "share": 0.35,
            "threshold": 0.3,
        },
        "reports": {"drift": "drift.html"},
    }
    for run in ("20261124T194044.487974Z", "20261001T000000.000000Z"):
        (tmp_path / "monitoring" / run).mkdir(parents=True)
        (tmp_path / "monitoring" / run / "summary.json").write_text(json.dumps(summary))
    (tmp_path / "monitoring" / "20261231T000000.000000Z").mkdir()  # unfinished: no summary
    folder = latest_run_folder(tmp_path)
    assert folder.name == "20261124T194044.487974Z"
    view = monitoring_view(json.loads((folder / "summary.json").read_text()), None)
    assert (view.decision, view.drifted, view.features) == ("retrain", ("revenue_trend",), 55)
    assert latest_run_folder(tmp_path / "nothing") is None


def test_number_formats():
    assert (money(1234567.8), money(None), money(float("nan"))) == ("1,234,568", "n/a", "n/a")
    assert (percent(0.1234), percent(0.5, 0), number(1234.5, 1)) == ("12.3%", "50%", "1,234.5")
    assert when("2026-11-24T19:40:44+00:00") == "2026-11-24 19:40 UTC"
    assert when("2026-04-01") == "2026-04-01"


def test_a_folder_inside_the_workspace_is_named_from_the_workspace(tmp_path):
    workspace = tmp_path / "workspace"
    assert shown_path(workspace / "data_later", workspace) == "workspace/data_later"
    assert shown_path(tmp_path / "elsewhere", workspace) == str(tmp_path / "elsewhere")

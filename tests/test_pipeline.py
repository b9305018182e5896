"""The whole job end to end on a tiny world, as `make run` does it (without serving)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def test_run_end_to_end(tmp_path):
    workspace = tmp_path / "ws"
    # no terminal and no COLUMNS, as in CI or under nohup: nothing may be hard-wrapped
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROCHURN_", "COLUMNS"))}
    command = [
        *(sys.executable, "-m", "zerochurn.cli", "--workspace", str(workspace)),
        *("--set", "generate.customers=1500", "--set", "training.gate.baseline_margin=-1"),
        # a world this small has no transactions on some last days of a month: four later
        # months cover the demo campaign's 90-day outcome window
        *("--set", "run.later_months=4"),
        *("run", "--no-serve"),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]

    at_risk = pd.read_csv(workspace / "at_risk.csv")
    assert {"customer_id", "churn_probability", "value_at_risk", "risk_tier"} <= set(at_risk)
    order = "expected_saved_value" if "expected_saved_value" in at_risk else "value_at_risk"
    assert at_risk[order].is_monotonic_decreasing  # the first when the uplift model validated
    (measurement,) = (workspace / "campaigns").glob("run-*/measurement/campaign.json")
    assert json.loads(measurement.read_text())["summary"]["status"] == "measured"
    assert "uplift model version 1" in result.stderr
    summaries = list((workspace / "monitoring").glob("*/summary.json"))
    assert len(summaries) == 1
    summary = json.loads(summaries[0].read_text())
    assert summary["decision"] in ("retrain", "ok")
    assert (summaries[0].parent / "drift.html").is_file()
    last_run = json.loads((workspace / "training" / "last_run.json").read_text())
    assert last_run["champion"] is not None
    key_file = workspace / "api_key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert "curl" in result.stderr and "at_risk.csv" in result.stderr
    assert "web workspace:       http://127.0.0.1:3000/app/" in result.stderr
    scored = sorted(path.name for path in (workspace / "scores").glob("scores_*.parquet"))
    assert len(scored) == 2  # the training data's end and the later months': a score history
    # the three business reports are written and listed with the other results
    for report in ("satisfaction", "complaints", "churn"):
        html = workspace / "reports" / f"{report}.html"
        assert html.is_file()
        assert f"{report} report:" in result.stderr and str(html) in result.stderr
    # the key is masked and read from its file; the MLflow UI command is one line
    lines = result.stderr.splitlines()
    assert key_file.read_text().strip() not in result.stderr
    assert any(f'Bearer $(cat {key_file})"' in line for line in lines)
    assert any(f"mlflow ui --backend-store-uri sqlite:///{workspace}" in line for line in lines)
    # one line per step with elapsed time, and no library noise: that went to the log file
    assert "done training in" in result.stderr
    assert "fitting LightGBM (" in result.stderr
    for noise in ("CloudPickle", "INFO mlflow", "Successfully registered", "Created version"):
        assert noise not in result.stderr
    assert "CloudPickle" in (workspace / "logs" / "zerochurn.log").read_text()

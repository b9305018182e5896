"""End to end on a team's own flat extract: train and score by CLI, the logged model, the server.

The extract is made by hand the way real ones look: an id column named customerID,
numbers stored as text with blanks, categories with stray spaces, a Yes/No label in
mixed case, a leaky column and per-customer cost columns.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from live_server import SERVICE_ENV, Server, free_port, start_server
from mlflow import MlflowClient
from typer.testing import CliRunner

from zerochurn.cli import app
from zerochurn.configs import Settings, load_settings
from zerochurn.model.registry import ChampionRegistry, configure
from zerochurn.serving.launch import serve_command

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pathspec")  # bentoml's

CUSTOMERS = 2400
COSTS = ("--set", "costs.missed_churner=yearly_value", "--set", "costs.retention_offer=offer_cost")


def extract(n: int, seed: int) -> pd.DataFrame:
    """A flat customer table with known churn drivers (contract, tenure, charges)."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, n)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.25, 0.2])
    monthly = rng.uniform(18, 120, n).round(2)
    logit = -0.8 - 0.05 * tenure + 1.5 * (contract == "Month-to-month") + 0.02 * (monthly - 60)
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "customerID": [f"{i:05d}-{seed}" for i in range(n)],
            "tenure": tenure.astype(str),
            "Contract": [f" {c}" if i % 7 == 0 else c for i, c in enumerate(contract)],
            "MonthlyCharges": monthly.astype(str),
            "TotalCharges": [
                " " if t == 0 else f"{m * t:.2f}" for t, m in zip(tenure, monthly, strict=True)
            ],
            "exit_survey": np.where(churned, "done", ""),  # only churners have one: leakage
            "yearly_value": (monthly * 12).round(2).astype(str),
            "offer_cost": "30",
            "Churn": [
                ("YES" if i % 5 == 0 else "Yes") if c else "no" for i, c in enumerate(churned)
            ],
        }
    )


def _run(workspace: Path, *args: str):
    return CliRunner().invoke(app, ["--workspace", str(workspace), *args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Settings, Path, str]:
    """A workspace whose champion was trained on the extract with costs; the CLI output."""
    workspace = tmp_path_factory.mktemp("table")
    path = workspace / "extract.csv"
    extract(CUSTOMERS, seed=1).to_csv(path, index=False)
    result = _run(
        workspace,
        *COSTS,
        "train",
        "--table",
        str(path),
        "--id",
        "customerID",
        "--target",
        "Churn",
        "--exclude",
        "exit_survey",
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    settings = load_settings(overrides={"workspace": str(workspace)}, environ={})
    registry = ChampionRegistry(configure(settings), settings.mlflow.registered_model)
    assert str(registry.version("champion").version) == "1"  # a first training: a champion
    return settings, path, result.output


def test_training_reports_the_table_and_logs_costs(trained):
    settings, _, output = trained
    assert f"{CUSTOMERS:,} customers, 4 feature columns" in output
    assert "costs (threshold from held-out scores of the training data" in output
    client = MlflowClient(settings.tracking_uri)
    version = client.get_model_version(settings.mlflow.registered_model, "1")
    run = client.get_run(version.run_id)
    assert run.data.tags["data.kind"] == "table"
    assert "data.sha256.extract.csv" in run.data.tags
    metrics = run.data.metrics
    assert metrics["test_roc_auc"] > 0.75
    assert 0 < metrics["decision_share"] < 1 and metrics["decision_realised_savings"] > 0
    assert {"savings_top_100", "savings_top_share_0.1"} <= set(metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert "plots/savings.png" in artifacts
    card = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/model_card.json")
    assert card["data_kind"] == "table" and card["id_column"] == "customerID"
    assert card["decision_threshold"] == pytest.approx(metrics["decision_threshold"])


def test_leaky_column_is_reported_unless_excluded(tmp_path):
    path = tmp_path / "leaky.csv"
    extract(600, seed=2).drop(columns=["yearly_value", "offer_cost"]).to_csv(path, index=False)
    result = _run(tmp_path / "ws", "train", "--table", str(path), "--id", "customerID")
    assert result.exit_code == 1  # no column "churned": the default target
    assert "no churn label column 'churned'" in result.output
    result = _run(
        tmp_path / "ws", "train", "--table", str(path), "--id", "customerID", "--target", "Churn"
    )
    assert result.exit_code == 0, result.output
    assert "exit_survey: alone ranks churners with AUC 1.000: possible leakage" in result.output
    # the model is registered, but a suspected leak keeps it from becoming champion
    assert "gate vs candidates: refused" in result.output
    assert "no champion yet" in result.output


def _scored(settings: Settings, path: Path, out: Path) -> pd.DataFrame:
    result = _run(settings.workspace, *COSTS, "score", "--table", str(path), "--out", str(out))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return pd.read_csv(out)


def test_score_table_writes_scores_reasons_and_decisions(trained, tmp_path):
    settings, _, _ = trained
    fresh = tmp_path / "fresh.csv"
    rows = extract(300, seed=3)
    rows.to_csv(fresh, index=False)
    scores = _scored(settings, fresh, tmp_path / "scores.csv")
    assert scores["customer_id"].tolist() == rows["customerID"].tolist()
    assert scores["churn_probability"].between(0, 1).all()
    assert set(scores["risk_tier"]) <= {"low", "medium", "high", "critical"}
    month_to_month = scores[rows["Contract"].str.strip() == "Month-to-month"]
    assert (month_to_month["reasons"].str.contains("Contract: Month-to-month")).mean() > 0.9
    assert scores["contact"].dtype == bool and scores["contact"].any()
    expected = scores["churn_probability"] * rows["yearly_value"].astype(float) - 30
    np.testing.assert_allclose(scores["expected_savings"], expected, rtol=1e-12, atol=1e-9)
    # The retention team's list: without a margin column there is no value, so by risk.
    listed = tmp_path / "at_risk.csv"
    result = _run(settings.workspace, "at-risk", "--out", str(listed), "--top", "10")
    assert result.exit_code == 0, result.output
    at_risk = pd.read_csv(listed)
    top = scores.sort_values("churn_probability", ascending=False, kind="stable").head(10)
    # probabilities to 4 decimals, money to the cent
    assert at_risk["churn_probability"].tolist() == top["churn_probability"].round(4).tolist()
    assert at_risk["expected_savings"].tolist() == top["expected_savings"].round(2).tolist()
    assert {"contact", "expected_savings", "reasons", "as_of", "model_version"} <= set(at_risk)


def test_logged_model_scores_raw_rows_end_to_end(trained, tmp_path):
    """The one MLflow artifact reads the extract's raw text and gives the CLI's scores."""
    settings, _, _ = trained
    rows = extract(50, seed=4)
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    scores = _scored(settings, path, tmp_path / "scores.csv")
    mlflow.set_tracking_uri(settings.tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{settings.mlflow.registered_model}@champion")
    features = model.metadata.get_input_schema().input_names()
    raw = pd.read_csv(path, dtype=str)[features]
    predicted = model.predict(raw)["churn_probability"].to_numpy()
    np.testing.assert_allclose(predicted, scores["churn_probability"], rtol=1e-12)


def test_bad_rows_get_clear_errors(trained, tmp_path):
    settings, _, _ = trained
    bad = extract(5, seed=5)
    bad.loc[2, "tenure"] = "twelve"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    result = _run(settings.workspace, "score", "--table", str(path))
    assert result.exit_code == 1
    assert "column 'tenure' expects numbers, got row 3: 'twelve'" in result.output
    result = _run(settings.workspace, "score", str(tmp_path))
    assert result.exit_code == 1
    assert "score its table with `zerochurn score --table FILE`" in result.output


@pytest.fixture(scope="module")
def server(trained, tmp_path_factory) -> Iterator[Server]:
    settings, _, _ = trained
    port = free_port()
    settings = settings.model_copy(
        update={"serving": settings.serving.model_copy(update={"port": port})}
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCHURN_")}
    argv, env = serve_command(settings, environ | SERVICE_ENV)
    assert argv[0] == sys.executable
    with start_server(argv, env, tmp_path_factory.mktemp("logs") / "server.log", port) as running:
        yield running


def test_service_scores_table_rows_like_the_batch(trained, server, tmp_path):
    settings, _, _ = trained
    rows = extract(20, seed=6)
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    batch = _scored(settings, path, tmp_path / "scores.csv")
    posted = rows.to_dict(orient="records")  # raw text, the label column included
    response = server.post("/score_rows", {"rows": posted})
    assert response.status_code == 200, response.text
    items = response.json()["scores"]
    assert [item["customer_id"] for item in items] == batch["customer_id"].tolist()
    probabilities = [item["churn_probability"] for item in items]
    np.testing.assert_allclose(probabilities, batch["churn_probability"], rtol=1e-12)
    assert [item["contact"] for item in items] == batch["contact"].tolist()
    reasons = [reason for item in items for reason in item["top_reasons"]]
    assert reasons and all(reason["contribution"] > 0 for reason in reasons)
    assert all(item["top_reasons"] for item in items if item["churn_index"] > 100)
    info = server.post("/model_info").json()
    assert info["data_kind"] == "table" and info["id_column"] == "customerID"


def test_service_says_what_is_wrong_with_table_rows(server):
    missing_id = server.post("/score_rows", {"rows": [{"tenure": "3"}]})
    assert missing_id.status_code == 400
    assert "no id column 'customerID'" in missing_id.json()["error"]
    unknown = server.post("/score_rows", {"rows": [{"customerID": "x", "shoe_size": 9}]})
    assert unknown.status_code == 400 and "none of the model's columns" in unknown.json()["error"]
    records = server.post("/score", {"records": [{"customer_id": "x"}]})
    assert records.status_code == 409
    assert "post its table rows to /score_rows" in records.json()["error"]


def test_monitor_watches_scored_table_rows_for_drift(trained, tmp_path):
    """The prediction log of table scores is compared with the model's training rows."""
    settings, _, _ = trained
    drifted = extract(600, seed=7)  # monitoring.min_rows is 500
    drifted["MonthlyCharges"] = (drifted["MonthlyCharges"].astype(float) * 3).astype(str)
    path = tmp_path / "drifted.csv"
    drifted.to_csv(path, index=False)
    _scored(settings, path, tmp_path / "scores.csv")
    result = _run(settings.workspace, "monitor")
    assert result.exit_code == 0, result.output + repr(result.exception)
    (summary,) = settings.workspace.glob("monitoring/*/summary.json")
    drift = json.loads(summary.read_text())["data_drift"]
    assert "MonthlyCharges" in drift["drifted"]
    assert not drift["columns"]["Contract"]["drifted"]

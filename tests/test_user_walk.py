"""What a user does, in one workspace, through the real CLI and the real server.

Generate, train, batch-score, serve, call every scoring endpoint over HTTP, score a batch
again, monitor the prediction log both wrote, retrain --if-needed, then monitor and
retrain --if-needed again: the policy does not ask twice for the same drift. Each step is the
command a user types; nothing is called in-process, so the rows the service logs and the
rows batch scoring logs meet in monitoring exactly as they do in the field.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from live_server import SERVICE_ENV, free_port, start_server

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

CONFIG = {
    "generate": {"customers": 1500, "months": 15, "seed": 3},
    "training": {"train_snapshots": 4, "gate": {"baseline_margin": -1}},
    # any drifted feature fires the policy, so the walk reaches the retraining step
    "monitoring": {"drift_share": 0.01, "min_rows": 200},
}
COMMAND_SECONDS = 600


def _environ() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCHURN_")}
    return clean | SERVICE_ENV  # no terminal: nothing wraps, whatever the width


def _zerochurn(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `zerochurn --config walk.yaml --workspace WS ARGS` as a user would; must exit 0."""
    config = workspace.parent / "walk.yaml"
    command = [sys.executable, "-m", "zerochurn.cli", "--config", str(config)]
    command += ["--workspace", str(workspace), *args]
    result = subprocess.run(
        command, env=_environ(), capture_output=True, text=True, timeout=COMMAND_SECONDS
    )
    assert result.returncode == 0, f"zerochurn {' '.join(args)}:\n{result.stderr[-4000:]}"
    return result


def _summaries(workspace: Path) -> list[dict]:
    paths = sorted((workspace / "monitoring").glob("*/summary.json"))
    return [json.loads(path.read_text()) for path in paths]


def test_train_serve_call_every_endpoint_score_monitor_and_retrain(tmp_path):
    (tmp_path / "walk.yaml").write_text(yaml.safe_dump(CONFIG))
    workspace = tmp_path / "ws"
    _zerochurn(workspace, "generate")
    _zerochurn(workspace, "train")
    _zerochurn(workspace, "score")

    port = free_port()
    argv = [sys.executable, "-m", "zerochurn.cli", "--config", str(tmp_path / "walk.yaml")]
    argv += ["--workspace", str(workspace), "serve", "--port", str(port)]
    with start_server(argv, _environ(), tmp_path / "server.log", port) as server:
        page = server.post("/at_risk", {"limit": 5})
        assert page.status_code == 200, page.text
        ids = [item["customer_id"] for item in page.json()["customers"]]
        by_id = server.post("/score_customers", {"customer_ids": ids})
        assert by_id.status_code == 200 and len(by_id.json()["scores"]) == 5, by_id.text
        record = {"customer_id": "NEW-1", "region": "north", "monthly_margin": 380.0}
        posted = server.post("/score", {"records": [record]})
        assert posted.status_code == 200, posted.text
        assert posted.json()["scores"][0]["customer_id"] == "NEW-1"
        assert server.post("/churn_index", {"by": "region"}).status_code == 200
        assert server.post("/model_info").status_code == 200
        table_rows = server.post("/score_rows", {"rows": [{"customer_id": "X"}]})
        assert table_rows.status_code == 409  # the champion reads the raw tables

        _zerochurn(workspace, "score")  # the next batch, while the service keeps logging
        monitored = _zerochurn(workspace, "monitor")
        assert "decision: retrain" in monitored.stderr
        (summary,) = _summaries(workspace)
        assert summary["current"]["source"] == "prediction_log"
        # both batches and the service's rows (5 by id, 1 posted) are checked together
        (scores,) = (workspace / "scores").glob("scores_*.parquet")
        assert summary["current"]["rows"] == 2 * len(pd.read_parquet(scores)) + 6

        retrained = _zerochurn(workspace, "retrain", "--if-needed")
        assert "challenger version" in retrained.stderr
        reloaded = server.post("/reload")
        assert reloaded.status_code == 200, reloaded.text

    # The next batch is scored by the new champion, and the same drift is checked again
    # right after the retrain it asked for: the new model could not learn from the drifted
    # month (its labels are not in the data yet), so the policy waits for them instead of
    # asking again, and says what it compared and why.
    _zerochurn(workspace, "score")
    again = _zerochurn(workspace, "monitor")
    assert "decision: retrain\n" not in again.stderr
    assert "decision: retrain_pending_labels (until " in again.stderr
    assert "retrain pending labels until the data reaches" in again.stderr
    latest = _summaries(workspace)[-1]
    champion = latest["model"]["version"]
    assert f"reference rows (model version {champion}'s training rows; as-of " in again.stderr
    assert latest["decision"] == "retrain_pending_labels"
    assert latest["hold"]["until"] > latest["current"]["period"]
    assert latest["reference"]["model_version"] == champion
    history = (workspace / "monitoring" / "history.jsonl").read_text().splitlines()
    assert json.loads(history[-1])["until"] == latest["hold"]["until"]
    # and retrain --if-needed does not train again
    waited = _zerochurn(workspace, "retrain", "--if-needed")
    assert "no retraining now: retrain_pending_labels until" in waited.stderr
    assert "challenger version" not in waited.stderr
    versions = json.loads(_zerochurn(workspace, "models", "--json").stdout)
    assert [entry["version"] for entry in versions] == ["2", "1"]

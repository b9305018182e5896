"""End to end: a tiny trained world, batch scoring by CLI, the real server over HTTP, a Bento.

The session's `serving_world` (tests/serving_world.py) generates ~2,000 customers, trains
a champion and runs `zerochurn score`; a module fixture starts `bentoml serve` on a free
127.0.0.1 port the way `zerochurn serve` does and stops it at the end.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from live_server import API_KEY, SERVICE_ENV, Server, free_port, start_server
from serving_world import MAX_BATCH, cli, invoke
from typer.testing import CliRunner

from zerochurn.configs import Settings
from zerochurn.contract.validate import load_raw
from zerochurn.model.registry import CHAMPION, ChampionRegistry, configure
from zerochurn.serving import prediction_log
from zerochurn.serving.batch import AT_RISK_COLUMNS, score_batch, scores_dir, snapshot_store
from zerochurn.serving.last_model import kept_dir, kept_version
from zerochurn.serving.launch import serve_command
from zerochurn.serving.model import load_from_mlflow
from zerochurn.serving.reasons import reason_columns
from zerochurn.serving.scoring import SURVIVAL_COLUMNS, segment_churn_index

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pathspec")  # bentoml's

REPO = Path(__file__).resolve().parents[1]
REQUEST_GUARD_SECONDS = 120
"""A test waiting longer than this for a connection is stuck."""


@pytest.fixture(scope="module")
def world(serving_world) -> Settings:
    """The session's world: this module moves its champion (reload) and logs to it."""
    return serving_world


@pytest.fixture(scope="module")
def server(world, tmp_path_factory) -> Iterator[Server]:
    port = free_port()
    settings = world.model_copy(update={"serving": world.serving.model_copy(update={"port": port})})
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCHURN_")}
    argv, env = serve_command(settings, environ | SERVICE_ENV)
    assert argv[:4] == [sys.executable, "-m", "bentoml", "serve"]
    assert argv[-4:] == ["--host", "127.0.0.1", "--port", str(port)]
    with start_server(argv, env, tmp_path_factory.mktemp("logs") / "server.log", port) as running:
        yield running


def _batch(world: Settings) -> pd.DataFrame:
    (parquet,) = scores_dir(world).glob("scores_*.parquet")
    return pd.read_parquet(parquet).set_index("customer_id")


def _records(world: Settings, ids: list[str]) -> list[dict]:
    """Feature records of `ids` from the snapshot, as a CRM would post them."""
    features = snapshot_store(world).features(ids).set_index("customer_id").loc[ids]
    rows = features.drop(columns="as_of").reset_index().astype(object)
    # every float as it is (to_json would keep 10 digits), missing values as null
    return json.loads(json.dumps(rows.where(rows.notna(), None).to_dict(orient="records")))


def _assert_matches_batch(items: list[dict], batch: pd.DataFrame) -> None:
    for item in items:
        row = batch.loc[item["customer_id"]]
        assert item["churn_probability"] == row["churn_probability"]
        assert item["churn_index"] == row["churn_index"]
        assert item["risk_tier"] == row["risk_tier"]
        assert item["customer_value"] == pytest.approx(row["customer_value"], rel=1e-12)
        assert item["value_at_risk"] == pytest.approx(row["value_at_risk"], rel=1e-12)
        for field in SURVIVAL_COLUMNS:  # the time-to-churn fields: the same in every path
            assert item[field] == pytest.approx(row[field], rel=1e-12), field
        texts = [row[reason_columns(rank).text] for rank in range(1, 4)]
        assert [r["text"] for r in item["top_reasons"]] == [t for t in texts if pd.notna(t)]


def test_batch_scores_every_active_customer(world):
    batch = _batch(world)
    csv = pd.read_csv(next(scores_dir(world).glob("scores_*.csv")))
    info = snapshot_store(world).info()
    assert len(batch) == len(csv) == info.customers > 1000
    assert batch.index.is_unique
    assert batch["churn_probability"].between(0, 1).all()
    assert set(batch["risk_tier"]) <= {"low", "medium", "high", "critical"}
    top = batch.sort_values("churn_index").iloc[-1]
    assert top["reason_1_contribution"] > 0 and top["reasons"].startswith(top["reason_1_text"])
    # the champion's time-to-churn curve: consistent with the horizon and in every score
    assert batch[list(SURVIVAL_COLUMNS)].notna().all().all()
    assert (batch["survival_3m"] <= 1 - batch["churn_probability"] + 1e-12).all()
    assert (batch["survival_12m"] <= batch["survival_6m"]).all()
    assert list(csv.columns) == list(batch.reset_index().columns)
    logged = prediction_log.read(prediction_log.log_directory(world.workspace))
    batch_rows = logged[logged["source"] == "batch"]
    assert len(batch_rows) == len(batch)
    assert {"as_of", "churn_probability", "value_at_risk", "recency_days"} <= set(batch_rows)


def test_score_batch_logs_for_a_library_caller_as_for_the_cli(world, tmp_path):
    settings = world.model_copy(update={"workspace": tmp_path})  # a log of its own
    raw = load_raw(world.data_dir)
    model = load_from_mlflow(world)
    result = score_batch(raw, raw.end, model, settings, scored_at="2026-01-01T00:00:00+00:00")
    logged = prediction_log.read(prediction_log.log_directory(tmp_path))
    assert len(logged) == len(result.scores) > 1000
    assert set(logged["source"]) == {"batch"} and set(logged["model_version"]) == {model.version}
    np.testing.assert_array_equal(
        logged["churn_probability"].to_numpy(), result.scores["churn_probability"].to_numpy()
    )
    assert not (tmp_path / "scores").exists()  # files are write_batch's, not the library's


def test_at_risk_cli_writes_the_retention_list(world, tmp_path):
    out = tmp_path / "list.csv"
    invoke(world, "at-risk", "--top", "15", "--region", "north", "--out", str(out))
    table = pd.read_csv(out)
    decisions = ("contact", "expected_savings")  # only for a model trained with costs
    saved = ("uplift", "expected_saved_value")  # only with a validated uplift model
    assert list(table.columns) == [c for c in AT_RISK_COLUMNS if c not in decisions + saved]
    assert len(table) == 15 and set(table["region"]) == {"north"}
    assert table["value_at_risk"].is_monotonic_decreasing
    batch = _batch(world)
    expected = batch[batch["region"] == "north"].nlargest(15, "value_at_risk")
    # money to the cent, probabilities to 4 decimals; the as-of date and model version
    assert table["value_at_risk"].tolist() == expected["value_at_risk"].round(2).tolist()
    assert table["customer_value"].tolist() == expected["customer_value"].round(2).tolist()
    assert table["churn_probability"].tolist() == (expected["churn_probability"].round(4).tolist())
    info = snapshot_store(world).info()
    assert set(table["as_of"]) == {info.as_of}
    assert set(table["model_version"].astype(str)) == {info.model_version}


def test_at_risk_cli_filters_by_plan(world, tmp_path):
    out = tmp_path / "list.csv"
    batch = _batch(world)
    plan = batch["plan"].value_counts().index[-1]  # the rarest plan: a filter that bites
    invoke(world, "at-risk", "--top", "10", "--plan", plan, "--out", str(out))
    table = pd.read_csv(out).set_index("customer_id")
    expected = batch[batch["plan"] == plan].nlargest(10, "value_at_risk")
    assert (batch.loc[table.index, "plan"] == plan).all()
    assert table["value_at_risk"].tolist() == pytest.approx(expected["value_at_risk"].tolist())


def test_serve_refuses_to_start_without_an_api_key(world, monkeypatch):
    monkeypatch.delenv("ZEROCHURN_API_KEYS", raising=False)
    result = CliRunner().invoke(cli(), ["--workspace", str(world.workspace), "serve"])
    assert result.exit_code == 2
    assert "ZEROCHURN_API_KEYS" in result.output


def test_probes_are_open_everything_else_needs_a_key(server):
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}):
        response = httpx.post(f"{server.url}/model_info", json={}, headers=headers)
        assert response.status_code == 401
        assert "Bearer" in response.json()["error"]
    lower = httpx.post(
        f"{server.url}/model_info", json={}, headers={"Authorization": f"bearer {API_KEY}"}
    )
    assert lower.status_code == 200


def test_model_info_is_the_champion(world, server):
    info = server.post("/model_info").json()
    registry = ChampionRegistry(configure(world), world.mlflow.registered_model)
    assert info["version"] == str(registry.version(CHAMPION).version)
    assert (info["alias"], info["source"], info["horizon_days"]) == (CHAMPION, "mlflow", 90)
    assert 0 < info["reference_churn_rate"] < 1
    assert "test_roc_auc" in info["metrics"]
    assert info["model_family"] in ("lightgbm", "logistic", "blend")


def test_score_records_equals_batch_scores(world, server):
    batch = _batch(world)
    ids = batch.sort_values("value_at_risk").index[[0, 1, -2, -1]].tolist()
    response = server.post("/score", {"records": _records(world, ids)})
    assert response.status_code == 200, response.text
    items = response.json()["scores"]
    assert [item["customer_id"] for item in items] == ids
    _assert_matches_batch(items, batch)
    reason = items[-1]["top_reasons"][0]
    assert reason["contribution"] > 0 and reason["feature"] in _records(world, ids[-1:])[0]
    logged = prediction_log.read(prediction_log.log_directory(world.workspace))
    service_rows = logged[logged["source"] == "service"]
    assert set(ids) <= set(service_rows["customer_id"])
    row = service_rows[service_rows["customer_id"] == ids[-1]].iloc[-1]
    assert row["churn_probability"] == batch.loc[ids[-1], "churn_probability"]


def test_score_a_sparse_record(server):
    body = {"records": [{"customer_id": "new", "region": "north", "monthly_margin": 250}]}
    (item,) = server.post("/score", body).json()["scores"]
    assert item["customer_id"] == "new" and 0 <= item["churn_probability"] <= 1
    assert item["value_at_risk"] == pytest.approx(
        item["churn_probability"] * item["customer_value"]
    )
    assert item["segment"] is None


def test_score_customers_unknown_ids_get_their_own_error(world, server):
    batch = _batch(world)
    known = batch.index[:3].tolist()
    body = {"customer_ids": [known[0], "NO-SUCH-ID", *known[1:]]}
    response = server.post("/score_customers", body)
    assert response.status_code == 200
    answer = response.json()
    assert [item["customer_id"] for item in answer["scores"]] == known
    assert answer["errors"] == [
        {
            "customer_id": "NO-SUCH-ID",
            "error": f"customer_id 'NO-SUCH-ID' is not in the feature snapshot of {answer['as_of']}",
        }
    ]
    _assert_matches_batch(answer["scores"], batch)


def test_at_risk_pages_filters_and_sorts(world, server):
    batch = _batch(world)
    first = server.post("/at_risk", {"limit": 5}).json()
    second = server.post("/at_risk", {"limit": 5, "offset": 5}).json()
    expected = batch["value_at_risk"].sort_values(ascending=False).head(10)
    got = [c["value_at_risk"] for c in first["customers"] + second["customers"]]
    assert got == pytest.approx(expected.tolist())
    assert first["total"] == len(batch)
    assert first["model_version"] == batch["model_version"].iloc[0]
    by_risk = server.post(
        "/at_risk", {"sort": "churn_probability", "segment": "hospital", "min_churn_index": 1}
    ).json()
    customers = by_risk["customers"]
    assert customers and all(c["segment"] == "hospital" for c in customers)
    assert [c["churn_probability"] for c in customers] == sorted(
        (c["churn_probability"] for c in customers), reverse=True
    )
    _assert_matches_batch(customers, batch)
    assert any(r["value"] is not None for c in customers for r in c["top_reasons"])
    by_clv = server.post("/at_risk", {"sort": "clv_at_risk", "limit": 10}).json()["customers"]
    expected = batch["clv_at_risk"].sort_values(ascending=False).head(10)
    assert [c["clv_at_risk"] for c in by_clv] == pytest.approx(expected.tolist())
    tier = server.post("/at_risk", {"tier": "low", "min_value": 1e12}).json()
    assert tier["total"] == 0 and tier["customers"] == []


def test_a_campaign_treatment_list_is_served(world, server):
    from zerochurn.cli import app

    args = ["--workspace", str(world.workspace), "campaign", "create", "served", "--top", "40"]
    result = CliRunner().invoke(app, [*args, "--seed", "3", "--region", "north"])
    assert result.exit_code == 0, result.output
    listed = server.post("/campaigns", {}).json()["campaigns"]
    assert [c["name"] for c in listed] == ["served"]
    answer = server.post("/campaign", {"name": "served"}).json()
    treatment = pd.read_csv(world.workspace / "campaigns" / "served" / "treatment.csv")
    assert [c["customer_id"] for c in answer["customers"]] == treatment["customer_id"].tolist()
    assert answer["campaign"]["treatment"] == len(treatment) == 40 - answer["campaign"]["control"]
    assert {c["region"] for c in answer["customers"]} == {"north"}
    assert answer["customers"][0]["reasons"]
    batch = _batch(world)
    for customer in answer["customers"]:
        row = batch.loc[customer["customer_id"]]
        assert customer["churn_probability"] == row["churn_probability"]
        assert customer["risk_tier"] == row["risk_tier"]
    missing = server.post("/campaign", {"name": "autumn"})
    assert missing.status_code == 404 and "no campaign 'autumn'" in missing.json()["error"]
    assert server.post("/campaign", {"name": "../served"}).status_code == 400


def test_churn_index_by_region_matches_the_scores(world, server):
    answer = server.post("/churn_index", {"by": "region"}).json()
    batch = _batch(world).reset_index()
    expected = segment_churn_index(batch, "region", answer["reference_churn_rate"])
    assert [s["group"] for s in answer["segments"]] == expected["group"].tolist()
    assert [s["churn_index"] for s in answer["segments"]] == expected["churn_index"].tolist()
    weighted = [s["value_weighted_churn_index"] for s in answer["segments"]]
    assert weighted == expected["value_weighted_churn_index"].tolist()


BAD_REQUESTS = [
    ("/score", '{"records": [{"customer_id": "a"}', "json_invalid", []),
    (
        "/score",
        '{"records": [{"customer_id": "a", "tenure_days": "long"}]}',
        "float_type",
        ["records", 0, "tenure_days"],
    ),
    (
        "/score",
        '{"records": [{"customer_id": "a", "shoe_size": 42}]}',
        "extra_forbidden",
        ["records", 0, "shoe_size"],
    ),
    ("/score", '{"records": [{"customer_id": "a"}], "debug": true}', "extra_forbidden", ["debug"]),
    ("/score", '{"records": [{"region": "north"}]}', "missing", ["records", 0, "customer_id"]),
    (
        "/score",
        '{"records": [{"customer_id": "a", "tenure_days": -1e6}]}',
        "out_of_range",
        ["records", 0, "tenure_days"],
    ),
    (
        "/score",
        '{"records": [{"customer_id": "a", "satisfied_share": 1.5}]}',
        "out_of_range",
        ["records", 0, "satisfied_share"],
    ),
    ("/score", '{"records": []}', "too_short", ["records"]),
    (
        "/score",
        json.dumps({"records": [{"customer_id": str(i)} for i in range(MAX_BATCH + 1)]}),
        "too_long",
        ["records"],
    ),
    ("/score", "[]", "model_type", []),
    (
        "/score_customers",
        json.dumps({"customer_ids": ["x"] * (MAX_BATCH + 1)}),
        "too_long",
        ["customer_ids"],
    ),
    ("/score_customers", '{"customer_ids": [""]}', "string_too_short", ["customer_ids", 0]),
    ("/score_customers", '{"customer_ids": "C1"}', "list_type", ["customer_ids"]),
    ("/at_risk", '{"tier": "doomed"}', "literal_error", ["tier"]),
    ("/at_risk", '{"limit": 0}', "greater_than", ["limit"]),
    ("/at_risk", f'{{"limit": {MAX_BATCH + 1}}}', "less_than_equal", ["limit"]),
    ("/at_risk", '{"offset": -1}', "greater_than_equal", ["offset"]),
    ("/at_risk", '{"sort": "name"}', "literal_error", ["sort"]),
    ("/churn_index", '{"by": "shoe_size"}', "literal_error", ["by"]),
    ("/model_info", '{"verbose": 1}', "extra_forbidden", ["verbose"]),
]


@pytest.mark.parametrize(("path", "body", "error", "loc"), BAD_REQUESTS)
def test_bad_requests_get_400_naming_the_field(server, path, body, error, loc):
    response = server.client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    answer = response.json()
    assert {"type": error, "loc": loc} in [
        {"type": d["type"], "loc": d["loc"]} for d in answer["detail"]
    ]
    assert answer["error"].startswith("invalid request: ")


def test_an_implausible_feature_value_is_refused_naming_field_and_range(server):
    body = {"records": [{"customer_id": "a", "tenure_days": -1e6}]}
    answer = server.post("/score", body).json()
    assert answer["error"] == "invalid request: records.0.tenure_days: must lie in [0, 36500]"


def test_wrong_method_and_path_are_4xx(server):
    assert server.client.get("/score").status_code == 405
    assert server.post("/nothing").status_code == 404


def test_reload_moves_to_a_new_champion_while_serving(world, server):
    registry = ChampionRegistry(configure(world), world.mlflow.registered_model)
    old = registry.version(CHAMPION)
    new = registry.register(old.source)  # the same model as a new version
    registry.promote(new.version, reason="test: reload")
    body = {"records": [{"customer_id": "x", "monthly_margin": 100.0}]}
    statuses: list[int] = []
    done = threading.Event()

    def keep_scoring() -> None:
        with httpx.Client(base_url=server.url, headers=server.client.headers) as client:
            while not done.is_set():
                statuses.append(client.post("/score", json=body).status_code)

    scorer = threading.Thread(target=keep_scoring)
    scorer.start()
    try:
        answer = server.post("/reload").json()
    finally:
        done.set()
        scorer.join()
    assert (answer["previous_version"], answer["version"], answer["changed"]) == (
        str(old.version),
        str(new.version),
        True,
    )
    assert statuses and set(statuses) == {200}
    assert answer["workers_serving"] == answer["workers"] == world.serving.workers
    for _ in range(20):  # new connections, spread over the workers by the kernel
        info = httpx.post(f"{server.url}/model_info", json={}, headers=server.client.headers)
        assert info.json()["version"] == str(new.version)
    assert server.post("/score", body).json()["scores"][0]["model_version"] == str(new.version)
    assert server.post("/reload").json()["changed"] is False


def test_bento_serves_from_the_model_store_without_mlflow(world, tmp_path_factory, monkeypatch):
    home = world.workspace / "bentoml"
    monkeypatch.setenv("BENTOML_HOME", str(home))
    output = invoke(world, "import-model")
    assert "imported" in output
    assert "already in the store" in invoke(world, "import-model")
    base = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCHURN_")}
    env = (
        base
        | SERVICE_ENV
        | {
            "BENTOML_HOME": str(home),
            "ZEROCHURN_SERVING__MODEL_SOURCE": "bentoml",
            "ZEROCHURN_WORKSPACE": str(world.workspace),
        }
    )
    build = subprocess.run(
        [sys.executable, "-m", "bentoml", "build", str(REPO), "--output", "tag"],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    tag = build.stdout.strip().splitlines()[-1].removeprefix("__tag__:")
    bento = (home / "bentos" / tag.replace(":", "/") / "bento.yaml").read_text()
    assert world.serving.bento_model in bento
    port = free_port()
    # no MLflow at all: the workspace is somewhere else, with no database
    env |= {"ZEROCHURN_WORKSPACE": str(tmp_path_factory.mktemp("no-mlflow"))}
    argv = [sys.executable, "-m", "bentoml", "serve", tag, "--host", "127.0.0.1"]
    log = tmp_path_factory.mktemp("logs") / "bento.log"
    with start_server([*argv, "--port", str(port)], env, log, port) as bento_server:
        info = bento_server.post("/model_info").json()
        assert info["source"].startswith(f"bentoml:{world.serving.bento_model}:")
        body = {"records": [{"customer_id": "x", "monthly_margin": 100.0}]}
        assert bento_server.post("/score", body).status_code == 200
        missing = bento_server.post("/at_risk")
        assert missing.status_code == 404 and "zerochurn score" in missing.json()["error"]


@pytest.fixture(scope="module")
def silent_mlflow() -> Iterator[socket.socket]:
    """A 127.0.0.1 listener that accepts connections (the kernel completes them), never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener


def _accepted(listener: socket.socket, timeout: float | None) -> list[socket.socket]:
    """Connections waiting on `listener`: all queued now (timeout 0), or the next one."""
    listener.settimeout(timeout)
    found: list[socket.socket] = []
    try:
        while True:
            found.append(listener.accept()[0])
            if timeout:
                return found
    except (BlockingIOError, TimeoutError):
        return found


@pytest.mark.parametrize("mlflow", ["closed", "silent"])
def test_serve_starts_from_the_kept_champion_while_mlflow_is_down(
    world, server, silent_mlflow, tmp_path, mlflow
):
    """`zerochurn serve` as people run it, with MLflow at a real dead address: it starts
    from the champion the service last loaded and says so; /reload answers 409 with the
    reason, and scoring goes on while a reload waits for a silent server."""
    kept = kept_version(world)
    assert kept is not None  # the running service loaded the champion through the copy
    port = free_port() if mlflow == "closed" else silent_mlflow.getsockname()[1]
    dead = f"http://127.0.0.1:{port}"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROCHURN_", "MLFLOW_"))}
    env = (
        environ
        | SERVICE_ENV
        | {
            "ZEROCHURN_MLFLOW__TRACKING_URI": dead,
            "ZEROCHURN_MLFLOW__REQUEST_TIMEOUT_SECONDS": "10",
            "ZEROCHURN_MLFLOW__REQUEST_RETRIES": "0",
            "ZEROCHURN_MLFLOW__RETRY_BACKOFF_SECONDS": "0",
        }
    )
    argv = [sys.executable, "-m", "zerochurn.cli", "--workspace", str(world.workspace), "serve"]
    port = free_port()
    held: list[socket.socket] = []
    with start_server([*argv, "--port", str(port)], env, tmp_path / "serve.log", port) as down:
        said = " ".join(down.log.read_text().split())
        assert f"MLflow at {dead} is unreachable" in said
        assert (
            f"starting from the last champion this service loaded, version {kept.version}" in said
        )
        info = down.post("/model_info").json()
        assert (info["version"], info["source"]) == (kept.version, f"kept:{kept_dir(world)}")
        held += _accepted(silent_mlflow, 0)  # the start's connections
        answers: list[httpx.Response] = []
        reloading = threading.Thread(target=lambda: answers.append(down.post("/reload")))
        reloading.start()
        if mlflow == "silent":  # the reload is waiting for MLflow: requests are still served
            held += _accepted(silent_mlflow, REQUEST_GUARD_SECONDS)
            body = {"records": [{"customer_id": "x", "monthly_margin": 100.0}]}
            response = down.post("/score", body)
            assert response.status_code == 200, response.text
            assert response.json()["scores"][0]["model_version"] == kept.version
            assert not answers
        reloading.join()
    for connection in held:
        connection.close()
    (reload,) = answers
    assert reload.status_code == 409
    error = reload.json()["error"]
    assert f"still serving version {kept.version}" in error
    assert f"MLflow at {dead} is unreachable" in error

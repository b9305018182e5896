"""The service under attack and faults, against the real server: hostile input never gets a
5xx, errors have one shape and log one line without request values, /metrics stays bounded,
a corrupt snapshot store is a 503 with its reason, a killed supervisor frees the port, and a
worker killed under load loses no acknowledged score.

The server runs on a copy of the session's world (tests/serving_world.py), whose snapshot
store and prediction log these tests may damage or read alone.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from live_server import API_KEY, Server, serve_settings
from serving_world import copy_world

import zerochurn
from zerochurn.configs import Settings
from zerochurn.serving import prediction_log
from zerochurn.serving.batch import snapshot_store
from zerochurn.serving.metrics import UNMATCHED

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pathspec")  # bentoml's

GONE_SECONDS = 60
"""Deadline for processes to exit and a port to be free after a kill (not a timing claim)."""
MARKER = "Zq7-SECRET-VALUE"
"""A value posted in bad requests that must never reach the server's log."""


@pytest.fixture(scope="module")
def world(serving_world, tmp_path_factory) -> Settings:
    return copy_world(serving_world, tmp_path_factory.mktemp("faults"))


@pytest.fixture(scope="module")
def server(world, tmp_path_factory) -> Iterator[Server]:
    with serve_settings(world, tmp_path_factory.mktemp("logs") / "server.log") as running:
        yield running


def _is_error_shape(response: httpx.Response) -> bool:
    body = response.json()
    return set(body) == {"error", "detail"} and isinstance(body["detail"], list)


JSON = {"Content-Type": "application/json"}
HOSTILE = [
    # (path, body bytes, extra headers, expected status)
    ("/score", b'{"records": [{"customer_id": "a", "monthly_margin": 1e308}]}', JSON, 400),
    ("/score", b'{"records": [{"customer_id": "a", "tenure_days": -1e6}]}', JSON, 400),
    ("/score", b'{"records": [{"customer_id": "a", "tenure_days": 1e400}]}', JSON, 400),
    ("/score", b'{"records": [{"customer_id": "a", "recency_days": true}]}', JSON, 400),
    ("/score", b'{"records": [{"customer_id": "a", "region": 7}]}', JSON, 400),
    ("/at_risk", b'{"offset": 9223372036854775808}', JSON, 400),
    ("/at_risk", b'{"offset": 100000000000000000000000000000}', JSON, 400),
    ("/at_risk", b'{"min_churn_index": 1e30}', JSON, 400),
    ("/at_risk", b'{"limit": 1e308}', JSON, 400),
    ("/at_risk", b'{"min_value": 1e308}', JSON, 200),
    ("/at_risk", b'{"offset": 9223372036854775807}', JSON, 200),
    ("/at_risk", b"x=1", {"Content-Type": "multipart/form-data"}, 415),
    ("/at_risk", b"x=1", {"Content-Type": "multipart/form-data; boundary=zz"}, 415),
    ("/at_risk", b"{}", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ("/at_risk", b"{}", {"Content-Type": "text/plain"}, 415),
    ("/at_risk", b"{}", {"Content-Type": "application/vnd.bentoml+pickle"}, 415),
    ("/score", b"", JSON, 400),
    ("/score", b"\xff\xfe{}", JSON, 400),
    ("/score", b'{"records": [{"customer_id": "\\ud800"}]}', JSON, 400),
    ("/score", '{"records": [{"customer_id": "é\\u0000\\u202e😀"}]}'.encode(), JSON, 200),
    ("/score_customers", '{"customer_ids": ["\\u0000", "Ω", "\\n"]}'.encode(), JSON, 200),
    ("/at_risk", b'{"region": "\\u0000\\u202e"}', JSON, 200),
    ("/score", b"[" * 100_000, JSON, 400),
]


@pytest.mark.parametrize(("path", "body", "headers", "status"), HOSTILE)
def test_hostile_input_gets_its_4xx_never_a_5xx(server, path, body, headers, status):
    response = server.client.post(path, content=body, headers=headers)
    assert response.status_code == status, response.text
    if status >= 400:
        assert _is_error_shape(response)


def test_oversized_bodies_get_413_without_being_read(server, world):
    big = b'{"records": [' + b" " * world.serving.max_body_bytes + b"]}"
    assert server.client.post("/score", content=big, headers=JSON).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        yield b'{"records": ['
        for _ in range(world.serving.max_body_bytes // 65536 + 2):
            yield b" " * 65536
        yield b"]}"

    streamed = server.client.post("/score", content=chunks(), headers=JSON)
    assert streamed.status_code == 413 and _is_error_shape(streamed)
    assert "serving.max_body_bytes" in streamed.json()["error"]
    assert server.post("/model_info").status_code == 200  # the server is fine afterwards


def test_a_huge_declared_length_is_refused_before_any_body_is_sent(server):
    """A client announcing 100 GB gets 413 at once: the server reads none of it."""
    url = httpx.URL(server.url)
    head = (
        f"POST /score HTTP/1.1\r\nHost: {url.host}\r\nAuthorization: Bearer {API_KEY}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000000000\r\n\r\n"
    )
    with socket.create_connection((url.host, url.port), timeout=30) as connection:
        connection.sendall(head.encode())
        status_line = connection.makefile("rb").readline()
    assert status_line.split()[1] == b"413"


def test_unknown_paths_and_methods_are_4xx_of_the_one_shape(server):
    for response, status in (
        (server.client.post("/nothing", json={}), 404),
        (server.client.get("/score"), 405),
        (httpx.post(f"{server.url}/score", json={}), 401),
    ):
        assert response.status_code == status and _is_error_shape(response)


def test_client_errors_are_one_log_line_without_request_values(server):
    bad = [
        {"records": [{"customer_id": "a", "tenure_days": MARKER}]},
        {"records": [{"customer_id": "a", "region": [MARKER]}]},
        {"records": [{"customer_id": MARKER, "tenure_days": -5}]},
        {"at_risk": MARKER},
    ]
    for body in bad:
        assert server.post("/score", body).status_code == 400
    assert server.client.post("/score", content=f'{{"x": "{MARKER}"', headers=JSON).is_error
    log = server.log.read_text()
    assert MARKER not in log
    assert "Traceback" not in log
    lines = [line for line in log.splitlines() if "client error 400 on POST /score" in line]
    assert len(lines) >= len(bad) + 1
    assert any("records.0.tenure_days: must lie in [0, 36500]" in line for line in lines)


def _endpoints(server: Server) -> set[str]:
    """The endpoint labels of BentoML's request metrics."""
    text = server.client.get("/metrics").text
    return set(re.findall(r'^bentoml_service_request_\w+\{endpoint="([^"]*)"', text, re.M))


def test_metrics_need_the_key_and_unknown_paths_add_no_series(server):
    assert httpx.get(f"{server.url}/metrics").status_code == 401  # serving.metrics: key
    document = server.client.get("/docs.json").json()
    for index in range(300):
        server.client.get(f"/random-{index}")
        httpx.post(f"{server.url}/another/{index}", json={})
    endpoints = _endpoints(server)
    assert UNMATCHED in endpoints
    labels = {"/", "/docs", "/docs.json", "/app*", "/static_content/*", UNMATCHED}
    assert endpoints <= {*document["paths"], *labels}


def test_docs_are_readable_without_a_key_and_declare_the_bearer_key(server):
    page = httpx.get(f"{server.url}/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "googletagmanager" not in page.text and "gtm" not in page.text.lower()
    root = httpx.get(f"{server.url}/", follow_redirects=False)  # not BentoML's page with GTM
    assert root.is_redirect and root.headers["location"] == "/app/"
    assert httpx.get(f"{server.url}/static_content/swagger-ui-bundle.js").status_code == 200
    document = httpx.get(f"{server.url}/docs.json").json()
    assert document["info"]["title"] == "zerochurn scoring API"
    assert document["info"]["version"] == zerochurn.__version__
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["security"] == [{"bearerAuth": []}]
    score = document["paths"]["/score"]["post"]["responses"]
    assert {"200", "400", "401", "409", "413", "415", "500"} <= set(score)
    assert "409" in document["paths"]["/reload"]["post"]["responses"]
    assert document["paths"]["/readyz"]["get"]["security"] == []


def _corrupt(path) -> None:
    tmp = path.with_name(path.name + ".garbage")
    tmp.write_bytes(b"this is no SQLite database " * 500)
    os.replace(tmp, path)


def test_a_corrupt_store_is_a_503_with_the_reason_and_readyz_fails(server, world, tmp_path):
    store = snapshot_store(world)
    kept = tmp_path / "snapshot.sqlite"
    kept.write_bytes(store.path.read_bytes())
    try:
        _corrupt(store.path)
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 503 and _is_error_shape(ready)
        assert "snapshot.sqlite is unusable" in ready.json()["error"]
        for path, body in (
            ("/at_risk", {}),
            ("/churn_index", {"by": "region"}),
            ("/score_customers", {"customer_ids": ["C00000001"]}),
        ):
            response = server.post(path, body)
            assert response.status_code == 503 and _is_error_shape(response), path
            assert "zerochurn score" in response.json()["error"]
        record = {"records": [{"customer_id": "x", "monthly_margin": 100.0}]}
        assert server.post("/score", record).status_code == 200  # needs no store
    finally:
        os.replace(kept, store.path)
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    assert server.post("/at_risk", {}).status_code == 200
    with sqlite3.connect(store.path) as connection:  # the restored store is whole
        assert connection.execute("SELECT COUNT(*) FROM scores").fetchone()[0] > 0
    connection.close()


def _workers(server: Server) -> list[psutil.Process]:
    return psutil.Process(server.process.pid).children()


def test_a_worker_killed_under_load_loses_no_acknowledged_score(server, world):
    """SIGKILL a worker while clients score; every 200 answer's record is in the log."""
    acknowledged: list[str] = []
    failed = 0
    stop = threading.Event()
    lock = threading.Lock()

    def client(index: int) -> None:
        nonlocal failed
        headers = {"Authorization": f"Bearer {API_KEY}"}
        number = 0
        while not stop.is_set():
            customer = f"load-{index}-{number}"
            number += 1
            body = {"records": [{"customer_id": customer, "monthly_margin": 50.0}]}
            try:
                with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
                    ok = http.post("/score", json=body).status_code == 200
            except httpx.HTTPError:  # the killed worker's connections
                ok = False
            with lock:
                if ok:
                    acknowledged.append(customer)
                else:
                    failed += 1

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + GONE_SECONDS
        while len(acknowledged) < count:
            assert time.monotonic() < deadline, f"{len(acknowledged)} answers, {failed} failed"
            time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_for(40)
        victim = _workers(server)[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(GONE_SECONDS)
        wait_for(len(acknowledged) + 40)  # the other worker (and the respawned one) go on
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    logged = prediction_log.read(prediction_log.log_directory(world.workspace))
    missing = set(acknowledged) - set(logged["customer_id"])
    assert not missing, f"{len(missing)} acknowledged scores are not in the log"


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_a_killed_supervisor_takes_its_workers_and_frees_the_port(world, tmp_path):
    with serve_settings(world, tmp_path / "server.log") as running:
        port = httpx.URL(running.url).port
        workers = _workers(running)
        assert len(workers) == world.serving.workers
        running.process.send_signal(signal.SIGKILL)
        running.process.wait()
        _, alive = psutil.wait_procs(workers, timeout=GONE_SECONDS)
        assert not alive, f"workers {[p.pid for p in alive]} outlived their supervisor"
        deadline = time.monotonic() + GONE_SECONDS
        while not _port_free(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _port_free(port)


FUZZ_SEED = 42
FUZZ_EXAMPLES = 30
"""Examples per operation and phase: about a minute with the key on the 2-core box."""


@pytest.mark.parametrize("with_key", [True, False], ids=["with-key", "without-key"])
def test_the_api_fuzzer_finds_no_failure(server, with_key, tmp_path):
    """Schemathesis against /docs.json: every operation, every check, a fixed seed and budget.

    Its checks include no 5xx, every status and body documented, schema-valid requests
    accepted and schema-invalid ones refused; without the key every operation must say 401.
    """
    key = ["-H", f"Authorization: Bearer {API_KEY}"] if with_key else []
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{server.url}/docs.json",
            "--checks=all",
            f"--seed={FUZZ_SEED}",
            f"--max-examples={FUZZ_EXAMPLES}",
            "--workers=1",
            *key,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    paths = server.client.get("/docs.json").json()["paths"]
    operations = sum(len(methods) for methods in paths.values())
    assert f"{operations} selected / {operations} total" in run.stdout


def test_no_answer_of_this_module_was_a_server_error(server):
    """Runs last: whatever the tests above sent, no answer was a 5xx but the store's 503s."""
    statuses = [int(code) for code in re.findall(r"\(status=(\d{3})", server.log.read_text())]
    assert statuses and all(status < 500 or status == 503 for status in statuses)

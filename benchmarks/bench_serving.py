"""Benchmark the scoring service over HTTP on 127.0.0.1, side by side with a bare BentoML echo.

Run: .venv/bin/python benchmarks/bench_serving.py [--seconds 60] [--clients 8]
Setup (untimed, cached in benchmarks/.out/serving_world): a 24-month world of 10,000
customers, a trained champion, its batch scores and snapshot store (the ids are looked up
there: SQLite's indexed lookups cost the same at 50,000). In one run the script starts the
real service (`zerochurn serve`'s command line, default settings: serving.workers workers
of serving.threads threads, the prediction log fsync'd) and benchmarks/echo_service.py
with the same workers and threads, and measures each on the same bodies, one after the
other, each with a keep-alive client after a warm-up:

- one customer by id (`/score_customers`, 1 id), SEQUENTIAL requests: p50, p99;
- one feature record (`/score`), SEQUENTIAL requests (no target; the issue's second figure);
- 1,000 customers by id, BIG_REQUESTS requests: p50, p99, against `raw_p50_ms`, the
  in-process ChurnModel.predict_churn of the same rows (encode, booster, calibration, one
  OpenMP thread as in the service);
- `--clients` concurrent keep-alive clients (in CLIENT_PROCESSES processes) for `--seconds`,
  one random customer by id per request: requests/s, p50, p99, errors (any non-200).

The one-customer figure is measured again on a service logging with
monitoring.log_durability "os" (written to the operating system, not fsync'd): the price
of an fsync per request on this disk. `load_1m` is the machine's 1-minute load average
when the service's measurement of a row began (other work on the box shows in it).

The same one-customer and 1,000-customer requests are also timed in this process, through
`ScoringRuntime.score_customers` (store, scores, reasons, prediction log with fsync,
response items; no HTTP), as wall time and as the thread's CPU time (`cpu_p50_ms`), which
other work on the machine inflates much less than wall time.

`peak_rss_mb` is the peak resident memory of the server's processes together (supervisor
and workers), `echo_peak_rss_mb` the echo's. Targets (issue #16): one customer p50 <= 1.5 x
the echo's p50 and <= 5 ms, p99 <= 15 ms; 1,000 customers <= 2 x raw + 5 ms; the clients'
throughput >= 50% of the echo's with 0 errors. `met` says whether each was met.
Results land in benchmarks/results/serving.json (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import psutil
from harness import write_results
from threadpoolctl import threadpool_limits

from zerochurn.configs import Settings, load_settings
from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.validate import load_raw
from zerochurn.features.build import build_features
from zerochurn.model.registry import ChampionRegistry, configure
from zerochurn.serving.batch import score_batch, snapshot_store, write_batch
from zerochurn.serving.launch import bentoml_environment, serve_command, wait_until_ready
from zerochurn.serving.model import ScoringModel, load_from_mlflow
from zerochurn.serving.runtime import ScoringRuntime
from zerochurn.synthetic import generate_world, write_world
from zerochurn.training.data import build_snapshots
from zerochurn.training.train import train_and_register

HERE = Path(__file__).resolve().parent
WORLD_DIR = HERE / ".out" / "serving_world"
CUSTOMERS = 10_000
MONTHS = 24
SEQUENTIAL = 1000
BIG = 1000
BIG_REQUESTS = 60
WARMUP = 20
CLIENT_PROCESSES = 2
READY_SECONDS = 180
API_KEY = "bench"
SCORED_AT = "2026-01-01T00:00:00+00:00"


def benchmark_world() -> tuple[Settings, ScoringModel, pd.DataFrame]:
    """Settings, champion and feature rows at the end of the data of the cached world."""
    settings = load_settings(overrides={"workspace": str(WORLD_DIR)}, environ={})
    if not (WORLD_DIR / "ready").is_file():
        world = generate_world(
            GenerateConfig(customers=CUSTOMERS, months=MONTHS, seed=42),
            horizon_days=settings.churn.horizon_days,
        )
        data_dir = write_world(world, settings.data_dir)
        snapshots = build_snapshots(load_raw(data_dir), settings)
        outcome = train_and_register(snapshots, settings, data_dir=data_dir)
        if outcome.champion is None:
            registry = ChampionRegistry(configure(settings), settings.mlflow.registered_model)
            registry.promote(outcome.version, reason="benchmark set-up")
        (WORLD_DIR / "ready").write_text(outcome.version)
    raw = load_raw(settings.data_dir)
    features = build_features(raw, raw.end, settings.features, settings.churn)
    return settings, load_from_mlflow(settings), features


def serving_world() -> tuple[Settings, ScoringModel, pd.DataFrame]:
    """benchmark_world with its batch scores and snapshot store (made once)."""
    settings, model, features = benchmark_world()
    if not snapshot_store(settings).path.is_file():
        raw = load_raw(settings.data_dir)
        write_batch(
            score_batch(raw, raw.end, model, settings, scored_at=SCORED_AT), model, settings
        )
    return settings, model, features


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Running:
    """A server being measured: its URL and supervisor process."""

    url: str
    process: subprocess.Popen


@contextmanager
def _started(argv: list[str], env: dict[str, str], url: str, cwd: Path) -> Iterator[Running]:
    process = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        if not wait_until_ready(url, process, READY_SECONDS):
            raise RuntimeError(f"{argv[-5]} did not become ready")
        yield Running(url, process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def _environ(settings: Settings) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCHURN_")}
    return bentoml_environment(settings, environ) | {"ZEROCHURN_API_KEYS": API_KEY}


@contextmanager
def scoring_service(settings: Settings) -> Iterator[Running]:
    """The scoring service on a free port, as `zerochurn serve` starts it."""
    port = _free_port()
    settings = settings.model_copy(
        update={"serving": settings.serving.model_copy(update={"port": port})}
    )
    argv, env = serve_command(settings, _environ(settings))
    with _started(argv, env, f"http://127.0.0.1:{port}", HERE) as running:
        yield running


@contextmanager
def echo_service(settings: Settings) -> Iterator[Running]:
    """benchmarks/echo_service.py on a free port, with the service's workers and threads."""
    port = _free_port()
    argv = [sys.executable, "-m", "bentoml", "serve", "echo_service:Echo"]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    env = _environ(settings) | {
        "ECHO_WORKERS": str(settings.serving.workers),
        "ECHO_THREADS": str(settings.serving.threads),
    }
    with _started(argv, env, f"http://127.0.0.1:{port}", HERE) as running:
        yield running


def peak_rss_mb(process: subprocess.Popen) -> float:
    """Peak resident memory (VmHWM) of a server's supervisor and workers together, MB."""
    total_kb = 0
    for each in [psutil.Process(process.pid), *psutil.Process(process.pid).children()]:
        status = Path(f"/proc/{each.pid}/status").read_text()
        total_kb += int(
            next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]
        )
    return total_kb / 1024


HEADERS = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}


def sequential(url: str, bodies: list[bytes], requests: int) -> np.ndarray:
    """Latencies (ms) of `requests` posts, one at a time on one keep-alive connection."""
    latencies = []
    with httpx.Client(headers=HEADERS, timeout=60) as client:
        for number in range(WARMUP + requests):
            body = bodies[number % len(bodies)]
            started = time.perf_counter()
            response = client.post(url, content=body)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
            if number >= WARMUP:
                latencies.append(elapsed * 1e3)
    return np.array(latencies)


def _client_process(connections, index, count, start_at, stop_at, results, args) -> None:
    while time.time() < start_at:
        time.sleep(0.001)
    results.put(asyncio.run(connections(index, count, stop_at, *args)))


def in_client_processes(
    connections: Callable[..., Awaitable[list]], clients: int, seconds: float, *args: object
) -> list:
    """Every connection's result of `connections(index, count, stop_at, *args)`, run in
    CLIENT_PROCESSES forked processes (index 0, 1, ...) with `clients` connections in all,
    from one start for `seconds`."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 1.0
    stop_at = start_at + seconds
    shares = [
        clients // CLIENT_PROCESSES + (i < clients % CLIENT_PROCESSES)
        for i in range(CLIENT_PROCESSES)
    ]
    processes = [
        context.Process(
            target=_client_process,
            args=(connections, index, count, start_at, stop_at, results, args),
        )
        for index, count in enumerate(shares)
        if count
    ]
    for process in processes:
        process.start()
    gathered = [one for _ in processes for one in results.get()]
    for process in processes:
        process.join()
    return gathered


async def _posting(index: int, count: int, stop_at: float, url: str, bodies: list[bytes]) -> list:
    """`count` connections posting random `bodies` until stop_at: (errors, latencies ms) each."""

    async def one(seed: int) -> tuple[int, list[float]]:
        rng = random.Random(seed)
        errors, latencies = 0, []
        async with httpx.AsyncClient(headers=HEADERS, timeout=60) as client:
            while time.time() < stop_at:
                started = time.perf_counter()
                try:
                    ok = (await client.post(url, content=rng.choice(bodies))).status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1e3)
                errors += not ok
        return errors, latencies

    return await asyncio.gather(*(one(index * count + seed) for seed in range(count)))


def concurrent(url: str, bodies: list[bytes], clients: int, seconds: float) -> dict:
    """`clients` keep-alive connections posting for `seconds`: requests/s, p50, p99, errors."""
    gathered = in_client_processes(_posting, clients, seconds, url, bodies)
    latencies = np.array([ms for _, each in gathered for ms in each])
    return {
        "requests_per_s": len(latencies) / seconds,
        "p50_ms": float(np.percentile(latencies, 50)),
        "p99_ms": float(np.percentile(latencies, 99)),
        "errors": sum(errors for errors, _ in gathered),
    }


def _loaded(loads: dict[str, float], key: str, measure: Callable, *args: object):
    """measure(*args), noting the 1-minute load average as it starts in loads[key]."""
    loads[key] = os.getloadavg()[0]
    return measure(*args)


def _os_durability(settings: Settings) -> Settings:
    """`settings` with the prediction log written to the OS only (monitoring.log_durability)."""
    monitoring = settings.monitoring.model_copy(update={"log_durability": "os"})
    return settings.model_copy(update={"monitoring": monitoring})


def _p(latencies: np.ndarray, q: float) -> float:
    return float(np.percentile(latencies, q))


def in_process(settings: Settings, bodies: list[list[str]], requests: int) -> dict:
    """p50 wall and CPU ms of ScoringRuntime.score_customers on `bodies` (id lists), in turn,
    in this thread with one OpenMP and BLAS thread (as a service thread)."""
    threadpool_limits(limits=1)
    runtime = ScoringRuntime(settings)
    wall, cpu = [], []
    for number in range(WARMUP + requests):
        started, used = time.perf_counter(), time.thread_time()
        runtime.score_customers(bodies[number % len(bodies)])
        if number >= WARMUP:
            wall.append((time.perf_counter() - started) * 1e3)
            cpu.append((time.thread_time() - used) * 1e3)
    return {"p50_ms": float(np.median(wall)), "cpu_p50_ms": float(np.median(cpu))}


def _raw_p50(model: ScoringModel, rows: pd.DataFrame) -> float:
    """Median ms of ChurnModel.predict_churn on `rows`, one OpenMP and BLAS thread (as the
    service)."""
    threadpool_limits(limits=1)
    times = []
    for _ in range(WARMUP + BIG_REQUESTS):
        started = time.perf_counter()
        model.model.predict_churn(rows)
        times.append((time.perf_counter() - started) * 1e3)
    return float(np.median(times[WARMUP:]))


def _row(measure: str, target: str, met: bool | None, **values: float | int) -> dict:
    keys = (
        "p50_ms",
        "p99_ms",
        "echo_p50_ms",
        "echo_p99_ms",
        "raw_p50_ms",
        "cpu_p50_ms",
        "requests_per_s",
        "echo_requests_per_s",
        "errors",
        "peak_rss_mb",
        "echo_peak_rss_mb",
        "load_1m",
    )
    verdict = "" if met is None else ("met" if met else "missed")
    return {
        "measure": measure,
        **{key: values.get(key, "") for key in keys},
        "target": target,
        "met": verdict,
    }


def measure(clients: int, seconds: float) -> list[dict]:
    """Every figure of the module docstring, service and echo in one run."""
    settings, model, features = serving_world()
    ids = features["customer_id"].tolist()
    rng = random.Random(0)
    one = [json.dumps({"customer_ids": [rng.choice(ids)]}).encode() for _ in range(200)]
    big_ids = rng.sample(ids, BIG)
    big = [json.dumps({"customer_ids": big_ids}).encode()]
    record_rows = features.sample(n=50, random_state=0).drop(columns="as_of")
    records = [
        json.dumps({"records": [row]}).encode()
        for row in json.loads(record_rows.to_json(orient="records"))
    ]
    results: dict[str, dict] = {}
    loads: dict[str, float] = {}
    for name, start in (("service", scoring_service), ("echo", echo_service)):
        with start(settings) as running:
            url = running.url + ("/score_customers" if name == "service" else "/echo")
            record_url = running.url + ("/score" if name == "service" else "/echo")
            results[name] = {
                "one": _loaded(loads, f"{name}/one", sequential, url, one, SEQUENTIAL),
                "record": _loaded(
                    loads, f"{name}/record", sequential, record_url, records, SEQUENTIAL
                ),
                "big": _loaded(loads, f"{name}/big", sequential, url, big, BIG_REQUESTS),
                "load": _loaded(loads, f"{name}/load", concurrent, url, one, clients, seconds),
                "rss": peak_rss_mb(running.process),
            }
    with scoring_service(_os_durability(settings)) as running:
        url = running.url + "/score_customers"
        unsynced = _loaded(loads, "os/one", sequential, url, one, SEQUENTIAL)
    service, echo = results["service"], results["echo"]
    rows_of_big = features.set_index("customer_id").loc[big_ids].reset_index()
    raw = _raw_p50(model, rows_of_big)
    ids_of = [json.loads(body)["customer_ids"] for body in one]
    loads["in_process/one"] = os.getloadavg()[0]
    one_in_process = in_process(settings, ids_of, SEQUENTIAL)
    loads["in_process/big"] = os.getloadavg()[0]
    big_in_process = in_process(settings, [big_ids], BIG_REQUESTS)
    one_p50, one_p99 = _p(service["one"], 50), _p(service["one"], 99)
    echo_p50 = _p(echo["one"], 50)
    big_p50 = _p(service["big"], 50)
    load, echo_load = service["load"], echo["load"]
    return [
        _row(
            "one customer by id (/score_customers)",
            "p50 <= 1.5 x echo and <= 5 ms; p99 <= 15 ms",
            one_p50 <= min(1.5 * echo_p50, 5.0) and one_p99 <= 15.0,
            p50_ms=one_p50,
            p99_ms=one_p99,
            echo_p50_ms=echo_p50,
            echo_p99_ms=_p(echo["one"], 99),
            load_1m=loads["service/one"],
        ),
        _row(
            "one customer by id, log_durability os",
            "p50 <= 1.5 x echo and <= 5 ms; p99 <= 15 ms",
            _p(unsynced, 50) <= min(1.5 * echo_p50, 5.0) and _p(unsynced, 99) <= 15.0,
            p50_ms=_p(unsynced, 50),
            p99_ms=_p(unsynced, 99),
            echo_p50_ms=echo_p50,
            echo_p99_ms=_p(echo["one"], 99),
            load_1m=loads["os/one"],
        ),
        _row(
            "one customer by id in process (ScoringRuntime.score_customers)",
            "none",
            None,
            **one_in_process,
            load_1m=loads["in_process/one"],
        ),
        _row(
            "one feature record (/score)",
            "none",
            None,
            p50_ms=_p(service["record"], 50),
            p99_ms=_p(service["record"], 99),
            echo_p50_ms=_p(echo["record"], 50),
            echo_p99_ms=_p(echo["record"], 99),
            load_1m=loads["service/record"],
        ),
        _row(
            "1,000 customers by id (/score_customers)",
            "p50 <= 2 x raw + 5 ms",
            big_p50 <= 2 * raw + 5.0,
            p50_ms=big_p50,
            p99_ms=_p(service["big"], 99),
            echo_p50_ms=_p(echo["big"], 50),
            echo_p99_ms=_p(echo["big"], 99),
            raw_p50_ms=raw,
            load_1m=loads["service/big"],
        ),
        _row(
            "1,000 customers by id in process (ScoringRuntime.score_customers)",
            "none",
            None,
            **big_in_process,
            raw_p50_ms=raw,
            load_1m=loads["in_process/big"],
        ),
        _row(
            f"{clients} clients for {seconds:.0f} s, one customer each",
            ">= 50% of echo requests/s, 0 errors",
            load["requests_per_s"] >= 0.5 * echo_load["requests_per_s"] and load["errors"] == 0,
            p50_ms=load["p50_ms"],
            p99_ms=load["p99_ms"],
            echo_p50_ms=echo_load["p50_ms"],
            echo_p99_ms=echo_load["p99_ms"],
            requests_per_s=load["requests_per_s"],
            echo_requests_per_s=echo_load["requests_per_s"],
            errors=load["errors"] + echo_load["errors"],
            peak_rss_mb=service["rss"],
            echo_peak_rss_mb=echo["rss"],
            load_1m=loads["service/load"],
        ),
    ]


def note(rows: list[dict]) -> str:
    """What the rows say in words: the machine's load while measuring, targets met and missed."""
    loads = [row["load_1m"] for row in rows if row["load_1m"] != ""]
    verdicts = {
        verdict: [row["measure"] for row in rows if row["met"] == verdict]
        for verdict in ("met", "missed")
    }
    return (
        f"Measured with the machine's 1-minute load average at {min(loads):.1f}-{max(loads):.1f} "
        f"(load_1m, on {os.cpu_count()} cores; the benchmark's own clients count in it): above "
        "the core count wall times grow with the load, and the service, doing more work per "
        "request than the echo, suffers more; cpu_p50_ms is the scoring thread's own CPU time. "
        f"Targets met: {'; '.join(verdicts['met']) or 'none'}. "
        f"Missed: {'; '.join(verdicts['missed']) or 'none'}. Limits: docs/serving.md#performance."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="benchmark: serving")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    args, _ = parser.parse_known_args()  # run_all.py passes every script its arguments
    rows = measure(args.clients, args.seconds)
    for row in rows:
        print(json.dumps(row))
    write_results("serving", rows, note(rows))


if __name__ == "__main__":
    main()

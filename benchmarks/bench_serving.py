"""Benchmark the scoring service over HTTP on 127.0.0.1: one customer, and 1,000, per request.

Run: .venv/bin/python benchmarks/bench_serving.py [--sizes 1 100 1000] [--repeats 3]
Setup (untimed, cached in benchmarks/.out/serving_world): a 24-month world of 10,000
customers, a trained champion and the feature rows at the end of the data. Each child
starts the real server (`zerochurn serve`'s command line) and posts the same request
REQUESTS[size] times on one keep-alive connection after a warm-up. Reported: p50, p99
and mean latency in ms; `raw_p50_ms`, the in-process ChurnModel.predict_churn of the same
rows (encode + booster + calibration, one OpenMP thread as in the service); their ratio.
Targets (issue #5): one customer p50 <= 10 ms and p99 <= 25 ms.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from harness import main
from threadpoolctl import threadpool_limits

from zerochurn.configs import Settings, load_settings
from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.validate import load_raw
from zerochurn.features.build import build_features
from zerochurn.model.registry import ChampionRegistry, configure
from zerochurn.serving.launch import serve_command
from zerochurn.serving.model import ScoringModel, load_from_mlflow
from zerochurn.synthetic import generate_world, write_world
from zerochurn.training.data import build_snapshots
from zerochurn.training.train import train_and_register

WORLD_DIR = Path(__file__).resolve().parent / ".out" / "serving_world"
CUSTOMERS = 10_000
MONTHS = 24
SIZES = [1, 100, 1000]
REQUESTS = {1: 1000, 100: 200, 1000: 60}
WARMUP = 20
READY_SECONDS = 120
API_KEY = "bench"


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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(settings: Settings) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    settings = settings.model_copy(
        update={"serving": settings.serving.model_copy(update={"port": port})}
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCHURN_")}
    argv, env = serve_command(settings, environ | {"ZEROCHURN_API_KEYS": API_KEY})
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("the service did not become ready")


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1e3
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))} | {
        "mean_ms": float(ms.mean())
    }


def measure_once(size: int) -> dict:
    """Latency of REQUESTS[size] requests of `size` customers, and of raw prediction."""
    settings, model, features = benchmark_world()
    rows = features.sample(n=size, random_state=0).drop(columns="as_of")
    body = {"records": json.loads(rows.to_json(orient="records"))}
    process, url = _start(settings)
    try:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            for _ in range(WARMUP):
                client.post("/score", json=body).raise_for_status()
            latencies = []
            for _ in range(REQUESTS[size]):
                started = time.perf_counter()
                client.post("/score", json=body).raise_for_status()
                latencies.append(time.perf_counter() - started)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    threadpool_limits(limits=1, user_api="openmp")  # as in the service
    frame = pd.DataFrame.from_records(body["records"])
    raw = []
    for _ in range(WARMUP + REQUESTS[size]):
        started = time.perf_counter()
        model.model.predict_churn(frame)
        raw.append(time.perf_counter() - started)
    served = _percentiles(latencies)
    raw_p50 = _percentiles(raw[WARMUP:])["p50_ms"]
    return served | {
        "seconds": served["p50_ms"] / 1e3,
        "requests": REQUESTS[size],
        "raw_p50_ms": raw_p50,
        "ratio_p50_to_raw": served["p50_ms"] / raw_p50,
        "customers_per_second": size / (served["mean_ms"] / 1e3),
    }


if __name__ == "__main__":
    main("serving", SIZES, measure_once)

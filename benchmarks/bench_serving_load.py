"""Load test of the scoring service with a worker killed mid-run: no acknowledged score is lost.

Run: .venv/bin/python benchmarks/bench_serving_load.py [--clients 8] [--seconds 30]
Bounded and local: the service of bench_serving.py's cached world on 127.0.0.1, `--clients`
keep-alive clients (in CLIENT_PROCESSES processes) posting `/score` for `--seconds`, each
request one feature record under a customer id of its own. Halfway through, one worker
gets SIGKILL; the supervisor starts a new one meanwhile. Then the prediction log is read:
every request answered 200 must have its record there (`missing` must be 0; the script
exits 1 otherwise). Requests to the killed worker fail with a broken connection and are
counted as `failed` (never acknowledged, so never owed). Results land in
benchmarks/results/serving_load.json (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import threading
import time

import httpx
import pandas as pd
import psutil
from bench_serving import HEADERS, in_client_processes, scoring_service, serving_world
from harness import write_results

from zerochurn.serving import prediction_log


async def _scoring(index: int, count: int, stop_at: float, url: str, record: dict) -> list:
    """`count` connections posting `record` under new ids until stop_at: (acknowledged ids,
    failed requests) each."""

    async def one(connection: int) -> tuple[list[str], int]:
        acknowledged, failed, number = [], 0, 0
        async with httpx.AsyncClient(headers=HEADERS, timeout=60) as client:
            while time.time() < stop_at:
                customer = f"load-{index}-{connection}-{number}"
                number += 1
                body = {"records": [{**record, "customer_id": customer}]}
                try:
                    response = await client.post(url, json=body)
                except httpx.HTTPError:
                    failed += 1
                    continue
                if response.status_code == 200:
                    acknowledged.append(customer)
                else:
                    failed += 1
        return acknowledged, failed

    return await asyncio.gather(*(one(connection) for connection in range(count)))


def _kill_a_worker(supervisor: int, after: float) -> threading.Thread:
    """A thread that sends SIGKILL to one worker of the server `after` seconds from now."""

    def kill() -> None:
        time.sleep(after)
        psutil.Process(supervisor).children()[0].send_signal(signal.SIGKILL)

    thread = threading.Thread(target=kill)
    thread.start()
    return thread


def run(clients: int, seconds: float) -> dict:
    """Load for `seconds`, a worker killed halfway; what was acknowledged, failed, logged."""
    settings, _, features = serving_world()
    record = json.loads(
        features.head(1).drop(columns=["customer_id", "as_of"]).to_json(orient="records")
    )[0]
    with scoring_service(settings) as running:
        began = pd.Timestamp.now(tz="UTC")
        killer = _kill_a_worker(running.process.pid, 1.0 + seconds / 2)  # clients start in 1 s
        gathered = in_client_processes(_scoring, clients, seconds, f"{running.url}/score", record)
        killer.join()
    acknowledged = {customer for customers, _ in gathered for customer in customers}
    logged = prediction_log.read(prediction_log.log_directory(settings.workspace), since=began)
    missing = acknowledged - set(logged["customer_id"])
    return {
        "clients": clients,
        "seconds": seconds,
        "acknowledged": len(acknowledged),
        "failed": sum(failed for _, failed in gathered),
        "requests_per_s": len(acknowledged) / seconds,
        "killed_worker": 1,
        "missing": len(missing),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="load test: serving with a worker killed")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    args, _ = parser.parse_known_args()  # run_all.py passes every script its arguments
    row = run(args.clients, args.seconds)
    print(json.dumps(row))
    write_results("serving_load", [row])
    if row["missing"]:
        sys.exit(f"{row['missing']} acknowledged scores are not in the prediction log")


if __name__ == "__main__":
    main()

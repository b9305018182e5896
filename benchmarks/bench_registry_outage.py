"""Benchmark how long a registry command takes to fail when MLflow cannot be reached.

Run: .venv/bin/python benchmarks/bench_registry_outage.py [--repeats 3]
Target (issue #22): bounded by the mlflow.request_* settings, with an error naming the
URI; the issue measured about 247 s against a closed port and about 20 minutes against a
port that accepts but never answers, with MLflow's own defaults (120 s, 7 retries).
Setup (untimed): a closed port (bound, then released) and a silent one (listening, never
accepting) on 127.0.0.1, an empty workspace, and a fresh process per run that imports
zerochurn and MLflow first. Timed: `ChampionRegistry.summaries()` (what `zerochurn
models` asks) with the default settings, pointed at each, until it raises
RegistryUnavailableError (checked, with the URI in its message). `bound_seconds` is what the settings allow:
request_timeout_seconds x (request_retries + 1) for a silent port, plus the backoff
between retries (mlflow.retry_backoff_seconds), which a closed port waits alone.
Results land in benchmarks/results/registry_outage.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile

from harness import write_results

from zerochurn.configs import load_settings


def closed_port() -> int:
    """A port nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CHILD = """
import sys, time
from zerochurn.configs import load_settings
from zerochurn.model.champion import RegistryUnavailableError
from zerochurn.model.registry import champion_registry
settings = load_settings(overrides={"workspace": sys.argv[1], "mlflow.tracking_uri": sys.argv[2]})
start = time.perf_counter()
try:
    champion_registry(settings).summaries()
except RegistryUnavailableError as exc:
    assert f"MLflow at {sys.argv[2]} is unreachable" in str(exc), exc
    print(time.perf_counter() - start)
"""


def fail_seconds(uri: str, workspace: str) -> float:
    """Seconds until the registry's summaries against `uri` fail (in a fresh process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROCHURN_", "MLFLOW_"))}
    argv = [sys.executable, "-c", CHILD, workspace, uri]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="benchmark: registry outage")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = load_settings(environ={}).mlflow
    rows = []
    with socket.socket() as silent, tempfile.TemporaryDirectory() as workspace:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        ports = {"closed": closed_port(), "silent": silent.getsockname()[1]}
        for server, port in ports.items():
            uri = f"http://127.0.0.1:{port}"
            runs = [fail_seconds(uri, workspace) for _ in range(args.repeats)]
            bound = 0 if server == "closed" else config.request_timeout_seconds
            row = {
                "server": server,
                "repeats": args.repeats,
                "request_timeout_seconds": config.request_timeout_seconds,
                "request_retries": config.request_retries,
                "bound_seconds": bound * (config.request_retries + 1),
                "seconds": statistics.median(runs),
            }
            rows.append(row)
            print(json.dumps(row))
    write_results("registry_outage", rows)


if __name__ == "__main__":
    main()

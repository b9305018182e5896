"""Benchmark the web workspace's pages on the 50,000-customer default workspace.

Run: .venv/bin/python benchmarks/bench_web.py [--requests 40]
Setup (untimed, cached in benchmarks/.out/web_workspace): `zerochurn run --no-serve` with
the default settings (50,000 customers, 24 months, then 3 drifted months: two scoring
runs, a monitoring run, a retrained champion). The real service is started on a free
127.0.0.1 port, signed in to with httpx (a session cookie, as a browser), and every page
is asked for once to warm up (the first page that needs the raw data waits for the
customer index and the programme reports, built once per data folder; that wait is
reported as the warm-up row). Timed: each page asked for `--requests` times in turn on
one keep-alive connection; the customer page for different customers each time, the
filtered list with different filters. Latency is the client's, on the loopback: the
page's server time plus one local round trip. Target (issue #17): p95 <= 300 ms for
every page (the CSV export of all 50,000 customers is reported, not targeted).
Results land in benchmarks/results/web.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
from harness import RESULTS_DIR, machine_info

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the live-server helper the e2e tests use

from live_server import API_KEY, serve_settings  # noqa: E402

from zerochurn.configs import Settings, load_settings  # noqa: E402
from zerochurn.serving.batch import snapshot_store  # noqa: E402
from zerochurn.serving.store import AtRiskQuery  # noqa: E402

WORKSPACE = Path(__file__).resolve().parent / ".out" / "web_workspace"
REQUESTS = 40
CUSTOMERS = 200
"""Distinct customers the customer page is asked for, in turn."""
TARGET_MS = 300.0
EXPORT_REQUESTS = 3


def workspace() -> Settings:
    """Settings of the cached default workspace, made by `zerochurn run --no-serve` once."""
    if not (WORKSPACE / "ready").is_file():
        command = [sys.executable, "-m", "zerochurn.cli", "--workspace", str(WORKSPACE)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCHURN_")}
        subprocess.run([*command, "run", "--no-serve"], check=True, env=env)
        (WORKSPACE / "ready").write_text("zerochurn run --no-serve\n")
    return load_settings(overrides={"workspace": str(WORKSPACE)}, environ={})


def sign_in(client: httpx.Client) -> None:
    """Sign in as a browser would: the form's CSRF token, then the key."""
    form = client.get("/app/signin").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = client.post("/app/signin", data={"api_key": API_KEY, "csrf_token": token})
    answer.raise_for_status()


def page_paths(settings: Settings) -> dict[str, Callable[[], Iterator[str]]]:
    """Each measured page: a generator of the paths asked for, in turn."""
    store = snapshot_store(settings)
    ids = store.at_risk_page(AtRiskQuery(limit=CUSTOMERS, sort="churn_probability"))
    ids = ids["customer_id"].tolist()
    regions = store.segments("region")["group"].tolist()
    tiers = [None, *settings.serving.tier_cutoffs]
    filters = [
        "&".join(
            part for part in (f"region={r}", f"tier={t}" if t else "", "min_value=10000") if part
        )
        for r, t in itertools.product(regions, tiers)
    ]
    return {
        "at-risk list": lambda: itertools.repeat("/app/"),
        "at-risk, filtered": lambda: (f"/app/?{query}" for query in itertools.cycle(filters)),
        "at-risk, page 500": lambda: itertools.repeat("/app/?page=500"),
        "at-risk, id search": lambda: itertools.repeat("/app/?id_prefix=C0001"),
        "customer": lambda: (f"/app/customers/{cid}" for cid in itertools.cycle(ids)),
        "segments": lambda: (
            f"/app/segments?by={by}" for by in itertools.cycle(("region", "segment", "plan"))
        ),
        "satisfaction": lambda: (
            f"/app/satisfaction?by={by}" for by in itertools.cycle(("region", "segment"))
        ),
        "complaints": lambda: itertools.repeat("/app/complaints"),
        "model health": lambda: itertools.repeat("/app/model"),
        "report chart (SVG)": lambda: itertools.repeat("/app/charts/complaints/0-0.svg"),
    }


def timed(client: httpx.Client, paths: Iterator[str], requests: int) -> list[float]:
    """Seconds of `requests` GETs of the next paths, each answered 200."""
    seconds = []
    for path in itertools.islice(paths, requests):
        started = time.perf_counter()
        answer = client.get(path)
        seconds.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code}: {answer.text[:300]}")
    return seconds


def row(page: str, seconds: list[float], target: float | None) -> dict:
    ms = np.array(seconds) * 1e3
    p95 = float(np.percentile(ms, 95))
    return {
        "page": page,
        "requests": len(ms),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": p95,
        "max_ms": float(ms.max()),
        "target_p95_ms": target if target is not None else "",
        "met": "" if target is None else ("yes" if p95 <= target else "no"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="benchmark: web workspace pages")
    parser.add_argument("--requests", type=int, default=REQUESTS)
    args = parser.parse_args()
    settings = workspace()
    paths = page_paths(settings)
    rows = []
    with (
        serve_settings(settings, WORKSPACE.parent / "web_server.log") as server,
        httpx.Client(base_url=server.url, timeout=600, follow_redirects=True) as client,
    ):
        sign_in(client)
        started = time.perf_counter()
        for make in paths.values():
            timed(client, make(), 1)
        rows.append(row("warm-up: every page once", [time.perf_counter() - started], None))
        for page, make in paths.items():
            rows.append(row(page, timed(client, make(), args.requests), TARGET_MS))
            print(json.dumps(rows[-1]), flush=True)
        export = timed(client, itertools.repeat("/app/at-risk.csv"), EXPORT_REQUESTS)
        rows.append(row("CSV export, every customer", export, None))
    payload = {"name": "web", "machine": machine_info(), "rows": rows}
    (RESULTS_DIR / "web.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(rows[-1]))


if __name__ == "__main__":
    main()

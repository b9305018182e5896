"""Shared benchmark plumbing: run one measurement per fresh subprocess, record medians.

Each benchmark script calls `main(name, sizes, measure_once)`. The parent process runs
`script --child SIZE` once per repeat, so every measurement starts cold and its peak
resident memory (from the child's rusage) belongs to that measurement alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _run_child(script: str, size: int, extra: list[str]) -> dict:
    proc = subprocess.Popen(
        [sys.executable, script, "--child", str(size), *extra], stdout=subprocess.PIPE, text=True
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"{script} --child {size} failed with status {status}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def machine_info() -> dict[str, str | int]:
    """What the numbers were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count() or 0,
    }


def write_results(name: str, rows: list[dict], note: str | None = None) -> None:
    """Write results/<name>.json: the rows, the machine they were measured on and an
    optional note (what the rows say, in words, printed under the table)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    payload = {"name": name, "machine": machine_info(), "rows": rows}
    if note:
        payload["note"] = note
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")


def main(
    name: str,
    sizes: list[int],
    measure_once: Callable[[int], dict],
    repeats: int = 3,
    note: Callable[[list[dict]], str] | None = None,
) -> None:
    """Measure `measure_once(size)` at each size and write results/<name>.json.

    `measure_once` returns a dict with at least "seconds" (the timed work only) and may
    add other figures (rows, throughput, ratios); medians over repeats are reported (the
    most common value of a text figure, such as a model family).
    `repeats` is the default number of runs per size (a deterministic figure needs one);
    `note(rows)`, when given, says in words what the rows show (written with them).
    """
    parser = argparse.ArgumentParser(description=f"benchmark: {name}")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=sizes)
    parser.add_argument("--repeats", type=int, default=repeats)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure_once(args.child)))  # noqa: T201 - the parent reads this line
        return
    rows = []
    for size in args.sizes:
        runs = [_run_child(sys.argv[0], size, []) for _ in range(args.repeats)]
        row: dict[str, float | int] = {"size": size, "repeats": args.repeats}
        for key in runs[0]:
            values = [run[key] for run in runs]
            numeric = all(isinstance(value, int | float) for value in values)
            row[key] = statistics.median(values) if numeric else statistics.mode(values)
        rows.append(row)
        print(json.dumps(row))
    write_results(name, rows, note(rows) if note else None)

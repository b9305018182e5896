"""Benchmark `zerochurn generate`: simulate N customers x 24 months, then write Parquet.

Run: .venv/bin/python benchmarks/bench_generate.py [--sizes 10000 100000] [--repeats 3]
Reports generation seconds ("seconds"), Parquet write seconds, rows per table and rows
per second of generation; results land in benchmarks/results/generate.json.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from harness import main

from zerochurn.configs.settings import GenerateConfig
from zerochurn.synthetic import generate_world, write_world

MONTHS = 24
SIZES = [10_000, 100_000, 1_000_000]


def measure_once(customers: int) -> dict:
    """Generate one world of `customers` initial customers and write it to a temp folder."""
    config = GenerateConfig(customers=customers, months=MONTHS, seed=42)
    started = time.perf_counter()
    world = generate_world(config, horizon_days=90)
    generated = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_world(world, Path(tmp) / "data")
        written = time.perf_counter()
    rows = {f"rows_{name}": len(frame) for name, frame in world.tables.items()}
    rows["rows_ground_truth"] = len(world.ground_truth)
    total = sum(rows.values())
    return {
        "seconds": generated - started,
        "write_seconds": written - generated,
        "months": MONTHS,
        **rows,
        "rows_total": total,
        "rows_per_second": total / (generated - started),
    }


if __name__ == "__main__":
    main("generate", SIZES, measure_once)

"""Benchmark training: LightGBM (with early stopping and calibration) and the baseline.

Run: .venv/bin/python benchmarks/bench_train.py [--sizes 10000 20000 42000] [--repeats 3]
Setup (untimed): generate a 24-month world of N customers, write and load it through the
data contract, build the out-of-time snapshots. Timed: fitting the calibrated LightGBM
model (`seconds`) and the logistic-regression baseline (`baseline_seconds`) on the
training period. Target (issue #4): 500k training rows in <= 120 s on 2 cores; the
default sizes give about 120k, 240k and 500k training rows.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from harness import main

from zerochurn.configs import load_settings
from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.validate import load_raw
from zerochurn.synthetic import generate_world, write_world
from zerochurn.training.data import build_snapshots
from zerochurn.training.fit import fit_baseline, fit_churn_model

SIZES = [10_000, 20_000, 42_000]
MONTHS = 24


def measure_once(customers: int) -> dict:
    """Fit both models once on a world of `customers` customers."""
    settings = load_settings(environ={})
    with tempfile.TemporaryDirectory() as tmp:
        world = generate_world(
            GenerateConfig(customers=customers, months=MONTHS),
            horizon_days=settings.churn.horizon_days,
        )
        raw = load_raw(write_world(world, Path(tmp) / "data"))
    snapshots = build_snapshots(raw, settings)
    start = time.perf_counter()
    model = fit_churn_model(snapshots, settings, settings.training.lightgbm)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    fit_baseline(snapshots, settings)
    baseline_seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "baseline_seconds": baseline_seconds,
        "rows_train": len(snapshots.train),
        "features": len(snapshots.features),
        "boosting_rounds": model.booster_.best_iteration,
    }


if __name__ == "__main__":
    main("train", SIZES, measure_once)

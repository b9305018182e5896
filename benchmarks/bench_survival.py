"""Benchmark the time-to-churn model on the default world: quality out of time, and cost.

Run: .venv/bin/python benchmarks/bench_survival.py [--sizes 50000] [--repeats 1]
Setup (untimed): the default world (N customers, 24 months, seed 42) and its training
snapshots. Timed (`seconds`): training.survival.fit_survival - the hazard model, the churn
model refitted before the survival test date (the anchor), the Kaplan-Meier and Cox
baselines and every measure. Reported: the survival_* run metrics of model hazard (the
served curve, anchored), hazard_unanchored (the model's own curve), cox and km_segment
(concordance, AUC and calibration at 3, 6 and 12 months, integrated Brier score) and
against the generator's true S(t).
Targets (issue #19): hazard concordance above Cox's; max calibration error of S(12) per
decile <= 0.02.
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
from zerochurn.training.survival import fit_survival

SIZES = [50_000]
MONTHS = 24
ANCHOR_FAMILY = "lightgbm"
"""Family of the churn model refitted before the survival test date to anchor the curves."""
REPORTED = (
    "concordance",
    "auc_3m",
    "auc_12m",
    "ibs",
    "calibration_max_error_3m",
    "calibration_max_error_6m",
    "calibration_max_error_12m",
    "truth_mae_12m",
)


def measure_once(size: int) -> dict:
    """Generate the world, build its snapshots, then time and measure fit_survival."""
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(overrides={"workspace": folder}, environ={})
        world = generate_world(
            GenerateConfig(customers=size, months=MONTHS, seed=42),
            horizon_days=settings.churn.horizon_days,
        )
        data_dir = write_world(world, Path(folder) / "data")
        snapshots = build_snapshots(load_raw(data_dir), settings)
        started = time.perf_counter()
        fit = fit_survival(
            snapshots,
            settings,
            settings.training.lightgbm,
            family=ANCHOR_FAMILY,
            ground_truth=world.ground_truth,
        )
        seconds = time.perf_counter() - started
    rows = snapshots.survival
    result: dict[str, float] = {
        "seconds": seconds,
        "train_rows": len(rows.train),
        "test_rows": len(rows.test),
        "seen_months": fit.model.seen_months_,
    }
    for model in ("hazard", "hazard_unanchored", "cox", "km_segment"):
        for measure in REPORTED:
            key = f"survival_{model}_{measure}"
            if key in fit.metrics:
                result[f"{model}_{measure}"] = fit.metrics[key]
    return result


if __name__ == "__main__":
    main("survival", SIZES, measure_once, repeats=1)

"""Benchmark `zerochurn train --table` with selection: a flat table of N rows, end to end.

Run: .venv/bin/python benchmarks/bench_table_train.py [--sizes 2500 5000 10000] [--repeats 3]
Setup (untimed): a flat table of N customers x 53 feature columns (the shipped features
of a generated world at one as-of date with its 90-day churn label, about 5% churners),
written as a CSV and read as a user's file is. Timed: training.train.train_and_register
with the default configuration into a fresh MLflow store: the three candidates
cross-validated (5 folds x 2 repeats), calibrated, selected and refitted, then the test
metrics, figures, reference rows and the logged, registered model (`seconds`, wall
time; `cpu_seconds`, this process's CPU time). `selection_seconds` is the part from the
first candidate fit to the selection (`selection_cpu_seconds` its CPU time).
`load_average` is the machine's 1-minute load when the run ended: on a shared machine
wall time grows with it, CPU time does not.
Target (issue #15): a 10k-row table in <= 60 s on 2 cores.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from harness import main

from zerochurn.configs import load_settings
from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.table import read_customer_table
from zerochurn.contract.validate import load_raw
from zerochurn.features.build import build_training_frame
from zerochurn.synthetic import generate_world, write_world
from zerochurn.training.data import LABEL, table_snapshots
from zerochurn.training.train import train_and_register

MONTHS = 12
AS_OF = "2024-09-01"
ACTIVE_SHARE = 0.75
"""About this share of the generated customers is active at AS_OF: generate N / it."""


def flat_table(rows: int, folder: Path) -> Path:
    """A CSV of `rows` customers: id, the features at AS_OF and the churn label."""
    settings = load_settings(environ={})
    world = generate_world(
        GenerateConfig(customers=int(rows / ACTIVE_SHARE), months=MONTHS, seed=7),
        horizon_days=settings.churn.horizon_days,
    )
    raw = load_raw(write_world(world, folder / "data"))
    frame = build_training_frame(raw, [AS_OF], settings.features, settings.churn)
    frame = frame[frame[LABEL].notna()].drop(columns=["as_of"])
    if len(frame) < rows:
        raise RuntimeError(f"the world has {len(frame)} labelled customers, not {rows}")
    path = folder / "table.csv"
    frame.sample(n=rows, random_state=0).to_csv(path, index=False)
    return path


def measure_once(rows: int) -> dict:
    """Train, select and register a model of a flat table of `rows` rows once."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = flat_table(rows, folder)
        settings = load_settings(
            overrides={"workspace": str(folder / "workspace"), "table.target_column": LABEL},
            environ={},
        )
        table = read_customer_table(path, id_column="customer_id", target_column=LABEL)
        snapshots = table_snapshots(table, settings)
        marks: dict[str, tuple[float, float]] = {}

        def mark(message: str) -> None:
            for key in ("fitting LightGBM", "selected"):
                if message.startswith(key):
                    marks[key] = (time.perf_counter(), time.process_time())

        start, cpu = time.perf_counter(), time.process_time()
        outcome = train_and_register(snapshots, settings, data_dir=path, progress=mark)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "selection_seconds": marks["selected"][0] - marks["fitting LightGBM"][0],
        "selection_cpu_seconds": marks["selected"][1] - marks["fitting LightGBM"][1],
        "selected": outcome.family,
        "test_roc_auc": outcome.metrics["roc_auc"],
        "features": len(snapshots.features),
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__":
    main("table_train", [2500, 5000, 10_000], measure_once)

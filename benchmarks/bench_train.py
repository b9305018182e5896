"""Benchmark training on monthly snapshots: every candidate family and the selection.

Run: .venv/bin/python benchmarks/bench_train.py [--sizes 10000 20000 42000] [--repeats 3]
Setup (untimed): generate a 24-month world of N customers, write and load it through the
data contract, build the out-of-time snapshots and encode the development rows. Timed:
training.steps.fit_candidates, what `zerochurn train` does before the test period:
LightGBM with early stopping (`lightgbm_seconds`), the spline logistic model with its L2
strength chosen on the calibration period (`logistic_seconds`), the blend, the
calibration of each and the selection (`seconds`, all of it). Also reported: the
family selected and each family's ROC-AUC on the calibration period (what selection
compares) and on the test period, which is how issue #15 measures whether the
logistic model or the blend ever wins on snapshots. The same world's transactions alone
(churn = 60 days without a purchase) are measured the same way (`log_*`). `cpu_seconds` (this process, all its
threads) and the 1-minute `load_average` when it ended, since wall time on a shared
machine grows with the load. Target (issue #4): 500k training rows in <= 120 s on 2
cores; the default sizes give about 120k, 240k and 500k rows.
"""

from __future__ import annotations

import os
import tempfile
import time
from itertools import pairwise
from pathlib import Path

from harness import main

from zerochurn.configs import load_settings
from zerochurn.configs.settings import GenerateConfig, Settings
from zerochurn.contract.validate import load_raw
from zerochurn.io import write_table
from zerochurn.model.metrics import classification_metrics
from zerochurn.synthetic import generate_world, write_world
from zerochurn.training.data import LABEL, Snapshots, build_snapshots
from zerochurn.training.development import development
from zerochurn.training.fit import run_booster
from zerochurn.training.steps import fit_candidates

SIZES = [10_000, 20_000, 42_000]
MONTHS = 24
INACTIVITY_DAYS = 60
"""Days without a purchase that count as churn in the transaction-log run."""
FAMILIES = ("lightgbm", "logistic", "blend")
PHASES = {"fitting LightGBM": "lightgbm", "fitting the logistic": "logistic"}
"""fit_candidates' progress messages that start a timed phase, and the phase's name."""


def family_note(rows: list[dict]) -> str:
    """Which family each shape selects and which scores best on the test period, per size."""
    sentences = []
    for row in rows:
        for shape, prefix in (("raw tables", ""), ("transaction log", "log_")):
            tests = {
                family: row[f"{prefix}{family}_test_auc"]
                for family in FAMILIES
                if f"{prefix}{family}_test_auc" in row
            }
            best = max(tests, key=tests.__getitem__)
            aucs = ", ".join(f"{family} {auc:.4f}" for family, auc in tests.items())
            sentences.append(
                f"{row['size']:,} customers, {shape}: {row[f'{prefix}selected']} selected, "
                f"{best} best on the test period (ROC-AUC {aucs})."
            )
    return " ".join(sentences)


def _fit_and_select(snapshots: Snapshots, settings: Settings) -> dict:
    """Time fit_candidates on snapshots, by phase; each family's validation and test AUC."""
    dev = development(snapshots, settings)
    marks: list[tuple[str, float, float]] = []

    def mark(message: str) -> None:
        marks.append((message, time.perf_counter(), time.process_time()))

    mark("start")
    booster = run_booster(snapshots, settings)
    candidates = fit_candidates(dev, snapshots, settings, booster, progress=mark)
    mark("end")
    result = {"seconds": marks[-1][1] - marks[0][1], "cpu_seconds": marks[-1][2] - marks[0][2]}
    for (message, wall, cpu), (_, wall_after, cpu_after) in pairwise(marks):
        for prefix, phase in PHASES.items():
            if message.startswith(prefix):
                result[f"{phase}_seconds"] = wall_after - wall
                result[f"{phase}_cpu_seconds"] = cpu_after - cpu
    test = snapshots.test
    for candidate in candidates.candidates:
        probability = candidate.model.predict_churn(test[snapshots.features])
        result[f"{candidate.family}_validation_auc"] = candidate.auc_mean
        result[f"{candidate.family}_test_auc"] = classification_metrics(
            test[LABEL].to_numpy(), probability
        )["roc_auc"]
    return result | {
        "selected": candidates.selection.chosen,
        "rows_train": len(snapshots.train),
        "features": len(snapshots.features),
    }


def measure_once(customers: int) -> dict:
    """Fit and select the candidates once on a world of `customers` customers: from its raw
    tables (cancellation), then from its transactions alone (inactivity, `log_*`)."""
    settings = load_settings(environ={})
    log_settings = load_settings(
        overrides={"churn.definition": "inactivity", "churn.inactivity_days": INACTIVITY_DAYS},
        environ={},
    )
    with tempfile.TemporaryDirectory() as tmp:
        world = generate_world(
            GenerateConfig(customers=customers, months=MONTHS),
            horizon_days=settings.churn.horizon_days,
        )
        raw = load_raw(write_world(world, Path(tmp) / "data"))
        log_folder = Path(tmp) / "log"
        log_folder.mkdir()
        write_table(world.tables["transactions"], log_folder / "transactions.parquet")
        log = load_raw(log_folder)
    result = _fit_and_select(build_snapshots(raw, settings), settings)
    from_log = _fit_and_select(build_snapshots(log, log_settings), log_settings)
    return (
        result
        | {f"log_{key}": value for key, value in from_log.items()}
        | {"load_average": os.getloadavg()[0]}
    )


if __name__ == "__main__":
    main("train", SIZES, measure_once, note=family_note)

"""Benchmark the drift check: every feature and the prediction, N current vs N reference rows.

Run: .venv/bin/python benchmarks/bench_drift.py [--sizes 10000 30000 100000] [--repeats 3]
Target (issue #6): 100k rows and all features in <= 30 s on 2 cores.
Setup (untimed): generate a synthetic world, build the features of two as-of dates a year
apart (reference and current pools) with the generator's true churn probability as the
prediction column, and draw N rows from each pool with replacement. Timed ("seconds"):
monitoring.report.run_report with the default MonitoringConfig (the pinned distances)
plus monitoring.results.read_results -- the drift check. Reported beside it: the
first `import evidently` and writing the HTML report, which a `zerochurn monitor` run
also pays. Results land in benchmarks/results/drift.json.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd
from harness import main

from zerochurn.configs.settings import ChurnConfig, FeatureConfig, GenerateConfig, MonitoringConfig
from zerochurn.contract.validate import load_raw
from zerochurn.features.build import build_features
from zerochurn.features.catalog import feature_roles
from zerochurn.synthetic import generate_world, write_world

SIZES = [10_000, 30_000, 100_000]
WORLD_CUSTOMERS = 10_000
MONTHS = 24
REFERENCE_AS_OF = "2024-12-01"
CURRENT_AS_OF = "2025-12-01"
PREDICTION = "churn_probability"


def _pools() -> tuple[pd.DataFrame, pd.DataFrame, list[str], list[str]]:
    """Reference and current feature rows with a prediction column, and the feature roles."""
    churn = ChurnConfig()
    world = generate_world(
        GenerateConfig(customers=WORLD_CUSTOMERS, months=MONTHS, seed=42),
        horizon_days=churn.horizon_days,
    )
    with tempfile.TemporaryDirectory() as folder:
        raw = load_raw(write_world(world, Path(folder) / "data"))
    truth = world.ground_truth.assign(as_of=pd.to_datetime(world.ground_truth["as_of"]))
    pools = []
    for as_of in (REFERENCE_AS_OF, CURRENT_AS_OF):
        features = build_features(raw, as_of, FeatureConfig(), churn)
        scored = features.merge(
            truth[["customer_id", "as_of", "true_probability"]], on=["customer_id", "as_of"]
        )
        pools.append(scored.rename(columns={"true_probability": PREDICTION}))
    numeric, categorical = feature_roles(pools[0])
    return pools[0], pools[1], numeric, categorical


def measure_once(rows: int) -> dict:
    """Draw `rows` reference and current rows, then time one drift check."""
    reference_pool, current_pool, numeric, categorical = _pools()
    reference = reference_pool.sample(n=rows, replace=True, random_state=1)
    current = current_pool.sample(n=rows, replace=True, random_state=2)
    started = time.perf_counter()
    import evidently  # noqa: F401 - timed apart: the first import costs seconds

    import_seconds = time.perf_counter() - started

    from zerochurn.monitoring.report import Columns, run_report
    from zerochurn.monitoring.results import read_results

    columns = Columns(numeric=tuple(numeric), categorical=tuple(categorical))
    started = time.perf_counter()
    snapshot = run_report(
        current=current, reference=reference, columns=columns, config=MonitoringConfig()
    )
    results = read_results(snapshot.dict())
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    snapshot.save_html("/dev/null")
    html_seconds = time.perf_counter() - started
    drifted = sum(drift.drifted for name, drift in results.drift.items() if name != PREDICTION)
    return {
        "seconds": seconds,
        "import_seconds": import_seconds,
        "html_seconds": html_seconds,
        "total_seconds": import_seconds + seconds + html_seconds,
        "rows_reference": len(reference),
        "rows_current": len(current),
        "features": len(numeric) + len(categorical),
        "drifted_features": drifted,
        "rows_per_second": rows / seconds,
    }


if __name__ == "__main__":
    main("drift", SIZES, measure_once)

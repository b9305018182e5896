"""Benchmark batch scoring with reasons: `score_features` on N feature rows.

Run: .venv/bin/python benchmarks/bench_score.py [--sizes 10000 100000 1000000] [--repeats 3]
Setup (untimed): the cached world and champion of bench_serving.py; its ~10,000 feature
rows at the end of the data are repeated (with new ids) to N rows. Timed (`seconds`):
score_features - encode, calibrated probability, TreeSHAP contributions by table, top
reasons with texts, value, value at risk, tiers. `raw_seconds` times
ChurnModel.predict_churn (encode + booster + calibration) on the same rows, `ratio_to_raw`
divides the two; `lightgbm_contrib_seconds` is LightGBM's own pred_contrib on
min(N, 100,000) rows scaled to N, what the reasons would cost without the tables.
`write_seconds` times writing the scores (Parquet + CSV) and the snapshot store.
`no_survival_seconds` scores the same rows with the same champion but without its
time-to-churn model (the scores before #19: no survival, lifetime or CLV columns), and
`survival_ratio` = seconds / no_survival_seconds. `one_row_ms` and
`one_row_no_survival_ms`: median of ONE_ROW_CALLS score_features calls on one row, with
and without the time-to-churn model: what the survival fields add to the service's
request path (/score scores its rows with score_features).
Targets: 1,000,000 customers with reasons in <= 60 s on 2 cores (issue #5); the survival
fields cost at most 1.5 x the scoring without them (issue #19).
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
from bench_serving import benchmark_world
from harness import main

from zerochurn.configs.settings import Settings
from zerochurn.io import write_table
from zerochurn.serving.batch import segment_table
from zerochurn.serving.model import ScoringModel
from zerochurn.serving.scoring import score_features
from zerochurn.serving.store import SnapshotInfo, write_snapshot

SIZES = [10_000, 100_000, 1_000_000]
CONTRIB_SAMPLE = 100_000
ONE_ROW_CALLS = 200


def _rows(features: pd.DataFrame, size: int) -> pd.DataFrame:
    """`size` feature rows: the world's rows repeated, each with its own customer_id."""
    repeats = -(-size // len(features))
    rows = pd.concat([features] * repeats, ignore_index=True).head(size)
    return rows.assign(customer_id=[f"B{i:09d}" for i in range(size)])


def _one_row_ms(row: pd.DataFrame, model: ScoringModel, settings: Settings) -> float:
    """Median milliseconds of ONE_ROW_CALLS score_features calls on one row."""
    times = []
    for _ in range(ONE_ROW_CALLS):
        started = time.perf_counter()
        score_features(
            row, model, settings.serving, settings.features.value_function, scored_at="bench"
        )
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def measure_once(size: int) -> dict:
    """Score `size` rows once; time raw prediction, LightGBM's contributions and the writes."""
    settings, model, features = benchmark_world()
    if model.survival is None:
        raise RuntimeError("the benchmark champion has no time-to-churn model: delete its world")
    rows = _rows(features, size)
    without = dataclasses.replace(model, survival=None)
    started = time.perf_counter()
    score_features(
        rows, without, settings.serving, settings.features.value_function, scored_at="bench"
    )
    no_survival_seconds = time.perf_counter() - started
    started = time.perf_counter()
    scores = score_features(
        rows, model, settings.serving, settings.features.value_function, scored_at="bench"
    )
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    model.model.predict_churn(rows)
    raw_seconds = time.perf_counter() - started
    sample = model.encode(rows.head(CONTRIB_SAMPLE))
    started = time.perf_counter()
    model.model.contributions_from_matrix(sample)
    lightgbm_contrib = (time.perf_counter() - started) * size / len(sample)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_table(scores, Path(tmp) / "scores.parquet")
        write_table(scores, Path(tmp) / "scores.csv")
        info = SnapshotInfo("bench", model.version, "bench", model.card.reference_churn_rate, size)
        segments = segment_table(scores, model.card.reference_churn_rate)
        write_snapshot(
            Path(tmp) / "snapshot.sqlite",
            features=rows,
            scores=scores,
            segments=segments,
            info=info,
        )
    write_seconds = time.perf_counter() - started
    one_row = rows.head(1)
    return {
        "seconds": seconds,
        "no_survival_seconds": no_survival_seconds,
        "survival_ratio": seconds / no_survival_seconds,
        "one_row_ms": _one_row_ms(one_row, model, settings),
        "one_row_no_survival_ms": _one_row_ms(one_row, without, settings),
        "raw_seconds": raw_seconds,
        "ratio_to_raw": seconds / raw_seconds,
        "lightgbm_contrib_seconds": lightgbm_contrib,
        "write_seconds": write_seconds,
        "family": model.model.family,
        "trees": sum(booster.num_trees() for booster in model.model.boosters),
        "customers_per_second": size / seconds,
    }


if __name__ == "__main__":
    main("score", SIZES, measure_once)

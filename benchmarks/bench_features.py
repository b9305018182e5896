"""Benchmark `build_features`: one as-of date for N customers with 24 months of history.

Run: .venv/bin/python benchmarks/bench_features.py [--sizes 10000 100000] [--repeats 3]
Setup (untimed): generate the synthetic world, write it and load it through the data
contract (zerochurn.contract.validate.load_raw), as scoring does; the load is measured on
its own (load_seconds, load_peak_rss_mb) but is not part of `seconds`.
Timed: build_features at the last month start of the data (raw.end for the generator's
whole months, so all 24 months lie before T), which is what scoring does. Besides the
harness's peak_rss_mb, reports the resident-memory high-water mark of the timed step alone
(Linux: /proc/self/clear_refs resets it, so peak_rss_mb is the same figure), the input
tables' size and the rows per table; results land in benchmarks/results/features.json.
"""

from __future__ import annotations

import ctypes
import gc
import tempfile
import time
from pathlib import Path

import pandas as pd
from harness import main

from zerochurn.configs.settings import ChurnConfig, FeatureConfig, GenerateConfig
from zerochurn.contract.dataset import RawData
from zerochurn.contract.validate import load_raw
from zerochurn.features.build import build_features, monthly_as_of_dates
from zerochurn.synthetic import generate_world, write_world

MONTHS = 24
SIZES = [10_000, 100_000, 1_000_000]
PROC_SELF = Path("/proc/self")
RESET_PEAK_RSS = "5"
"""Writing this to /proc/self/clear_refs resets the process's VmHWM (Linux >= 4.0)."""


def _status_mb(field: str) -> float:
    for line in (PROC_SELF / "status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def _release_free_memory() -> None:
    """Return freed heap pages to the OS so the baseline RSS is the live data."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def _size_mb(raw: RawData) -> float:
    """Memory the raw tables hold, strings included."""
    tables = [table for table in vars(raw).values() if isinstance(table, pd.DataFrame)]
    return float(sum(table.memory_usage(deep=True).sum() for table in tables)) / 2**20


def measure_once(customers: int) -> dict:
    """Generate a world of `customers` initial customers, then time build_features once."""
    config = GenerateConfig(customers=customers, months=MONTHS, seed=42)
    churn = ChurnConfig()
    with tempfile.TemporaryDirectory() as tmp:
        world = generate_world(config, horizon_days=churn.horizon_days)
        data_dir = write_world(world, Path(tmp) / "data")
        del world
        _release_free_memory()
        (PROC_SELF / "clear_refs").write_text(RESET_PEAK_RSS)
        started = time.perf_counter()
        raw = load_raw(data_dir)
        load_seconds = time.perf_counter() - started
        load_peak_mb = _status_mb("VmHWM")
    as_of = monthly_as_of_dates(raw)[-1]
    _release_free_memory()
    input_mb = _size_mb(raw)
    before_mb = _status_mb("VmRSS")
    (PROC_SELF / "clear_refs").write_text(RESET_PEAK_RSS)
    started = time.perf_counter()
    features = build_features(raw, as_of, FeatureConfig(), churn)
    seconds = time.perf_counter() - started
    peak_mb = _status_mb("VmHWM")
    return {
        "seconds": seconds,
        "months": MONTHS,
        "rows_customers": len(raw.customers),
        "rows_transactions": len(raw.transactions),
        "rows_surveys": len(raw.surveys),
        "rows_complaints": len(raw.complaints),
        "rows_features": len(features),
        "columns_features": features.shape[1],
        "input_mb": input_mb,
        "rss_before_mb": before_mb,
        "features_peak_rss_mb": peak_mb,
        "features_extra_mb": peak_mb - before_mb,
        "customers_per_second": len(features) / seconds,
        "load_seconds": load_seconds,
        "load_peak_rss_mb": load_peak_mb,
    }


if __name__ == "__main__":
    main("features", SIZES, measure_once)

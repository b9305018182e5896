"""Benchmark features + batch scores with reasons, pandas engine vs Spark local[2].

Run: .venv/bin/python benchmarks/bench_spark.py [--sizes 1000000 5000000] [--engines spark]
[--repeats 1]; each row is saved to results/spark.json as soon as it is measured.
Setup (untimed): a world of N customers and 24 months in benchmarks/.out (N = 5,000,000
is generated in chunks of 1,000,000, zerochurn generate --chunks, since the generator
holds a world in memory) and the champion of bench_serving.py. Timed (`seconds`): what
`zerochurn score DATA_DIR [--engine spark]` does: read and check the raw tables, build
the features, score with reasons, write scores_<date>.parquet and .csv, the snapshot
store and the prediction log (Spark: also the scores dataset partitioned by as_of, and
the session's start and stop). The pandas engine runs only where it fits in memory
(PANDAS_MAX). Memory, sampled every half second over the whole process tree:
`driver_peak_mb` is the driver (the Python process, plus Spark's JVM), `total_peak_mb`
adds Spark's Python workers. `load_1m` is the machine's load average before the run.
Target (issue #18): the same numbers as pandas; Spark holds a base pandas cannot.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

import psutil
from bench_serving import WORLD_DIR, benchmark_world
from harness import RESULTS_DIR, _run_child, machine_info

from zerochurn.configs import Settings, load_settings
from zerochurn.configs.settings import GenerateConfig

SIZES = [1_000_000, 5_000_000]
MONTHS = 24
CHUNK_CUSTOMERS = 1_000_000
ENGINES = ["pandas", "spark"]
PANDAS_MAX = 1_000_000
"""Largest base the pandas engine is run on: 1M peaks near 8 GB, so 5M would need ~40 GB."""
OUT = Path(__file__).resolve().parent / ".out"
SAMPLE_SECONDS = 0.5


def world(size: int) -> Path:
    """The cached data folder of `size` customers.

    Up to CHUNK_CUSTOMERS: one generated world. Above: size / CHUNK_CUSTOMERS chunks of
    the CHUNK_CUSTOMERS world, each with its chunk's id prefix (synthetic.chunks.chunk_ids),
    as part files. `zerochurn generate --chunks` makes chunks of other seeds instead; on
    this machine each takes minutes, and the cost of features and scores is the same.
    """
    folder = OUT / f"spark_world_{size}"
    if (folder / "world.json").is_file():
        return folder
    if size <= CHUNK_CUSTOMERS:
        from zerochurn.synthetic import generate_world, write_world

        config = GenerateConfig(customers=size, months=MONTHS, seed=42)
        write_world(generate_world(config, horizon_days=90), folder)
        return folder
    import pandas as pd

    from zerochurn.io import atomic_directory, write_json, write_table
    from zerochurn.synthetic.chunks import chunk_ids

    source = world(CHUNK_CUSTOMERS)
    chunks = size // CHUNK_CUSTOMERS
    with atomic_directory(folder) as staging:
        for name in ("customers", "transactions", "surveys", "complaints"):
            table = pd.read_parquet(source / f"{name}.parquet")
            for chunk in range(chunks):
                part = staging / f"{name}.parquet" / f"part-{chunk:05d}.parquet"
                write_table(chunk_ids(table, chunk), part)
        write_json({"chunks_of": str(source), "chunks": chunks}, staging / "world.json")
    return folder


def settings_for(engine: str, size: int) -> Settings:
    """A scratch workspace per run, scoring with bench_serving's champion."""
    workspace = OUT / f"spark_bench_{engine}_{size}"
    shutil.rmtree(workspace, ignore_errors=True)
    return load_settings(
        overrides={
            "workspace": str(workspace),
            "mlflow.tracking_uri": f"sqlite:///{(WORLD_DIR / 'mlflow' / 'mlflow.db').resolve()}",
            "engine.name": engine,
            "engine.spark_master": "local[2]",
        },
        environ={},
    )


class PeakMemory:
    """Peak resident memory of this process (+ the JVM) and of its whole tree, sampled."""

    def __init__(self) -> None:
        self.driver = 0.0
        self.total = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            driver = total = me.memory_info().rss
            for child in me.children(recursive=True):
                try:
                    rss = child.memory_info().rss
                    total += rss
                    if child.name() == "java":
                        driver += rss
                except psutil.NoSuchProcess:
                    continue
            self.driver, self.total = max(self.driver, driver), max(self.total, total)
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def run_pandas(settings: Settings, data_dir: Path) -> dict:
    from zerochurn.contract.validate import load_raw
    from zerochurn.serving.batch import now_utc, score_batch, write_batch
    from zerochurn.serving.model import load_from_mlflow

    model = load_from_mlflow(settings)
    started = time.perf_counter()
    raw = load_raw(data_dir)
    loaded = time.perf_counter()
    result = score_batch(raw, raw.end, model, settings, scored_at=now_utc())
    scored = time.perf_counter()
    write_batch(result, model, settings)
    return {
        "customers": len(result.scores),
        "read_seconds": loaded - started,
        "compute_seconds": scored - loaded,
        "write_seconds": time.perf_counter() - scored,
    }


def run_spark(settings: Settings, data_dir: Path) -> dict:
    from zerochurn.serving.batch import now_utc
    from zerochurn.spark.batch import write_spark_batch
    from zerochurn.spark.scoring import load_spark_champion, score_spark
    from zerochurn.spark.session import spark_session

    champion = load_spark_champion(settings)
    started = time.perf_counter()
    with spark_session(settings.engine) as spark:
        ready = time.perf_counter()
        result = score_spark(spark, str(data_dir), settings, scored_at=now_utc(), champion=champion)
        checked = time.perf_counter()
        outputs = write_spark_batch(result, champion.model, settings)
        done = time.perf_counter()
    return {
        "customers": outputs.customers,
        "read_seconds": checked - started,  # session start, read, check, segment retention
        "compute_seconds": done - checked,  # features, scores, all writes
        "write_seconds": 0.0,
        "start_seconds": ready - started,
    }


def measure_once(size: int, engine: str) -> dict:
    data_dir = world(size)
    benchmark_world()  # the champion
    settings = settings_for(engine, size)
    load = os.getloadavg()[0]
    with PeakMemory() as memory:
        started = time.perf_counter()
        figures = (run_spark if engine == "spark" else run_pandas)(settings, data_dir)
        seconds = time.perf_counter() - started
    shutil.rmtree(settings.workspace, ignore_errors=True)
    return {
        "engine": engine,
        "seconds": seconds,
        **{k: v for k, v in figures.items() if v is not None},
        "customers_per_second": figures["customers"] / seconds,
        "driver_peak_mb": memory.driver / 2**20,
        "total_peak_mb": memory.total / 2**20,
        "load_1m": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="benchmark: spark")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=["pandas", "spark"], help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--engines", nargs="+", choices=["pandas", "spark"], default=ENGINES)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure_once(args.child, args.engine)))  # noqa: T201 - read by the parent
        return
    for size in args.sizes:
        world(size)  # generated outside the measured children
        for engine in [e for e in args.engines if e == "spark" or size <= PANDAS_MAX]:
            runs = [
                _run_child(sys.argv[0], size, ["--engine", engine]) for _ in range(args.repeats)
            ]
            row: dict = {"size": size, "repeats": args.repeats}
            for key in runs[0]:
                values = [run.get(key) for run in runs]
                row[key] = values[0] if isinstance(values[0], str) else statistics.median(values)
            print(json.dumps(row), flush=True)
            save(row)


def save(row: dict) -> None:
    """Put `row` into results/spark.json, replacing the row of its size and engine."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / "spark.json"
    kept = json.loads(path.read_text())["rows"] if path.is_file() else []
    kept = [old for old in kept if (old["size"], old["engine"]) != (row["size"], row["engine"])]
    rows = sorted([*kept, row], key=lambda row: (row["size"], row["engine"]))
    payload = {"name": "spark", "machine": machine_info(), "rows": rows}
    path.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""A synthetic world too large for memory: generated and written in chunks of customers.

Each chunk is a world of its own, with the same parameters, drift and calendar but its own
seed (seed, seed + 1, ...) and so its own customers; its customer and complaint ids get the
chunk's prefix (P00-C00000001), so they stay unique across chunks. Every table becomes a
folder of part files, <table>.parquet/part-00000.parquet ..., as Spark writes tables;
Spark and the pandas engine both read such folders. Only one chunk is in memory at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from zerochurn.configs.settings import GenerateConfig
from zerochurn.io import atomic_directory, write_json, write_table
from zerochurn.synthetic.output import GROUND_TRUTH_FILE, WORLD_FILE, describe_world
from zerochurn.synthetic.world import generate_world

ID_COLUMNS = ("customer_id", "complaint_id")
"""Columns whose ids a chunk prefixes."""


def chunk_prefix(chunk: int) -> str:
    """The prefix of chunk `chunk`'s ids, e.g. P03-."""
    return f"P{chunk:02d}-"


def chunk_ids(frame: pd.DataFrame, chunk: int) -> pd.DataFrame:
    """`frame` with chunk `chunk`'s prefix before every id of ID_COLUMNS."""
    prefix = chunk_prefix(chunk)
    ids = {column: prefix + frame[column].astype("str") for column in ID_COLUMNS if column in frame}
    return frame.assign(**ids)


def write_world_in_chunks(
    config: GenerateConfig,
    chunks: int,
    out_dir: Path,
    *,
    horizon_days: int,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write a world of about config.customers customers as `chunks` worlds (module docstring).

    out_dir is replaced whole once every chunk is written. Returns the rows per table.
    """
    if chunks < 1:
        raise ValueError(f"chunks must be at least 1, got {chunks}")
    report = progress if progress is not None else (lambda _message: None)
    size = math.ceil(config.customers / chunks)
    rows: dict[str, int] = {}
    with atomic_directory(Path(out_dir)) as staging:
        for chunk in range(chunks):
            part = config.model_copy(update={"customers": size, "seed": config.seed + chunk})
            world = generate_world(
                part,
                horizon_days=horizon_days,
                progress=lambda message, chunk=chunk: report(
                    f"chunk {chunk + 1} of {chunks}: {message}"
                ),
            )
            tables = {**world.tables, Path(GROUND_TRUTH_FILE).stem: world.ground_truth}
            for name, frame in tables.items():
                target = staging / f"{name}.parquet" / f"part-{chunk:05d}.parquet"
                write_table(chunk_ids(frame, chunk), target)
                rows[name] = rows.get(name, 0) + len(frame)
            description = describe_world(world)
            del world, tables
        description |= {"config": config.model_dump(mode="json"), "chunks": chunks, "rows": rows}
        write_json(description, staging / WORLD_FILE)
    return rows

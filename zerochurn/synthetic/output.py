"""write_world: the tables, ground truth and a description of a World, written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from zerochurn.io import atomic_directory, write_json, write_table
from zerochurn.synthetic.world import World

GROUND_TRUTH_FILE = "ground_truth.parquet"
"""File of the true churn probabilities, beside the raw tables."""

TREATMENT_TRUTH_FILE = "treatment_truth.parquet"
"""File of the true effects of a campaign's retention action (a world with a treatment)."""

WORLD_FILE = "world.json"
"""File describing how the world was made."""


def describe_world(world: World) -> dict[str, Any]:
    """Config, horizon, rows per table and parameters of `world`, as JSON-ready data."""
    rows = {name: len(frame) for name, frame in world.tables.items()}
    return {
        "config": world.config.model_dump(mode="json"),
        "horizon_days": world.horizon_days,
        "rows": rows | {"ground_truth": len(world.ground_truth)},
        "treatment": None
        if world.treatment_truth is None
        else {
            "campaign": str(world.treatment_truth["campaign"].iloc[0]),
            "members": len(world.treatment_truth),
            "treated": int(world.treatment_truth["treated"].sum()),
        },
        "parameters": world.params.model_dump(mode="json"),
    }


def write_world(world: World, out_dir: Path, fmt: Literal["parquet", "csv"] = "parquet") -> Path:
    """Write every table as out_dir/<table>.<fmt>, plus ground_truth.parquet and world.json
    (and treatment_truth.parquet for a world with a treatment).

    out_dir is replaced whole, and only once everything is written: a failure leaves it as
    it was. Returns out_dir.
    """
    out_dir = Path(out_dir)
    with atomic_directory(out_dir) as staging:
        for name, frame in world.tables.items():
            write_table(frame, staging / f"{name}.{fmt}")
        write_table(world.ground_truth, staging / GROUND_TRUTH_FILE)
        if world.treatment_truth is not None:
            write_table(world.treatment_truth, staging / TREATMENT_TRUTH_FILE)
        write_json(describe_world(world), staging / WORLD_FILE)
    return out_dir

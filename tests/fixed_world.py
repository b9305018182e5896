"""Scores of one small fixed world, to prove that a refactoring changes no score.

`fixed_world_scores` generates the world, trains a champion on one thread (so the booster
is the same on every run) and batch-scores the end of the data. The stored fixture
tests/fixtures/fixed_world_scores.parquet was written by this module before a change
that must not move any score; tests/test_scores_unchanged.py compares against it.
Regenerate it only for a change that is meant to move scores, and say so in the commit:

    .venv/bin/python tests/fixed_world.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

from zerochurn.configs import load_settings
from zerochurn.configs.settings import GenerateConfig, Settings
from zerochurn.contract.dataset import RawData
from zerochurn.contract.validate import load_raw
from zerochurn.model.registry import ChampionRegistry, configure
from zerochurn.serving.batch import score_batch
from zerochurn.serving.model import load_from_mlflow
from zerochurn.synthetic import generate_world, write_world
from zerochurn.training.data import build_snapshots
from zerochurn.training.train import train_and_register

FIXTURE = Path(__file__).parent / "fixtures" / "fixed_world_scores.parquet"
SCORED_AT = "2026-01-01T00:00:00+00:00"
VOLATILE = ("model_version", "scored_at")
"""Columns that name the run rather than the score."""


def fixed_world(workspace: Path, fmt: str = "parquet") -> tuple[Settings, RawData]:
    """The fixed world's data in workspace/data (as `fmt` files) with a champion trained on it."""
    settings = load_settings(
        overrides={
            "workspace": str(workspace),
            "training.train_snapshots": 4,
            "training.lightgbm.num_threads": 1,
        },
        environ={},
    )
    world = generate_world(
        GenerateConfig(customers=800, months=13, seed=21), horizon_days=settings.churn.horizon_days
    )
    data_dir = write_world(world, settings.data_dir, fmt=fmt)
    raw = load_raw(data_dir)
    outcome = train_and_register(build_snapshots(raw, settings), settings, data_dir=data_dir)
    if outcome.champion is None:
        registry = ChampionRegistry(configure(settings), settings.mlflow.registered_model)
        registry.promote(outcome.version, reason="fixed world")
    return settings, raw


def fixed_world_scores(workspace: Path) -> pd.DataFrame:
    """Batch scores of the fixed world at the end of its data, without VOLATILE columns."""
    settings, raw = fixed_world(workspace)
    result = score_batch(raw, raw.end, load_from_mlflow(settings), settings, scored_at=SCORED_AT)
    return result.scores.drop(columns=list(VOLATILE))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        scores = fixed_world_scores(Path(folder))
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    scores.to_parquet(FIXTURE, index=False)
    sys.stderr.write(f"wrote {FIXTURE}: {len(scores)} customers\n")

"""Small trained worlds for end-to-end tests: synthetic data and a champion in a workspace.

Test modules import this helper (pytest puts tests/ on sys.path); it is not a test.
"""

from __future__ import annotations

from pathlib import Path

from zerochurn.configs import Settings
from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.validate import load_raw
from zerochurn.model.registry import ChampionRegistry, configure
from zerochurn.synthetic import generate_world, write_world
from zerochurn.training.data import build_snapshots
from zerochurn.training.train import train_and_register


def trained_world(settings: Settings, world: GenerateConfig) -> Path:
    """Write `world` to settings.data_dir and register a champion trained on it; the folder.

    A tiny world may not beat the baseline at the gate: its version is then promoted by hand.
    """
    generated = generate_world(world, horizon_days=settings.churn.horizon_days)
    data_dir = write_world(generated, settings.data_dir)
    snapshots = build_snapshots(load_raw(data_dir), settings)
    outcome = train_and_register(snapshots, settings, data_dir=data_dir)
    if outcome.champion is None:
        registry = ChampionRegistry(configure(settings), settings.mlflow.registered_model)
        registry.promote(outcome.version, reason="test set-up")
    return data_dir

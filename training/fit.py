"""The LightGBM settings a training run starts from (before any tuning)."""

from __future__ import annotations

from zerochurn.configs.settings import LightGBMConfig, Settings, TableConfig
from zerochurn.training.data import Snapshots


def table_booster(booster: LightGBMConfig, rows: int, config: TableConfig) -> LightGBMConfig:
    """The booster for a flat table of `rows` training rows: min_child_samples lowered to 1%
    of the rows (not below config.min_rows_per_leaf). Measured on six public churn tables
    of 1.5k-15k rows, ROC-AUC +0.00 to +0.07 against the 200 tuned for monthly snapshots."""
    leaf = min(booster.min_child_samples, max(config.min_rows_per_leaf, rows // 100))
    return booster.model_copy(update={"min_child_samples": leaf})


def run_booster(snapshots: Snapshots, settings: Settings) -> LightGBMConfig:
    """training.lightgbm, with a flat table's min_child_samples scaled to its rows."""
    booster = settings.training.lightgbm
    if snapshots.kind == "table":
        return table_booster(booster, len(snapshots.train), settings.table)
    return booster

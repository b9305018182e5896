"""`--tune N`: trial i of N with its score, the configured booster first, the best kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zerochurn.configs import load_settings
from zerochurn.contract.table import CustomerTable
from zerochurn.training.data import table_snapshots
from zerochurn.training.development import development
from zerochurn.training.fit import run_booster
from zerochurn.training.tuning import sampled_boosters, search_space, tune_booster

TRIALS = 3


def _table(n: int = 600, seed: int = 0) -> CustomerTable:
    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=(n, 3))
    churned = rng.random(n) < 1 / (1 + np.exp(-(numbers @ np.array([1.0, -0.8, 0.5]) - 1.0)))
    frame = pd.DataFrame(numbers.round(3), columns=["a", "b", "c"])
    frame.insert(0, "customer_id", [f"c{i}" for i in range(n)])
    labels = pd.Series(churned.astype(np.int8), dtype="Int8")
    return CustomerTable(Path("t.csv"), frame, labels, "customer_id", "churned")


def test_tuning_reports_trial_i_of_n_and_keeps_the_best():
    settings = load_settings(
        overrides={"training.selection.folds": 3, "training.selection.repeats": 1}, environ={}
    )
    snapshots = table_snapshots(_table(), settings)
    dev, base = development(snapshots, settings), run_booster(snapshots, settings)
    messages: list[str] = []
    trials: list[tuple[int, object, float]] = []
    booster, fitted = tune_booster(
        dev,
        base,
        settings,
        trials=TRIALS,
        on_trial=lambda number, config, _, auc: trials.append((number, config, auc)),
        progress=messages.append,
    )
    assert [number for number, _, _ in trials] == [1, 2, 3]
    assert trials[0][1] == base  # trial 1 is the configured booster
    assert [m.split(":")[0] for m in messages] == [f"trial {i} of {TRIALS}" for i in (1, 2, 3)]
    aucs = [auc for _, _, auc in trials]
    assert messages[-1].endswith(f"(best {max(aucs):.4f})")
    assert f"validation AUC {aucs[1]:.4f}" in messages[1]
    best = int(np.argmax(aucs))  # ties: the earlier trial
    assert booster == trials[best][1]
    assert fitted.held.shape == (1, len(dev.y))


def test_sampled_boosters_stay_in_the_space_scaled_to_the_rows():
    settings = load_settings(environ={})
    base, rows = settings.training.lightgbm, 1000
    space = search_space(rows)
    drawn = list(sampled_boosters(base, rows, 20, seed=0))
    assert len(drawn) == 20 and drawn == list(sampled_boosters(base, rows, 20, seed=0))
    for booster in drawn:
        for name, distribution in space.items():
            low, high = distribution.support()
            assert low <= getattr(booster, name) <= high, name
        assert booster.learning_rate == base.learning_rate
    assert space["min_child_samples"].support()[1] == 50  # 5% of 1,000 rows

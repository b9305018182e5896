"""Every model family through MLflow: a first training always ends with a champion, and a
champion of any family scores the same after reloading from the registry."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from zerochurn.configs import Settings, load_settings
from zerochurn.contract.table import CustomerTable
from zerochurn.model.pyfunc import ChurnPyfunc
from zerochurn.model.registry import CHAMPION, champion_registry, load_champion
from zerochurn.training import tracking
from zerochurn.training.data import table_snapshots
from zerochurn.training.development import development
from zerochurn.training.fit import run_booster
from zerochurn.training.steps import fit_candidates, model_card
from zerochurn.training.train import train_and_register

pytestmark = pytest.mark.slow

ROWS = 1500


def linear_table(n: int, seed: int) -> CustomerTable:
    """A flat table whose churn log-odds are a sum of smooth effects: the logistic model's
    home ground, where trees need many splits to follow each slope."""
    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=(n, 6))
    plan = rng.choice(["basic", "plus", "pro"], n)
    logit = numbers @ np.array([0.9, -0.7, 0.6, -0.5, 0.4, 0.3]) + 0.5 * (plan == "basic") - 1.0
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(numbers.round(3), columns=[f"x{i}" for i in range(6)]).assign(plan=plan)
    frame.insert(0, "customer_id", [f"c{i}" for i in range(n)])
    labels = pd.Series(churned.astype(np.int8), dtype="Int8")
    return CustomerTable(Path("linear.csv"), frame, labels, "customer_id", "churned")


def _settings(workspace: Path, **overrides: object) -> Settings:
    return load_settings(
        overrides={"workspace": str(workspace), "training.selection.repeats": 1, **overrides},
        environ={},
    )


def test_a_first_training_where_the_baseline_wins_ends_with_a_champion(tmp_path):
    settings = _settings(tmp_path)
    table = linear_table(ROWS, seed=1)
    snapshots = table_snapshots(table, settings)
    outcome = train_and_register(snapshots, settings, data_dir=tmp_path)
    assert outcome.family == "logistic", outcome.selection
    assert outcome.decision.passed and outcome.decision.compared_with == "candidates"
    assert outcome.champion == outcome.version == "1"
    # the candidates are nested runs, the chosen one tagged with the reason
    client = mlflow.MlflowClient(settings.tracking_uri)
    children = client.search_runs(
        [client.get_run(outcome.run_id).info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{outcome.run_id}'",
    )
    by_family = {run.data.tags["candidate.family"]: run for run in children}
    assert set(by_family) == {"lightgbm", "logistic", "blend"}
    for run in children:
        assert run.data.metrics["validation_folds"] == 5
        assert 0.5 < run.data.metrics["validation_roc_auc_mean"] < 1
        assert run.data.metrics["validation_roc_auc_sd"] > 0
        assert "test_roc_auc" in run.data.metrics
    chosen = by_family["logistic"].data.tags
    assert chosen["candidate.chosen"] == "true" and chosen["candidate.reason"] == outcome.selection
    assert by_family["lightgbm"].data.tags["candidate.chosen"] == "false"


def test_a_champion_of_every_family_scores_the_same_after_reloading(tmp_path):
    settings = _settings(tmp_path)
    snapshots = table_snapshots(linear_table(ROWS, seed=2), settings)
    dev = development(snapshots, settings)
    candidates = fit_candidates(dev, snapshots, settings, run_booster(snapshots, settings))
    card = model_card(snapshots, settings, trained_at="2026-01-01T00:00:00+00:00", savings=None)
    registry = champion_registry(settings)
    rows = snapshots.test[snapshots.features]
    for candidate in candidates.candidates:
        with mlflow.start_run():
            uri = tracking.log_churn_model(
                ChurnPyfunc(candidate.model, card), rows.head(5), any_cells=True
            )
        version = registry.register(uri).version
        registry.promote(version, reason=f"test: {candidate.family}")
        champion = load_champion(settings)
        assert champion.model.family == candidate.family
        np.testing.assert_array_equal(
            champion.model.predict_churn(rows), candidate.model.predict_churn(rows)
        )
        np.testing.assert_array_equal(
            champion.model.contributions(rows), candidate.model.contributions(rows)
        )
        served = mlflow.pyfunc.load_model(f"models:/{settings.mlflow.registered_model}@{CHAMPION}")
        scored = served.predict(rows, params={"contributions": True})
        np.testing.assert_array_equal(
            scored["churn_probability"], candidate.model.predict_churn(rows)
        )

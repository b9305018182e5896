"""Training end to end on a small synthetic world with a real MLflow (SQLite) registry."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import zerochurn
from zerochurn.cli import app
from zerochurn.configs import load_settings
from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.validate import load_raw
from zerochurn.model.lifetime import horizon_months, survival_at
from zerochurn.model.registry import (
    CHALLENGER,
    CHAMPION,
    EXPERIMENT_KIND,
    EXPERIMENT_KIND_TAG,
    GIT_COMMIT_TAG,
    REFERENCE_ARTIFACT,
    REFERENCE_FILE,
    VERSION_TAG,
    ChampionRegistry,
    configure,
    load_champion,
)
from zerochurn.synthetic import generate_world, write_world
from zerochurn.training.data import build_snapshots
from zerochurn.training.train import train_and_register

HORIZON_DAYS = 90


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small world on disk, its settings, snapshots and the first trained model."""
    workspace = tmp_path_factory.mktemp("workspace")
    settings = load_settings(
        overrides={"workspace": str(workspace), "training.train_snapshots": 6}, environ={}
    )
    config = GenerateConfig(customers=3000, months=18, seed=3)
    world = generate_world(config, horizon_days=HORIZON_DAYS)
    data_dir = write_world(world, settings.data_dir)
    snapshots = build_snapshots(load_raw(data_dir), settings)
    outcome = train_and_register(
        snapshots, settings, data_dir=data_dir, ground_truth=world.ground_truth
    )
    registry = ChampionRegistry(configure(settings), settings.mlflow.registered_model)
    assert outcome.champion == outcome.version  # the first model is the best candidate
    return settings, data_dir, snapshots, outcome, registry


def test_run_records_everything(world):
    settings, data_dir, _, outcome, _ = world
    client = mlflow.MlflowClient(settings.tracking_uri)
    run = client.get_run(outcome.run_id)
    expected_metrics = {
        f"test_{name}"
        for name in (
            "roc_auc",
            "pr_auc",
            "log_loss",
            "brier",
            "ece",
            "top_decile_lift",
            "recall_at_10",
            "value_captured_top10",
            "oracle_roc_auc",
            "auc_vs_oracle",
            "oracle_expected_roc_auc",
            "expected_auc_vs_oracle",
        )
    } | {"baseline_roc_auc", "baseline_ece"}
    assert expected_metrics <= set(run.data.metrics)
    assert run.data.params["churn.horizon_days"] == str(HORIZON_DAYS)
    assert run.data.params["model.calibration_method"] in ("platt", "isotonic")
    assert run.data.params["model.family"] == run.data.tags["model.family"] == outcome.family
    assert run.data.tags["selection.reason"] == outcome.selection
    assert set(json.loads(run.data.params["booster"])) >= {"num_leaves", "learning_rate"}
    assert run.data.tags["data.sha256.customers.parquet"]
    assert run.data.tags["split.test"]
    contexts = {
        tag.value
        for dataset_input in run.inputs.dataset_inputs
        for tag in dataset_input.tags
        if tag.key == "mlflow.data.context"
    }
    assert contexts == {"train", "calibration", "test"}
    artifacts = {a.path for a in client.list_artifacts(outcome.run_id, "plots")}
    plots = ("roc", "precision_recall", "calibration", "gain", "feature_importance", "shap_summary")
    assert {f"plots/{name}.png" for name in plots} <= artifacts
    top = {a.path for a in client.list_artifacts(outcome.run_id)}
    assert {"config.json", "model_card.json", REFERENCE_ARTIFACT} <= top
    version = client.get_model_version(settings.mlflow.registered_model, outcome.version)
    model_info = mlflow.models.get_model_info(version.source)
    assert model_info.signature is not None and model_info.saved_input_example_info is not None
    assert json.loads(version.tags["gate"])["compared_with"] == "candidates"
    assert 0.0 < run.data.metrics["test_auc_vs_oracle"] <= 1.2
    assert 0.5 < run.data.metrics["test_expected_auc_vs_oracle"] <= 1.0


def test_runs_are_named_and_tagged_and_the_experiment_is_a_model_experiment(world):
    settings, _, snapshots, outcome, _ = world
    client = mlflow.MlflowClient(settings.tracking_uri)
    run = client.get_run(outcome.run_id)
    as_of = max(snapshots.split.test)
    assert run.info.run_name == f"train v{outcome.version} as-of {as_of:%Y-%m-%d}"
    assert run.data.tags[VERSION_TAG] == zerochurn.__version__
    # the tests run from a git checkout of zerochurn: its commit is the run's source
    head = subprocess.run(
        ["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.data.tags[GIT_COMMIT_TAG] == head.stdout.strip()
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND == "custom_model_development"


def test_champion_from_registry_scores_exactly_as_at_training(world):
    settings, _, snapshots, outcome, registry = world
    client = mlflow.MlflowClient(settings.tracking_uri)
    local = Path(
        client.download_artifacts(outcome.run_id, f"{REFERENCE_ARTIFACT}/{REFERENCE_FILE}")
    )
    reference = pd.read_parquet(local)
    champion = load_champion(settings)
    rescored = champion.model.predict_churn(reference[snapshots.features])
    np.testing.assert_array_equal(rescored, reference["churn_probability"].to_numpy())
    through_pyfunc = mlflow.pyfunc.load_model(
        f"models:/{settings.mlflow.registered_model}@{CHAMPION}"
    ).predict(reference[snapshots.features].head(50))
    np.testing.assert_allclose(
        through_pyfunc["churn_probability"], reference["churn_probability"].head(50), rtol=1e-12
    )
    assert str(registry.version(CHAMPION).version) == outcome.version


def test_gate_refuses_a_worse_model_then_promote_and_rollback(world):
    settings, data_dir, snapshots, first, registry = world
    crippled = settings.model_copy(  # only the logistic model, learning from 300 rows
        update={
            "training": settings.training.model_copy(
                update={
                    "candidates": ("logistic",),
                    "logistic": settings.training.logistic.model_copy(update={"max_rows": 300}),
                }
            )
        }
    )
    second = train_and_register(snapshots, crippled, data_dir=data_dir)
    assert not second.decision.passed
    assert second.decision.compared_with == "champion"
    assert str(registry.version(CHAMPION).version) == first.version
    assert str(registry.version(CHALLENGER).version) == second.version

    registry.promote(second.version, reason="test: by hand")
    assert str(registry.version(CHAMPION).version) == second.version
    event = registry.rollback(reason="test: worse in production")
    assert event.version == first.version
    assert str(registry.version(CHAMPION).version) == first.version
    actions = [(e.action, e.version) for e in registry.events()]
    assert actions[-2:] == [("promote", second.version), ("rollback", first.version)]
    summaries = {s.version: s for s in registry.summaries()}
    assert summaries[second.version].champion_periods[0][1] is not None  # ended
    assert summaries[first.version].champion_periods[-1][1] is None  # current


def test_rollback_without_history_is_refused(tmp_path):
    settings = load_settings(overrides={"workspace": str(tmp_path)}, environ={})
    registry = ChampionRegistry(configure(settings), "nothing-here")
    with pytest.raises(ValueError, match="no earlier champion"):
        registry.rollback(reason="test")


def test_models_prints_data_to_stdout_as_a_table_or_json(world):
    settings, _, _, outcome, _ = world
    runner = CliRunner()
    listed = runner.invoke(app, ["--workspace", str(settings.workspace), "models", "--json"])
    assert listed.exit_code == 0, listed.output
    versions = json.loads(listed.stdout)
    (first,) = [entry for entry in versions if entry["version"] == outcome.version]
    assert first["run_id"] == outcome.run_id
    assert first["metrics"]["test_roc_auc"] > 0.5
    (champion,) = [entry for entry in versions if "champion" in entry["aliases"]]
    assert champion["champion_periods"][-1]["to"] is None  # champion until now
    table = runner.invoke(app, ["--workspace", str(settings.workspace), "models"])
    assert f"registered model {settings.mlflow.registered_model}" in table.stdout
    assert table.stderr == ""


def test_survival_model_is_judged_logged_and_agrees_with_the_horizon(world):
    settings, _, snapshots, outcome, _ = world
    assert snapshots.survival is not None, snapshots.survival_skipped
    client = mlflow.MlflowClient(settings.tracking_uri)
    run = client.get_run(outcome.run_id)
    # 18 months leave no room for a churn model before the survival test date to anchor
    # the judged curves to: the model's own curve is judged
    assert run.data.tags["survival.anchor_train"] == ""
    for model in ("hazard_unanchored", "cox", "km_segment"):
        for measure in ("concordance", "auc_3m", "calibration_max_error_3m"):
            assert f"survival_{model}_{measure}" in run.data.metrics
    assert "survival_hazard_unanchored_truth_mae_3m" in run.data.metrics  # vs the generator
    assert 0.5 < run.data.metrics["survival_hazard_unanchored_concordance"] < 1
    assert run.data.tags["survival.test"]
    artifacts = {a.path for a in client.list_artifacts(outcome.run_id, "plots")}
    assert "plots/survival_calibration.png" in artifacts
    assert outcome.survival_metrics == {
        k: v for k, v in run.data.metrics.items() if k.startswith("survival_")
    }

    rows = snapshots.test[snapshots.features].head(50)
    configure(settings)  # other tests of this module point MLflow at their own workspaces
    pyfunc = mlflow.pyfunc.load_model(
        f"models:/{settings.mlflow.registered_model}/{outcome.version}"
    )
    scored = pyfunc.predict(rows, params={"survival": True})
    curve = scored[[f"survival_{t}m" for t in range(1, settings.survival.months + 1)]].to_numpy()
    horizon = horizon_months(HORIZON_DAYS)
    np.testing.assert_allclose(
        1 - survival_at(curve, horizon), scored["churn_probability"], atol=1e-9
    )
    assert (np.diff(curve, axis=1) <= 1e-12).all()
    by_month = scored[[f"churn_month_{t}" for t in range(1, settings.survival.months + 1)]]
    np.testing.assert_allclose(by_month.sum(axis=1), 1 - curve[:, -1], atol=1e-12)
    champion = load_champion(settings)
    assert champion.survival is not None
    # one encoder for both models, so serving encodes a row once
    assert champion.survival.encoder_ is champion.model.encoder

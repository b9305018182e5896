"""Monitoring end to end on small generated worlds, with one trained champion for the module.

The champion learns from 24 months of a world with no drift. The monitored worlds are the
same world (same seed) run 6 months longer, with no drift or with a drift scenario from
the first new month. Training starts after 12 months of history, so the reference rows
have full-length windows, like any later month.

The tests that retrain run last: they may change the champion.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from zerochurn.cli import app
from zerochurn.cli.monitoring import monitor, retrain
from zerochurn.configs import Settings, load_settings
from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.validate import load_raw
from zerochurn.features import build_features
from zerochurn.journal import read_records
from zerochurn.model.registry import CHAMPION, ChampionRegistry, configure
from zerochurn.monitoring.champion import ChampionContext, load_champion_context
from zerochurn.monitoring.current import Retention, current_from_data, current_from_log
from zerochurn.monitoring.errors import MonitoringError
from zerochurn.monitoring.monitor import Outcome, check
from zerochurn.monitoring.precedent import HISTORY_FILE, MONITORING_FOLDER
from zerochurn.monitoring.record import save
from zerochurn.monitoring.tracking import EXPERIMENT_SUFFIX
from zerochurn.serving import prediction_log
from zerochurn.synthetic import generate_world, write_world
from zerochurn.training.data import build_snapshots
from zerochurn.training.train import train_and_register

CUSTOMERS = 2500
SEED = 5
TRAINED_MONTHS = 24
MONITORED_MONTHS = 30
DRIFT_FROM = "2026-01"
HORIZON_DAYS = 90
NO_DRIFT = "none"
SCENARIOS = ("price_increase", "service_outage", "new_segment")
SHIFTED = {
    "price_increase": {"satisfaction_price"},
    "service_outage": {"satisfaction_logistics", "complaints_30d", "complaints_90d"},
    "new_segment": {"segment"},
}
"""Features each scenario moves in the generator (zerochurn/synthetic/drift.py)."""
MOVES_PREDICTIONS = ("service_outage", "new_segment")
"""Scenarios that raise churn risk enough to move the predictions."""
LOGGED_AS_OF = ("2026-02-01", "2026-03-01", "2026-04-01")
"""Monthly batch scores written to the prediction log; labels known from 2026-07-01."""


def utc_now() -> dt.datetime:
    """The time of a check; it also names the run, so no two checks share it."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Lab:
    settings: Settings
    worlds: dict[str, Path]
    champion: ChampionContext


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    workspace = tmp_path_factory.mktemp("monitoring")
    settings = load_settings(
        overrides={
            "workspace": str(workspace),
            "training.train_snapshots": 4,
            "training.min_history_months": 12,
        },
        environ={},
    )
    trained = GenerateConfig(customers=CUSTOMERS, months=TRAINED_MONTHS, seed=SEED)
    data_dir = write_world(generate_world(trained, horizon_days=HORIZON_DAYS), settings.data_dir)
    outcome = train_and_register(
        build_snapshots(load_raw(data_dir), settings), settings, data_dir=data_dir
    )
    if outcome.champion is None:  # a tiny world may not beat the baseline: promote by hand
        ChampionRegistry(configure(settings), settings.mlflow.registered_model).promote(
            outcome.version, reason="test set-up"
        )
    worlds = {}
    for scenario in (NO_DRIFT, *SCENARIOS):
        drift = None if scenario == NO_DRIFT else scenario
        config = trained.model_copy(
            update={
                "months": MONITORED_MONTHS,
                "drift": drift,
                "drift_from": drift and DRIFT_FROM,
            }
        )
        world = generate_world(config, horizon_days=HORIZON_DAYS)
        worlds[scenario] = write_world(world, workspace / f"world-{scenario}")
    return Lab(settings, worlds, load_champion_context(settings))


@pytest.fixture(scope="module")
def checked(lab) -> dict[str, Outcome]:
    """Each monitored world checked at its end (data mode), 6 months after training data."""
    outcomes = {}
    for scenario, folder in lab.worlds.items():
        raw = load_raw(folder)
        current = current_from_data(raw, raw.end, lab.champion, lab.settings)
        outcomes[scenario] = check(lab.champion, current, lab.settings, now=utc_now())
    return outcomes


def test_no_drift_means_no_retraining(lab, checked):
    summary = checked[NO_DRIFT].summary
    assert summary.decision.action == "ok", summary.decision.reasons
    assert not summary.prediction_drift.drift.drifted
    assert summary.data_drift.share < lab.settings.monitoring.drift_share
    assert summary.performance.judged


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_is_detected_by_the_features_it_shifts(checked, scenario):
    drift = checked[scenario].summary.data_drift
    assert SHIFTED[scenario] <= set(drift.drifted)
    assert not SHIFTED[scenario] & set(checked[NO_DRIFT].summary.data_drift.drifted)
    for entry in drift.columns:
        if entry.column in SHIFTED[scenario]:
            assert entry.score >= entry.threshold


@pytest.mark.parametrize("scenario", MOVES_PREDICTIONS)
def test_scenarios_that_move_predictions_call_for_retraining(checked, scenario):
    outcome = checked[scenario]
    assert outcome.decision.action == "retrain"
    assert {c.name for c in outcome.decision.checks if c.fired} >= {"prediction_drift"}
    prediction = outcome.summary.prediction_drift
    assert prediction.current_mean > prediction.reference_mean


def test_summary_compares_performance_with_the_test_metrics(lab, checked):
    performance = checked[NO_DRIFT].summary.performance
    assert performance.as_of == LOGGED_AS_OF  # after the test period, labels known
    assert performance.test_roc_auc == lab.champion.test_metrics["roc_auc"]
    assert performance.auc_drop == pytest.approx(performance.test_roc_auc - performance.roc_auc)
    assert 0.5 < performance.roc_auc < 1.0 and 0.0 <= performance.ece < 0.1


def test_save_writes_the_run_the_history_and_an_mlflow_run(lab, checked):
    settings = lab.settings
    folders = [save(checked[name], settings) for name in (NO_DRIFT, "service_outage")]
    for folder, name in zip(folders, (NO_DRIFT, "service_outage"), strict=True):
        files = {path.name for path in folder.iterdir()}
        assert {"drift.html", "performance.html", "summary.json", "trend.png"} <= files
        assert {"drift.png", "prediction.png", "calibration.png"} <= files
        assert json.loads((folder / "summary.json").read_text())["decision"] == (
            checked[name].decision.action
        )
    history = read_records(settings.workspace / MONITORING_FOLDER / HISTORY_FILE)
    assert [record["decision"] for record in history][-2:] == ["ok", "retrain"]
    client = MlflowClient(settings.tracking_uri)
    experiment = client.get_experiment_by_name(settings.mlflow.experiment + EXPERIMENT_SUFFIX)
    runs = client.search_runs([experiment.experiment_id])
    assert {run.data.tags["decision"] for run in runs} >= {"ok", "retrain"}
    assert "drift_share" in runs[0].data.metrics


def log_batch_scores(lab: Lab, *, version: str) -> None:
    """What the batch job does each month: score everyone active, log features and scores."""
    raw = load_raw(lab.worlds[NO_DRIFT])
    for as_of in LOGGED_AS_OF:
        features = build_features(raw, as_of, lab.settings.features, lab.settings.churn)
        probability = lab.champion.model.predict_churn(features[lab.champion.features])
        prediction_log.append(
            features.assign(churn_probability=probability),
            prediction_log.log_directory(lab.settings.workspace),
            model_version=version,
            source="batch",
        )


def from_log(lab: Lab, raw, settings: Settings | None = None):
    settings = settings or lab.settings
    until = pd.Timestamp(utc_now())
    since = until - pd.Timedelta(days=settings.monitoring.window_days)
    return current_from_log(settings, lab.champion, raw, since=since, until=until)


def test_delayed_labels_flow_into_the_performance_figures(lab):
    log_batch_scores(lab, version=lab.champion.version)
    log_batch_scores(lab, version="another")  # other models' scores are not this model's
    raw = load_raw(lab.worlds[NO_DRIFT])
    early = from_log(lab, raw.cut(pd.Timestamp("2026-05-01")))
    assert len(early.rows) == len(from_log(lab, None).rows) > 0
    assert early.labelled.empty  # no horizon has passed yet
    late = from_log(lab, raw)
    assert sorted(late.labelled["as_of"].dt.strftime("%Y-%m-%d").unique()) == list(LOGGED_AS_OF)
    assert len(late.labelled) == len(late.rows)
    lagged = lab.settings.model_copy(
        update={"monitoring": lab.settings.monitoring.model_copy(update={"label_lag_days": 30})}
    )
    assert late.labelled["as_of"].max() > from_log(lab, raw, lagged).labelled["as_of"].max()

    summaries = [
        check(lab.champion, current, lab.settings, now=utc_now()).summary
        for current in (early, late)
    ]
    assert not summaries[0].performance.judged
    assert summaries[1].performance.judged
    assert summaries[1].performance.rows == len(late.labelled)
    assert summaries[1].current.source == "prediction_log"
    assert summaries[1].decision.action == "ok"


def test_too_few_current_rows_is_an_error(lab):
    empty = from_log(lab, None, lab.settings)
    few = dataclasses.replace(empty, rows=empty.rows.head(10))
    with pytest.raises(
        MonitoringError, match=r"only 10 current rows \(model version .*min_rows=500"
    ):
        check(lab.champion, few, lab.settings, now=utc_now())


def logged_rows(lab: Lab) -> pd.DataFrame:
    """Three of the champion's reference rows, as the service would log them."""
    champion = lab.champion
    return champion.reference[
        ["customer_id", "as_of", *champion.features, "churn_probability"]
    ].head(3)


def log_at(lab: Lab, directory: Path, times: list[pd.Timestamp]) -> None:
    """Log logged_rows(lab) as the champion's scores once at each of `times`."""
    for when in times:
        prediction_log.append(
            logged_rows(lab),
            directory,
            model_version=lab.champion.version,
            source="service",
            scored_at=when,
        )


def test_monitoring_prunes_the_log_before_reading_it_and_says_so(lab, tmp_path):
    # The lab's champion, with a log of its own so the lab's log stays as it is.
    settings = lab.settings.model_copy(update={"workspace": tmp_path})
    directory = prediction_log.log_directory(settings.workspace)
    now = pd.Timestamp.now(tz="UTC")
    today = now.date()
    start = today - dt.timedelta(days=settings.monitoring.log_retention_days)
    log_at(lab, directory, [now - pd.Timedelta(days=1000), now - pd.Timedelta(days=999), now])
    stray = directory / "predictions-old.jsonl.gz"
    stray.write_bytes(b"")
    messages: list[str] = []

    current = current_from_log(
        settings,
        lab.champion,
        None,
        since=now - pd.Timedelta(days=2000),
        until=now + pd.Timedelta(seconds=1),
        report=messages.append,
    )

    assert messages == [f"pruned 2 prediction-log days older than {start:%Y-%m-%d}"]
    assert {path.name for path in directory.iterdir()} == {
        stray.name,
        f"predictions-{today:%Y-%m-%d}.jsonl",
    }
    assert len(current.rows) == 3
    assert current.source.retention == Retention(days=400, kept_from=f"{start:%Y-%m-%d}", pruned=2)
    # the window reached before the retention start: the too-few-rows error names the setting
    with pytest.raises(
        MonitoringError, match=r"min_rows=500; .*monitoring\.log_retention_days=400"
    ):
        check(lab.champion, current, settings, now=now.to_pydatetime())

    again = current_from_log(
        settings,
        lab.champion,
        None,
        since=now - pd.Timedelta(days=30),
        until=now,
        report=messages.append,
    )
    assert len(messages) == 1  # nothing pruned, nothing said
    assert again.note == "" and again.source.retention.pruned == 0


def test_monitoring_without_retention_keeps_the_whole_log(lab, tmp_path):
    settings = lab.settings.model_copy(
        update={
            "workspace": tmp_path,
            "monitoring": lab.settings.monitoring.model_copy(update={"log_retention_days": None}),
        }
    )
    directory = prediction_log.log_directory(settings.workspace)
    now = pd.Timestamp.now(tz="UTC")
    log_at(lab, directory, [now - pd.Timedelta(days=5000), now])
    current = current_from_log(
        settings,
        lab.champion,
        None,
        since=now - pd.Timedelta(days=6000),
        until=now + pd.Timedelta(seconds=1),
    )
    assert len(list(directory.iterdir())) == 2 and len(current.rows) == 6
    assert current.source.retention == Retention(days=None, kept_from=None, pruned=0)
    assert current.note == ""


@pytest.fixture(scope="module")
def cli(lab):
    """The CLI with the monitoring commands, run in the lab's workspace."""
    registered = {command.callback for command in app.registered_commands}
    for command in (monitor, retrain):
        if command not in registered:
            app.command()(command)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["--workspace", str(lab.settings.workspace), *args])

    return invoke


def versions(lab: Lab) -> list[str]:
    client = configure(lab.settings)
    found = client.search_model_versions(f"name='{lab.settings.mlflow.registered_model}'")
    return sorted(version.version for version in found)


def test_monitor_command_reads_the_prediction_log(lab, cli):
    result = cli("monitor")
    assert result.exit_code == 0, result.output
    assert "decision: ok" in result.output
    assert "(prediction_log)" in result.output


def test_monitor_refuses_since_with_a_data_folder(lab, cli):
    result = cli("monitor", str(lab.worlds[NO_DRIFT]), "--since", "2026-01-01")
    assert result.exit_code == 2
    assert "--since" in result.output


def test_monitor_without_a_champion_says_what_to_do(tmp_path):
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path), "monitor"])
    assert result.exit_code == 1
    assert "no champion of model 'zerochurn': train one first" in result.output


def test_retrain_if_needed_does_nothing_without_drift(lab, cli):
    before = versions(lab)
    result = cli("retrain", "--if-needed", str(lab.worlds[NO_DRIFT]))
    assert result.exit_code == 0, result.output
    assert "no retraining needed" in result.output
    assert versions(lab) == before


def test_retrain_if_needed_promotes_the_challenger_only_through_the_gate(lab, cli):
    registry = ChampionRegistry(configure(lab.settings), lab.settings.mlflow.registered_model)
    champion_before = registry.version(CHAMPION).version
    result = cli("retrain", "--if-needed", str(lab.worlds["service_outage"]))
    assert result.exit_code == 0, result.output
    assert "predictions drifted" in result.output
    challenger = max(versions(lab), key=int)
    assert challenger not in (champion_before,)
    gate = json.loads(
        configure(lab.settings)
        .get_model_version(lab.settings.mlflow.registered_model, challenger)
        .tags["gate"]
    )
    expected = challenger if gate["passed"] else champion_before
    assert registry.version(CHAMPION).version == expected
    assert f"champion {'is now' if gate['passed'] else 'stays'} version {expected}" in result.output

"""A monitoring run: the champion's reference against current rows, to a decision.

The current rows come from the prediction log (`current_from_log`) or are built from a
data folder at an as-of date and scored by the champion (`current_from_data`); both also
gather labelled rows: scored after the champion's test period, whose churn horizon (plus
the configured label lag) has passed in the raw data. `check` runs the Evidently reports
and the policy; `save` writes <workspace>/monitoring/<run>/, the history and an MLflow run.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zerochurn.configs.settings import MonitoringConfig, Settings
from zerochurn.contract.dataset import RawData
from zerochurn.features import (
    LABEL_COLUMN,
    build_features,
    build_labels,
    column_spec,
    label_window_days,
    monthly_as_of_dates,
)
from zerochurn.monitoring import prediction_log
from zerochurn.monitoring.policy import Decision, decide
from zerochurn.monitoring.report import Columns, run_report
from zerochurn.monitoring.results import ColumnDrift, read_results
from zerochurn.training.metrics import expected_calibration_error
from zerochurn.training.outputs import PROBABILITY_COLUMN

if TYPE_CHECKING:
    from evidently.core.report import Snapshot
    from matplotlib.figure import Figure

    from zerochurn.training.model import ChurnModel
    from zerochurn.training.pyfunc import ModelCard

MONITORING_FOLDER = "monitoring"
HISTORY_FILE = "history.jsonl"
SUMMARY_FILE = "summary.json"
REPORT_FILES = {"drift": "drift.html", "performance": "performance.html"}
RUN_FORMAT = "%Y%m%dT%H%M%S.%fZ"
SECONDS_PER_DAY = 86_400
KEYS = ["customer_id", "as_of"]
UNMEASURED = "no values"
"""Method shown for a feature that has no value in the current or the reference rows."""
TEST_METRICS = ("roc_auc", "ece")
"""Test-period metrics of the model's training run (logged as test_<name>) compared with."""


class MonitoringError(ValueError):
    """Monitoring cannot run on what it was given; the message says why and what to do."""


@dataclass(frozen=True)
class Champion:
    """The current champion as monitoring needs it.

    reference: its training rows as logged with the model (features, churned,
    churn_probability, customer_id, as_of). test_metrics: roc_auc and ece on its test period.
    """

    name: str
    version: str
    run_id: str
    model: ChurnModel = field(repr=False)
    card: ModelCard
    test_metrics: dict[str, float]
    reference: pd.DataFrame = field(repr=False)

    @property
    def features(self) -> list[str]:
        """Feature columns the model reads, numeric first."""
        return [*self.model.numeric, *self.model.categorical]


@dataclass(frozen=True)
class Current:
    """The rows a monitoring run checks.

    rows: feature columns and churn_probability (customer_id, as_of when known).
    labelled: scored rows whose label is known, with churned 0/1 (possibly none).
    description: where they came from, JSON-ready, for the summary.
    label: the same in a few words, for messages.
    note: why rows may be missing, added to the too-few-rows error ("" when nothing to add).
    """

    rows: pd.DataFrame
    labelled: pd.DataFrame
    description: dict[str, Any]
    label: str
    note: str = ""


@dataclass(frozen=True)
class Outcome:
    """A checked monitoring run, not yet saved."""

    summary: dict[str, Any]
    decision: Decision
    snapshots: dict[str, Snapshot]
    figures: dict[str, Figure]


def load_champion_context(settings: Settings) -> Champion:
    """Model, card, test metrics and reference rows of the registered champion."""
    import mlflow

    from zerochurn.training.registry import CHAMPION, ChampionRegistry
    from zerochurn.training.tracking import REFERENCE_ARTIFACT, REFERENCE_FILE, configure

    client = configure(settings)
    name = settings.mlflow.registered_model
    version = ChampionRegistry(client, name).version(CHAMPION)
    if version is None:
        raise MonitoringError(f"no champion of model {name!r}: train one first (zerochurn train)")
    pyfunc = mlflow.pyfunc.load_model(f"models:/{name}/{version.version}").unwrap_python_model()
    logged = client.get_run(version.run_id).data.metrics
    missing = [f"test_{metric}" for metric in TEST_METRICS if f"test_{metric}" not in logged]
    if missing:
        raise MonitoringError(f"training run {version.run_id} has no metrics {missing}")
    with tempfile.TemporaryDirectory() as folder:
        path = client.download_artifacts(
            version.run_id, f"{REFERENCE_ARTIFACT}/{REFERENCE_FILE}", folder
        )
        reference = pd.read_parquet(path)
    return Champion(
        name=name,
        version=str(version.version),
        run_id=version.run_id,
        model=pyfunc.model,
        card=pyfunc.card,
        test_metrics={metric: logged[f"test_{metric}"] for metric in TEST_METRICS},
        reference=reference,
    )


def _check_churn_definition(champion: Champion, settings: Settings) -> None:
    """Labels must mean what they meant when the champion was trained."""
    window = label_window_days(settings.churn)
    card = champion.card
    if (card.churn_definition, card.horizon_days) != (settings.churn.definition, window):
        raise MonitoringError(
            f"model version {champion.version} predicts churn '{card.churn_definition}' within "
            f"{card.horizon_days} days, but the configuration says '{settings.churn.definition}' "
            f"within {window} days: monitor with the model's churn settings"
        )


def _label_known_until(raw: RawData, champion: Champion, config: MonitoringConfig) -> pd.Timestamp:
    """Latest as-of date whose label is known in `raw`: horizon and label lag have passed."""
    return raw.end - pd.Timedelta(days=champion.card.horizon_days + config.label_lag_days)


def _labelled(
    scored: pd.DataFrame, raw: RawData, champion: Champion, settings: Settings
) -> pd.DataFrame:
    """Scored rows after the champion's test period whose label is known, with churned 0/1.

    `scored` needs customer_id and as_of; one row per customer and date is kept (the last).
    """
    _check_churn_definition(champion, settings)
    after = pd.Timestamp(max(champion.card.test_as_of))
    until = _label_known_until(raw, champion, settings.monitoring)
    scored = scored[(scored["as_of"] > after) & (scored["as_of"] <= until)]
    scored = scored.drop_duplicates(KEYS, keep="last")
    dates = sorted(scored["as_of"].unique())
    if not dates:
        return scored.assign(**{LABEL_COLUMN: pd.Series(dtype="int64")})
    labels = pd.concat([build_labels(raw, date, settings.churn) for date in dates])
    labels = labels[labels[LABEL_COLUMN].notna()]
    joined = scored.merge(labels.astype({"as_of": scored["as_of"].dtype}), on=KEYS)
    return joined.assign(**{LABEL_COLUMN: joined[LABEL_COLUMN].astype("int64")})


def _without_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """No rows of `frame`, with an empty churned column: nothing is labelled yet."""
    return frame.iloc[:0].assign(**{LABEL_COLUMN: pd.Series(dtype="int64")})


def _score(frame: pd.DataFrame, champion: Champion) -> pd.DataFrame:
    probability = champion.model.predict_churn(frame[champion.features])
    return frame.assign(**{PROBABILITY_COLUMN: probability})


def current_from_data(
    raw: RawData, as_of: pd.Timestamp, champion: Champion, settings: Settings
) -> Current:
    """Features of every customer active at `as_of`, scored by the champion.

    Labelled rows: the latest ``monitoring.performance_snapshots`` monthly as-of dates
    after the champion's test period, and not after `as_of`, whose labels are known.
    """
    as_of = pd.Timestamp(as_of)

    def scored(date: pd.Timestamp) -> pd.DataFrame:
        return _score(build_features(raw, date, settings.features, settings.churn), champion)

    rows = scored(as_of)
    after = pd.Timestamp(max(champion.card.test_as_of))
    last = min(as_of, _label_known_until(raw, champion, settings.monitoring))
    months = monthly_as_of_dates(raw, min_history_months=settings.training.min_history_months)
    dates = [date for date in months if after < date <= last]
    dates = dates[-settings.monitoring.performance_snapshots :]
    past = (
        pd.concat([scored(date) for date in dates], ignore_index=True) if dates else rows.iloc[:0]
    )
    return Current(
        rows=rows,
        labelled=_labelled(past, raw, champion, settings),
        description={
            "source": "data",
            "as_of": [f"{as_of:%Y-%m-%d}"],
            "period": f"{as_of:%Y-%m-%d}",
        },
        label=f"customers active at {as_of:%Y-%m-%d}",
    )


def prune_log(
    settings: Settings,
    *,
    today: dt.date | None = None,
    report: Callable[[str], None] | None = None,
) -> list[Path]:
    """Apply monitoring.log_retention_days to the prediction log; return the deleted files.

    Deletes the day files older than the retention before `today` (UTC, default now) and,
    when any went, tells `report` how many. Monitoring runs call it (`current_from_log`
    does, before reading); the service never does, so its requests pay nothing for it.
    """
    days = settings.monitoring.log_retention_days
    today = dt.datetime.now(dt.UTC).date() if today is None else today
    directory = prediction_log.log_directory(settings.workspace)
    pruned = prediction_log.prune(directory, days, today=today)
    if pruned and report is not None:
        start = prediction_log.retention_start(days, today)
        report(f"pruned {len(pruned)} prediction-log days older than {start:%Y-%m-%d}")
    return pruned


def current_from_log(
    settings: Settings,
    champion: Champion,
    raw: RawData | None,
    *,
    since: pd.Timestamp,
    until: pd.Timestamp,
    report: Callable[[str], None] | None = None,
) -> Current:
    """Rows the champion scored in [since, until) according to the prediction log.

    First prunes the log to monitoring.log_retention_days (`prune_log`; `report` hears
    what was deleted). Labelled rows: every logged row of the champion, whenever it was
    scored, that has customer_id and as_of and whose label `raw` knows (none without `raw`).
    """
    today = dt.datetime.now(dt.UTC).date()
    pruned = prune_log(settings, today=today, report=report)
    days = settings.monitoring.log_retention_days
    kept_from = prediction_log.retention_start(days, today)
    note = ""
    if kept_from is not None and since < pd.Timestamp(kept_from, tz="UTC"):
        note = (
            f"; the prediction log keeps no day before {kept_from:%Y-%m-%d} "
            f"(monitoring.log_retention_days={days})"
        )
    directory = prediction_log.log_directory(settings.workspace)
    trained = pd.Timestamp(champion.card.trained_at)
    logged = prediction_log.read(directory, since=min(trained, since), until=until)
    mine = logged[logged[prediction_log.MODEL_VERSION] == champion.version]
    rows = mine[mine[prediction_log.SCORED_AT] >= since]
    if raw is not None and set(KEYS) <= set(mine.columns):
        labelled = _labelled(mine.dropna(subset=KEYS), raw, champion, settings)
    else:
        labelled = _without_labels(mine)
    as_of = sorted(rows["as_of"].dropna().unique()) if "as_of" in rows else []
    return Current(
        rows=rows,
        labelled=labelled,
        description={
            "source": "prediction_log",
            "log_dir": str(directory),
            "since": since.isoformat(),
            "until": until.isoformat(),
            "as_of": [f"{date:%Y-%m-%d}" for date in as_of],
            "period": f"{(as_of[-1] if as_of else until):%Y-%m-%d}",
            "retention": {
                "days": days,
                "kept_from": None if kept_from is None else f"{kept_from:%Y-%m-%d}",
                "pruned": len(pruned),
            },
        },
        label=f"model version {champion.version}'s prediction log rows scored from "
        f"{since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC",
        note=note,
    )


def _dates(frame: pd.DataFrame) -> list[str]:
    """The distinct as-of dates of `frame` as ISO days; none for flat-table rows."""
    if "as_of" not in frame or frame.empty:
        return []
    return [f"{date:%Y-%m-%d}" for date in sorted(frame["as_of"].dropna().unique())]


def _reference_rows(champion: Champion, snapshots: int | None) -> pd.DataFrame:
    """The reference rows of the champion's latest `snapshots` training as-of dates.

    A model trained on a flat table has no as-of dates: all its reference rows count.
    """
    reference = champion.reference
    if snapshots is None or "as_of" not in reference:
        return reference
    latest = sorted(reference["as_of"].unique())[-snapshots:]
    return reference[reference["as_of"].isin(latest)]


def _feature_drift(
    rows: pd.DataFrame, reference: pd.DataFrame, champion: Champion, config: MonitoringConfig
) -> tuple[dict[str, ColumnDrift], ColumnDrift, Snapshot]:
    """Drift of each feature and of the prediction, and the Evidently snapshot.

    A feature without any value in one of the frames cannot be measured: it counts as
    drifted when it has values in the other frame.
    """
    features = champion.features
    missing = [name for name in [*features, PROBABILITY_COLUMN] if name not in rows.columns]
    if missing:
        raise MonitoringError(
            f"the current rows lack columns {missing} that model version {champion.version} reads"
        )
    blank = {name: (rows[name].isna().all(), reference[name].isna().all()) for name in features}
    unmeasured = {
        name: ColumnDrift(name, UNMEASURED, None, None, drifted=in_current != in_reference)
        for name, (in_current, in_reference) in blank.items()
        if in_current or in_reference
    }
    columns = Columns(
        numeric=tuple(name for name in champion.model.numeric if name not in unmeasured),
        categorical=tuple(name for name in champion.model.categorical if name not in unmeasured),
    )
    snapshot = run_report(current=rows, reference=reference, columns=columns, config=config)
    measured = read_results(snapshot.dict()).drift
    drift = {name: unmeasured.get(name) or measured[name] for name in features}
    return drift, measured[PROBABILITY_COLUMN], snapshot


def _severity(drift: ColumnDrift) -> float:
    """How far past its threshold a column is; an unmeasured drifted column ranks first."""
    if drift.score is None or drift.threshold is None:
        return np.inf if drift.drifted else 0.0
    return drift.score / drift.threshold


def _drift_entry(drift: ColumnDrift) -> dict[str, Any]:
    return {
        "method": drift.method,
        "score": drift.score,
        "threshold": drift.threshold,
        "drifted": drift.drifted,
    }


def _data_drift_summary(ranked: list[ColumnDrift], config: MonitoringConfig) -> dict[str, Any]:
    """The data_drift block of summary.json from the features' drift, most drifted first."""
    drifted = [entry.column for entry in ranked if entry.drifted]
    groups: dict[str, dict[str, int]] = {}
    for entry in ranked:
        counts = groups.setdefault(column_spec(entry.column).group, {"features": 0, "drifted": 0})
        counts["features"] += 1
        counts["drifted"] += int(entry.drifted)
    return {
        "features": len(ranked),
        "drifted": drifted,
        "share": len(drifted) / len(ranked),
        "threshold": config.drift_share,
        "groups": groups,
        "columns": {
            entry.column: {"group": column_spec(entry.column).group} | _drift_entry(entry)
            for entry in ranked
        },
    }


def _performance(
    labelled: pd.DataFrame, champion: Champion, config: MonitoringConfig
) -> tuple[dict[str, Any], Snapshot | None]:
    """ROC-AUC, ECE and more of the labelled rows against the champion's test figures."""
    y = labelled[LABEL_COLUMN].to_numpy()
    churners = int(y.sum())
    figures: dict[str, Any] = {
        "rows": len(labelled),
        "churners": churners,
        "as_of": _dates(labelled),
        "test_roc_auc": champion.test_metrics["roc_auc"],
        "test_ece": champion.test_metrics["ece"],
    }
    if min(churners, len(y) - churners) < config.min_labelled_churners:
        return figures | {"judged": False}, None
    snapshot = run_report(
        current=labelled, reference=None, columns=Columns(label=LABEL_COLUMN), config=config
    )
    results = read_results(snapshot.dict())
    auc = results.scores["roc_auc"]
    ece = expected_calibration_error(y, labelled[PROBABILITY_COLUMN].to_numpy())
    return figures | {
        "judged": True,
        "roc_auc": auc,
        "ece": ece,
        "log_loss": results.scores["log_loss"],
        "mean_probability": results.means[PROBABILITY_COLUMN],
        "churn_rate": results.means[LABEL_COLUMN],
        "auc_drop": champion.test_metrics["roc_auc"] - auc,
        "ece_change": ece - champion.test_metrics["ece"],
    }, snapshot


def check(champion: Champion, current: Current, settings: Settings, *, now: dt.datetime) -> Outcome:
    """Run the drift and performance reports and the retraining policy on `current`.

    `now` (UTC) names the run and dates the model's age.
    """
    from zerochurn.monitoring import plots
    from zerochurn.training.plots import calibration_figure

    config = settings.monitoring
    if len(current.rows) < config.min_rows:
        raise MonitoringError(
            f"only {len(current.rows)} current rows ({current.label}): expected at least "
            f"monitoring.min_rows={config.min_rows}{current.note}"
        )
    reference = _reference_rows(champion, config.reference_snapshots)
    drift, prediction, drift_snapshot = _feature_drift(current.rows, reference, champion, config)
    ranked = sorted(drift.values(), key=_severity, reverse=True)
    performance, performance_snapshot = _performance(current.labelled, champion, config)
    trained_at = dt.datetime.fromisoformat(champion.card.trained_at)
    age_days = (now - trained_at).total_seconds() / SECONDS_PER_DAY
    decision = decide(
        drifted_features=[entry.column for entry in ranked if entry.drifted],
        n_features=len(ranked),
        prediction=prediction,
        auc=performance.get("roc_auc"),
        test_auc=champion.test_metrics["roc_auc"],
        ece=performance.get("ece"),
        test_ece=champion.test_metrics["ece"],
        model_age_days=age_days,
        config=config,
    )
    snapshots = {"drift": drift_snapshot}
    if performance_snapshot is not None:
        snapshots["performance"] = performance_snapshot
    summary = {
        "run": now.strftime(RUN_FORMAT),
        "created_at": now.isoformat(timespec="seconds"),
        "decision": decision.action,
        "reasons": list(decision.reasons),
        "checks": [asdict(rule) for rule in decision.checks],
        "model": {
            "name": champion.name,
            "version": champion.version,
            "run_id": champion.run_id,
            "trained_at": champion.card.trained_at,
            "age_days": age_days,
        },
        "current": current.description | {"rows": len(current.rows)},
        "reference": {
            "rows": len(reference),
            "as_of": _dates(reference),
        },
        "data_drift": _data_drift_summary(ranked, config),
        "prediction_drift": _drift_entry(prediction)
        | {
            "column": PROBABILITY_COLUMN,
            "reference_mean": float(reference[PROBABILITY_COLUMN].mean()),
            "current_mean": float(current.rows[PROBABILITY_COLUMN].mean()),
        },
        "performance": performance,
        "reports": {kind: REPORT_FILES[kind] for kind in snapshots},
    }
    figures = {
        "drift": plots.drift_figure(
            summary["data_drift"]["columns"] | {PROBABILITY_COLUMN: _drift_entry(prediction)}
        ),
        "prediction": plots.prediction_figure(
            reference[PROBABILITY_COLUMN].to_numpy(), current.rows[PROBABILITY_COLUMN].to_numpy()
        ),
    }
    if performance["judged"]:
        figures["calibration"] = calibration_figure(
            current.labelled[LABEL_COLUMN].to_numpy(),
            {f"version {champion.version}": current.labelled[PROBABILITY_COLUMN].to_numpy()},
        )
    return Outcome(summary, decision, snapshots, figures)


HISTORY_THRESHOLDS: dict[str, Callable[[MonitoringConfig], float]] = {
    "drift_share": lambda config: config.drift_share,
    "prediction_drift": lambda config: config.prediction_threshold,
    "auc_drop": lambda config: config.auc_drop,
    "ece_change": lambda config: config.ece_rise,
}
"""History columns drawn in the trend figure, with the policy threshold of each."""


def history_record(summary: dict[str, Any]) -> dict[str, Any]:
    """The line a run adds to history.jsonl: its headline numbers, for trend charts."""
    performance = summary["performance"]
    return {
        "run": summary["run"],
        "created_at": summary["created_at"],
        "period": summary["current"]["period"],
        "source": summary["current"]["source"],
        "model_version": summary["model"]["version"],
        "model_age_days": summary["model"]["age_days"],
        "rows": summary["current"]["rows"],
        "drift_share": summary["data_drift"]["share"],
        "drifted_features": len(summary["data_drift"]["drifted"]),
        "prediction_drift": summary["prediction_drift"]["score"],
        "roc_auc": performance.get("roc_auc"),
        "ece": performance.get("ece"),
        "auc_drop": performance.get("auc_drop"),
        "ece_change": performance.get("ece_change"),
        "decision": summary["decision"],
    }


def save(outcome: Outcome, settings: Settings) -> Path:
    """Write the run folder, add the run to the history, log it to MLflow; return the folder.

    <workspace>/monitoring/<run>/ gets drift.html (and performance.html when labels were
    judged), summary.json and the figures as PNG, trend.png included;
    <workspace>/monitoring/history.jsonl gets one line per run.
    """
    import matplotlib.pyplot as plt

    from zerochurn.io import atomic_directory, write_json
    from zerochurn.monitoring.journal import append_record, read_records
    from zerochurn.monitoring.plots import trend_figure
    from zerochurn.monitoring.tracking import log_monitoring_run

    root = settings.workspace / MONITORING_FOLDER
    history_path = root / HISTORY_FILE
    record = history_record(outcome.summary)
    history = read_records(history_path) if history_path.is_file() else []
    trend = pd.DataFrame([*history, record])
    trend = trend.assign(period=pd.to_datetime(trend["period"])).astype(
        {name: float for name in HISTORY_THRESHOLDS}
    )
    thresholds = {name: rule(settings.monitoring) for name, rule in HISTORY_THRESHOLDS.items()}
    figures = outcome.figures | {"trend": trend_figure(trend, thresholds)}
    folder = root / outcome.summary["run"]
    if folder.exists():
        raise MonitoringError(f"{folder} exists: a monitoring run is never overwritten")
    with atomic_directory(folder) as staging:
        for kind, snapshot in outcome.snapshots.items():
            snapshot.save_html(str(staging / REPORT_FILES[kind]))
        for name, figure in figures.items():
            figure.savefig(staging / f"{name}.png")
            plt.close(figure)
        write_json(outcome.summary, staging / SUMMARY_FILE)
    append_record(history_path, record)
    numbers = {
        name: float(value)
        for name, value in record.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    log_monitoring_run(
        settings,
        outcome.summary,
        metrics=numbers | {"retrain": float(outcome.decision.action == "retrain")},
        artifacts=[folder / f"{name}.png" for name in figures] + [folder / SUMMARY_FILE],
    )
    return folder

"""The rows a monitoring run checks: from the prediction log, or built from a data folder.

`current_from_log` reads what the champion scored in a window of the prediction log
(serving/prediction_log.py), after applying the log's retention (`prune_log`);
`current_from_data` builds the features of a data folder at an as-of date and scores
them with the champion. Both also gather labelled rows: scored after the champion's test
period, whose churn horizon (plus the configured label lag) has passed in the raw data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from zerochurn.configs.settings import MonitoringConfig, Settings
from zerochurn.contract.dataset import RawData
from zerochurn.features.build import LABEL_COLUMN, build_features, build_labels, monthly_as_of_dates
from zerochurn.features.population import label_window_days
from zerochurn.model.outputs import PROBABILITY_COLUMN
from zerochurn.monitoring.champion import ChampionContext
from zerochurn.monitoring.errors import MonitoringError
from zerochurn.serving import prediction_log

KEYS = ["customer_id", "as_of"]


@dataclass(frozen=True)
class DataSource:
    """Current rows built from a data folder: the customers active at `as_of` (ISO day)."""

    source: ClassVar[str] = "data"
    as_of: str

    @property
    def period(self) -> str:
        """The day the rows describe."""
        return self.as_of

    @property
    def as_of_days(self) -> tuple[str, ...]:
        """The as-of days of the rows: the one."""
        return (self.as_of,)

    def to_json(self) -> dict[str, Any]:
        """The "current" block of summary.json, without its row count."""
        return {"source": self.source, "as_of": [self.as_of], "period": self.period}


@dataclass(frozen=True)
class Retention:
    """How the prediction log's retention was applied before reading it.

    days: monitoring.log_retention_days (None keeps all); kept_from: the oldest day kept;
    pruned: day files deleted by this run.
    """

    days: int | None
    kept_from: str | None
    pruned: int


@dataclass(frozen=True)
class LogSource:
    """Current rows read from the prediction log: scored in [since, until), ISO times.

    as_of: the distinct as-of days of the rows; period: the latest of them (else until's day).
    """

    source: ClassVar[str] = "prediction_log"
    log_dir: str
    since: str
    until: str
    as_of: tuple[str, ...]
    period: str
    retention: Retention

    @property
    def as_of_days(self) -> tuple[str, ...]:
        """The distinct as-of days of the rows."""
        return self.as_of

    def to_json(self) -> dict[str, Any]:
        """The "current" block of summary.json, without its row count."""
        return {
            "source": self.source,
            "log_dir": self.log_dir,
            "since": self.since,
            "until": self.until,
            "as_of": list(self.as_of),
            "period": self.period,
            "retention": asdict(self.retention),
        }


@dataclass(frozen=True)
class Current:
    """The rows a monitoring run checks.

    rows: feature columns and churn_probability (customer_id, as_of when known).
    labelled: scored rows whose label is known, with churned 0/1 (possibly none).
    source: where they came from, for the summary.
    label: the same in a few words, for messages.
    note: why rows may be missing, added to the too-few-rows error ("" when nothing to add).
    """

    rows: pd.DataFrame
    labelled: pd.DataFrame
    source: DataSource | LogSource
    label: str
    note: str = ""


def as_of_days(frame: pd.DataFrame) -> tuple[str, ...]:
    """The distinct as-of dates of `frame` as ISO days; none for flat-table rows."""
    if "as_of" not in frame or frame.empty:
        return ()
    return tuple(f"{date:%Y-%m-%d}" for date in sorted(frame["as_of"].dropna().unique()))


def _check_churn_definition(champion: ChampionContext, settings: Settings) -> None:
    """Labels must mean what they meant when the champion was trained."""
    window = label_window_days(settings.churn)
    card = champion.card
    if (card.churn_definition, card.horizon_days) != (settings.churn.definition, window):
        raise MonitoringError(
            f"model version {champion.version} predicts churn '{card.churn_definition}' within "
            f"{card.horizon_days} days, but the configuration says '{settings.churn.definition}' "
            f"within {window} days: monitor with the model's churn settings"
        )


def _label_known_until(
    raw: RawData, champion: ChampionContext, config: MonitoringConfig
) -> pd.Timestamp:
    """Latest as-of date whose label is known in `raw`: horizon and label lag have passed."""
    return raw.end - pd.Timedelta(days=champion.card.horizon_days + config.label_lag_days)


def _labelled(
    scored: pd.DataFrame, raw: RawData, champion: ChampionContext, settings: Settings
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


def _score(frame: pd.DataFrame, champion: ChampionContext) -> pd.DataFrame:
    probability = champion.model.predict_churn(frame[champion.features])
    return frame.assign(**{PROBABILITY_COLUMN: probability})


def current_from_data(
    raw: RawData, as_of: pd.Timestamp, champion: ChampionContext, settings: Settings
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
        source=DataSource(as_of=f"{as_of:%Y-%m-%d}"),
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
    champion: ChampionContext,
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
        source=LogSource(
            log_dir=str(directory),
            since=since.isoformat(),
            until=until.isoformat(),
            as_of=tuple(f"{date:%Y-%m-%d}" for date in as_of),
            period=f"{(as_of[-1] if as_of else until):%Y-%m-%d}",
            retention=Retention(
                days=days,
                kept_from=None if kept_from is None else f"{kept_from:%Y-%m-%d}",
                pruned=len(pruned),
            ),
        ),
        label=f"model version {champion.version}'s prediction log rows scored from "
        f"{since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC",
        note=note,
    )

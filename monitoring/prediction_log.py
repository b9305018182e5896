"""The prediction log: every churn score the service or the batch job returned, kept durably.

Layout: ``<workspace>/predictions/predictions-YYYY-MM-DD.jsonl``, one file per UTC day of
scoring. Each line is one `append` call (a batch), written through monitoring.journal:
an append that returned is on disk, and a batch is whole or absent, even if the writing
process is killed. Several processes may append at once. One line::

    {"scored_at": "2026-01-05T10:00:00.123456+00:00", "model_version": "3",
     "source": "batch", "rows": 2, "dates": ["as_of"],
     "columns": {"customer_id": ["C1", "C2"],
                 "as_of": ["2026-01-01T00:00:00", "2026-01-01T00:00:00"],
                 "region": ["north", null], ..., "churn_probability": [0.031, 0.2]}}

Values are stored column by column; missing values are null and datetime columns
ISO-8601 strings named in "dates". docs/monitoring.md describes the format.

Retention: `prune` deletes whole day files older than a number of days before today
(monitoring.log_retention_days); monitoring runs apply it, the service never does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from zerochurn.features.table import FEW_ROWS
from zerochurn.monitoring.journal import append_record, read_records
from zerochurn.training.outputs import PROBABILITY_COLUMN

LOG_FOLDER = "predictions"
FILE_PREFIX = "predictions-"
FILE_SUFFIX = ".jsonl"
DAY_FORMAT = "%Y-%m-%d"
DAY_FILE = re.compile(rf"{re.escape(FILE_PREFIX)}(\d{{4}}-\d{{2}}-\d{{2}}){re.escape(FILE_SUFFIX)}")
"""Name of a day file, predictions-YYYY-MM-DD.jsonl; the group is the UTC day."""

SCORED_AT = "scored_at"
MODEL_VERSION = "model_version"
SOURCE = "source"
METADATA_COLUMNS = (SCORED_AT, MODEL_VERSION, SOURCE)
"""Columns `read` adds to every row; a logged frame must not have them."""

Source = Literal["service", "batch"]
"""Who scored: the online service or the batch scoring job."""

TimeLike = pd.Timestamp | dt.datetime | dt.date | str


LOGGED_OUTPUTS = ("churn_probability", "churn_index", "risk_tier", "value_at_risk")
"""Score outputs logged beside the features. The score's customer_value is left out: the
feature of that name (value at the segment's retention) is logged and would clash."""


def log_directory(workspace: Path) -> Path:
    """The prediction log folder of a workspace."""
    return Path(workspace) / LOG_FOLDER


def _utc(moment: TimeLike) -> pd.Timestamp:
    """`moment` as a UTC timestamp; naive times are taken to be UTC already."""
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _is_missing(value: object) -> bool:
    """Whether one cell is missing as pandas' notna sees it (None, NaN, NA, NaT)."""
    return value is None or value is pd.NA or value is pd.NaT or value != value


def _column_values(series: pd.Series) -> list[Any]:
    """JSON-ready values of one column: None for missing, ISO-8601 text for datetimes."""
    present = series.notna()
    if pd.api.types.is_datetime64_any_dtype(series):
        return [
            value.isoformat() if ok else None for value, ok in zip(series, present, strict=True)
        ]
    return series.astype(object).where(present, None).tolist()


def _json_columns(frame: pd.DataFrame, dates: list[str]) -> dict[str, list[Any]]:
    """_column_values of every column of `frame`; `dates` names its datetime columns.

    A service request's few rows go through one object matrix: per-column pandas work
    would cost a millisecond for 60 columns, the matrix 40 us.
    """
    if len(frame) > FEW_ROWS:
        return {str(name): _column_values(frame[name]) for name in frame.columns}
    matrix = frame.to_numpy(dtype=object)
    return {
        str(name): [
            None if _is_missing(value) else value.isoformat() if str(name) in dates else value
            for value in matrix[:, j]
        ]
        for j, name in enumerate(frame.columns)
    }


def append(
    frame: pd.DataFrame,
    directory: Path,
    *,
    model_version: str,
    source: Source,
    scored_at: TimeLike | None = None,
) -> Path:
    """Append the scored rows of `frame` to the log as one batch; return the day file.

    Returns only once the batch is on disk (fsync'd). `frame` holds one row per score:
    ``churn_probability`` and whatever else was scored -- customer_id and as_of (needed
    to join labels later), the feature columns, other outputs. Values may be numbers,
    strings, booleans or datetimes.

    Parameters
    ----------
    frame : the scored rows
    directory : the log folder, `log_directory(settings.workspace)`
    model_version : registered version of the model that scored, e.g. "3"
    source : "service" or "batch"
    scored_at : when the scores were returned; now (UTC) when None, naive means UTC
    """
    if PROBABILITY_COLUMN not in frame.columns:
        raise ValueError(f"frame has no {PROBABILITY_COLUMN!r} column: expected the scores")
    clashes = sorted(set(METADATA_COLUMNS) & set(map(str, frame.columns)))
    if clashes:
        raise ValueError(f"frame has columns {clashes}: reserved for the log's own metadata")
    if not frame.columns.is_unique:
        raise ValueError(f"frame has repeated column names: {list(frame.columns)}")
    if source not in get_args(Source):
        raise ValueError(f"source={source!r}: expected one of {get_args(Source)}")
    if not model_version:
        raise ValueError("model_version is empty: expected the registered model version")
    when = _utc(pd.Timestamp.now(tz="UTC") if scored_at is None else scored_at)
    dates = [
        str(name)
        for name, dtype in frame.dtypes.items()
        if pd.api.types.is_datetime64_any_dtype(dtype)
    ]
    record = {
        SCORED_AT: when.isoformat(),
        MODEL_VERSION: str(model_version),
        SOURCE: source,
        "rows": len(frame),
        "dates": dates,
        "columns": _json_columns(frame, dates),
    }
    path = Path(directory) / f"{FILE_PREFIX}{when.strftime(DAY_FORMAT)}{FILE_SUFFIX}"
    append_record(path, record)
    return path


def file_day(name: str) -> dt.date | None:
    """The UTC day of a day file's name; None when `name` is not one the log writes."""
    match = DAY_FILE.fullmatch(name)
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match[1])
    except ValueError:  # e.g. predictions-2026-02-30.jsonl
        return None


def _day_files(
    directory: Path, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> Iterator[Path]:
    """Day files whose day can hold rows scored in [start, end), oldest first."""
    for path in sorted(Path(directory).glob(f"{FILE_PREFIX}*{FILE_SUFFIX}")):
        day = file_day(path.name)
        if day is None:
            raise ValueError(
                f"{path}: not a prediction log file name: expected "
                f"{FILE_PREFIX}YYYY-MM-DD{FILE_SUFFIX}"
            )
        if (start is None or day >= start.date()) and (end is None or day <= end.date()):
            yield path


def _frame(columns: dict[str, list[Any]], dates: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    return frame.assign(**{name: pd.to_datetime(frame[name]) for name in dates})


def read(
    directory: Path, *, since: TimeLike | None = None, until: TimeLike | None = None
) -> pd.DataFrame:
    """Every logged row scored in [since, until), ordered by scored_at.

    Columns: scored_at (UTC), model_version, source, then the logged columns (the union
    over batches; a column a batch lacked is missing in its rows). Datetime columns come
    back as datetimes. Naive `since` / `until` mean UTC. An absent log reads as no rows.
    """
    start = None if since is None else _utc(since)
    end = None if until is None else _utc(until)
    # Batches with the same columns are gathered into one frame: far faster than one
    # frame per batch when the service logs many small ones.
    gathered: dict[tuple[tuple[str, ...], tuple[str, ...]], dict[str, list[Any]]] = {}
    directory = Path(directory)
    files = _day_files(directory, start, end) if directory.is_dir() else iter(())
    for path in files:
        try:
            records = read_records(path)
        except FileNotFoundError:  # pruned since the folder was listed: an expired day
            continue
        for number, record in enumerate(records, start=1):
            try:
                scored_at = _utc(record[SCORED_AT])
                key = (tuple(record["columns"]), tuple(record["dates"]))
                rows = record["rows"]
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}: record {number} is not a prediction batch") from exc
            if (start is not None and scored_at < start) or (end is not None and scored_at >= end):
                continue
            columns = gathered.setdefault(key, {name: [] for name in (*METADATA_COLUMNS, *key[0])})
            columns[SCORED_AT].extend([scored_at] * rows)
            columns[MODEL_VERSION].extend([record[MODEL_VERSION]] * rows)
            columns[SOURCE].extend([record[SOURCE]] * rows)
            for name, values in record["columns"].items():
                columns[name].extend(values)
    frames = [_frame(columns, dates) for (_, dates), columns in gathered.items()]
    if not frames:
        return pd.DataFrame(
            {
                SCORED_AT: pd.Series(dtype="datetime64[us, UTC]"),
                MODEL_VERSION: pd.Series(dtype=str),
                SOURCE: pd.Series(dtype=str),
            }
        )
    combined = pd.concat(frames, ignore_index=True)
    return combined.sort_values(SCORED_AT, kind="stable", ignore_index=True)


def retention_start(keep_days: int | None, today: TimeLike) -> dt.date | None:
    """The oldest day `prune` keeps: `keep_days` days before `today` (UTC); None keeps all."""
    if keep_days is None:
        return None
    if keep_days < 1:
        raise ValueError(
            f"keep_days={keep_days}: expected at least 1 (an append that began just before "
            "midnight may still be writing yesterday's file)"
        )
    return _utc(today).date() - dt.timedelta(days=keep_days)


def prune(directory: Path, keep_days: int | None, *, today: TimeLike | None = None) -> list[Path]:
    """Delete the day files older than `keep_days` days before `today`; return them, oldest first.

    A file is deleted, whole, when its name is predictions-YYYY-MM-DD.jsonl and its day
    is before `retention_start(keep_days, today)`: with keep_days=400 on 2026-11-24,
    every day up to 2025-10-19 goes and 2025-10-20 stays. Never deleted: that day and
    the later ones (today's file and any file dated after today included), and every
    other name in the folder (sub-folders, backups, stray files). keep_days None keeps
    everything; an absent folder has nothing to prune.

    Safe beside writers and readers. An append writes only the file of its batch's
    scored_at day, which is now for the service and the batch job: today's file, or
    yesterday's for one that began just before midnight (hence keep_days >= 1). Pruning
    deletes strictly older days only, so no acknowledged append can land in a deleted
    file, and unlinking a whole file is atomic: a reader sees a day complete or not at
    all (`read` skips a file that vanished while it was reading the folder). A batch
    deliberately backdated to before the retention start is deleted by the next prune,
    or lost as it is written if a prune runs at that moment: it is expired either way.

    Parameters
    ----------
    directory : the log folder, `log_directory(settings.workspace)`
    keep_days : monitoring.log_retention_days; days before today kept, None keeps all
    today : the day pruning counts from, UTC (naive means UTC); None: today
    """
    start = retention_start(keep_days, pd.Timestamp.now(tz="UTC") if today is None else today)
    directory = Path(directory)
    if start is None or not directory.is_dir():
        return []
    expired = sorted(
        (day, path)
        for path in directory.iterdir()
        if (day := file_day(path.name)) is not None and day < start and not path.is_dir()
    )
    deleted = []
    for _, path in expired:
        try:
            path.unlink()
        except FileNotFoundError:  # another monitoring run pruned it first
            continue
        deleted.append(path)
    return deleted


def append_scores(
    features: pd.DataFrame,
    outputs: Mapping[str, Any],
    workspace: Path,
    *,
    model_version: str,
    source: Source,
    scored_at: TimeLike | None = None,
) -> Path:
    """Log scored rows: their feature rows plus the LOGGED_OUTPUTS of the same rows.

    Parameters
    ----------
    features : (n, features) frame that was scored, with customer_id (and as_of when known)
    outputs : the score columns, each (n,), e.g. a score frame or serving's column dict
    workspace : the workspace whose prediction log receives the rows
    """
    scores = {name: np.asarray(outputs[name]) for name in LOGGED_OUTPUTS if name in outputs}
    frame = pd.concat(  # one concat, not one insert per output: half the cost on a request
        [features.reset_index(drop=True), pd.DataFrame(scores, index=range(len(features)))],
        axis=1,
    )
    return append(
        frame,
        log_directory(workspace),
        model_version=model_version,
        source=source,
        scored_at=scored_at,
    )

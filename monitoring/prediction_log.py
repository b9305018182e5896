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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from zerochurn.monitoring.journal import append_record, read_records
from zerochurn.training.outputs import PROBABILITY_COLUMN

LOG_FOLDER = "predictions"
FILE_PREFIX = "predictions-"
FILE_SUFFIX = ".jsonl"
DAY_FORMAT = "%Y-%m-%d"

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


def _column_values(series: pd.Series) -> list[Any]:
    """JSON-ready values of one column: None for missing, ISO-8601 text for datetimes."""
    present = series.notna()
    if pd.api.types.is_datetime64_any_dtype(series):
        return [
            value.isoformat() if ok else None for value, ok in zip(series, present, strict=True)
        ]
    return series.astype(object).where(present, None).tolist()


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
    record = {
        SCORED_AT: when.isoformat(),
        MODEL_VERSION: str(model_version),
        SOURCE: source,
        "rows": len(frame),
        "dates": [
            str(name) for name in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[name])
        ],
        "columns": {str(name): _column_values(frame[name]) for name in frame.columns},
    }
    path = Path(directory) / f"{FILE_PREFIX}{when.strftime(DAY_FORMAT)}{FILE_SUFFIX}"
    append_record(path, record)
    return path


def _day_files(
    directory: Path, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> Iterator[Path]:
    """Day files whose day can hold rows scored in [start, end), oldest first."""
    for path in sorted(Path(directory).glob(f"{FILE_PREFIX}*{FILE_SUFFIX}")):
        text = path.name[len(FILE_PREFIX) : -len(FILE_SUFFIX)]
        try:
            day = dt.datetime.strptime(text, DAY_FORMAT).date()
        except ValueError as exc:
            raise ValueError(
                f"{path}: not a prediction log file name: expected "
                f"{FILE_PREFIX}YYYY-MM-DD{FILE_SUFFIX}"
            ) from exc
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
        for number, record in enumerate(read_records(path), start=1):
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
    frame = features.reset_index(drop=True).assign(
        **{name: np.asarray(outputs[name]) for name in LOGGED_OUTPUTS if name in outputs}
    )
    return append(
        frame,
        log_directory(workspace),
        model_version=model_version,
        source=source,
        scored_at=scored_at,
    )

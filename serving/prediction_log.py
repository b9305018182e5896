"""The prediction log: every churn score the service or the batch job returned, kept durably.

Serving writes it (serving/scoring_path.py, on every score); monitoring reads it and
applies its retention.

Layout: ``<workspace>/predictions/predictions-YYYY-MM-DD.jsonl``, one file per UTC day of
scoring. Each line is one `append` call (a batch), written through zerochurn.journal:
an append that returned is on disk, and a batch is whole or absent, even if the writing
process is killed. Several processes may append at once. One line of a small batch::

    {"scored_at": "2026-01-05T10:00:00.123456+00:00", "model_version": "3",
     "source": "batch", "rows": 2,
     "types": {"customer_id": "text", "as_of": "date", "region": "text", ...,
               "churn_probability": "number"},
     "columns": {"customer_id": ["C1", "C2"],
                 "as_of": ["2026-01-01T00:00:00", "2026-01-01T00:00:00"],
                 "region": ["north", null], ..., "churn_probability": [0.031, 0.2]}}

Values are stored column by column; missing values are null and dates ISO-8601 text.
"types" is the batch's typed schema (serving/log_schema.py): the writer's model says
what each column is, and `read` gives every column back as that type, whoever wrote it.
Lines of older versions carry "dates" (the date columns) instead and read the same way.

A batch of at least `segment_rows` rows (monitoring.log_segment_rows, 10,000: batch scoring
runs) goes to a Parquet segment file of its own, ``predictions-YYYY-MM-DD-<32 hex
digits>.parquet`` beside the day file, and its line names it instead of holding the
columns::

    {"scored_at": "...", "model_version": "3", "source": "batch", "rows": 1000000,
     "types": {...}, "segment": "predictions-2026-01-05-0f3c...e1.parquet"}

The segment is written whole and fsync'd (journal.write_file) before the line is
appended, so every line's segment exists; a writer killed between the two leaves a
segment no line names, which `read` never sees and `prune` deletes with its day. `read`
gives the rows of both kinds of batch alike. docs/monitoring.md describes the format.

Retention: `prune` deletes whole days older than a number of days before today
(monitoring.log_retention_days): the day file, then its segment files; monitoring runs
apply it, the service never does.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import pyarrow as pa

from zerochurn.configs.settings import MonitoringConfig
from zerochurn.contract.cells import FEW_ROWS, is_missing_cell
from zerochurn.journal import Durability, append_record, read_records, write_file
from zerochurn.model.outputs import PROBABILITY_COLUMN
from zerochurn.serving.log_schema import (
    COLUMN_TYPES,
    FIXED_TYPES,
    ColumnType,
    LogSchema,
    cast,
    inferred_type,
    typed,
)

LOG_FOLDER = "predictions"
FILE_PREFIX = "predictions-"
FILE_SUFFIX = ".jsonl"
SEGMENT_SUFFIX = ".parquet"
DAY_FORMAT = "%Y-%m-%d"
_DAY = r"(\d{4}-\d{2}-\d{2})"
DAY_FILE = re.compile(rf"{re.escape(FILE_PREFIX)}{_DAY}{re.escape(FILE_SUFFIX)}")
"""Name of a day file, predictions-YYYY-MM-DD.jsonl; the group is the UTC day."""
SEGMENT_FILE = re.compile(
    rf"{re.escape(FILE_PREFIX)}{_DAY}-[0-9a-f]{{32}}{re.escape(SEGMENT_SUFFIX)}"
)
"""Name of a segment file, predictions-YYYY-MM-DD-<uuid4 hex>.parquet; the group is the UTC day."""
SEGMENT_TEMP = re.compile(rf"\.{SEGMENT_FILE.pattern}\.[a-z0-9_]+\.tmp")
"""Name of the temporary file of a segment being written (journal.write_file), which a
writer killed at that moment leaves behind: .<segment name>.<random>.tmp."""

SEGMENT_ROWS: int = MonitoringConfig.model_fields["log_segment_rows"].default
"""Default of `append`'s segment_rows: the default of monitoring.log_segment_rows."""
DURABILITY: Durability = MonitoringConfig.model_fields["log_durability"].default
"""Default of `append`'s durability: the default of monitoring.log_durability."""

KEYS_AND_OUTPUTS = LogSchema()
"""A schema naming only the fixed columns: features are typed by their dtype."""

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
    """JSON-ready values of one column: None for missing, ISO-8601 text for datetimes.

    Numbers go through numpy's tolist and only the missing cells are patched: pandas'
    `where` on an object copy cost 3 ms a column of a 1,000-row request.
    """
    present = series.notna()
    if pd.api.types.is_datetime64_any_dtype(series):
        return [
            value.isoformat() if ok else None for value, ok in zip(series, present, strict=True)
        ]
    raw = series.to_numpy()
    values = (raw if raw.dtype.kind in "biuf" else series.to_numpy(dtype=object)).tolist()
    for row in np.flatnonzero(~present.to_numpy()):
        values[row] = None
    return values


def _json_columns(frame: pd.DataFrame, dates: list[str]) -> dict[str, list[Any]]:
    """_column_values of every column of `frame`; `dates` names its date columns, whose
    values are read as dates first (log_schema.cast: ISO-8601 text becomes a datetime).

    A service request's few rows go through one object matrix: per-column pandas work
    would cost a millisecond for 60 columns, the matrix 40 us.
    """
    if len(frame) > FEW_ROWS:
        return {
            str(name): _column_values(cast(frame[name], "date") if name in dates else frame[name])
            for name in frame.columns
        }
    matrix = frame.to_numpy(dtype=object)
    columns = {}
    for j, name in enumerate(map(str, frame.columns)):
        if name in dates:
            stamps = cast(frame[name], "date").to_numpy(dtype=object)
            columns[name] = [None if is_missing_cell(cell) else cell.isoformat() for cell in stamps]
        else:
            columns[name] = [None if is_missing_cell(cell) else cell for cell in matrix[:, j]]
    return columns


def _array_values(values: np.ndarray) -> list[Any]:
    """JSON-ready values of one (n,) array of numbers, flags or text: None for missing."""
    return [None if is_missing_cell(cell) else cell for cell in values.tolist()]


def _joined(frame: pd.DataFrame, outputs: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """`frame` with the `outputs` columns after its own, on a fresh row index."""
    return pd.concat(  # one concat, not one insert per output
        [frame.reset_index(drop=True), pd.DataFrame(dict(outputs), index=range(len(frame)))],
        axis=1,
    )


def _write_segment(frame: pd.DataFrame, directory: Path, day: str) -> str:
    """Write `frame` (typed columns, which Parquet stores) durably to a new segment of `day`."""
    name = f"{FILE_PREFIX}{day}-{uuid.uuid4().hex}{SEGMENT_SUFFIX}"
    table = frame.set_axis([str(column) for column in frame.columns], axis=1)
    write_file(directory / name, lambda tmp: table.to_parquet(tmp, index=False))
    return name


def append(
    frame: pd.DataFrame,
    directory: Path,
    *,
    model_version: str,
    source: Source,
    scored_at: TimeLike | None = None,
    segment_rows: int = SEGMENT_ROWS,
    schema: LogSchema = KEYS_AND_OUTPUTS,
    durability: Durability = DURABILITY,
    commit_interval: float = 0.0,
    outputs: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Append the scored rows of `frame` to the log as one batch; return the day file.

    Returns only once the batch is on disk (fsync'd; with durability "os", written to the
    operating system: zerochurn.journal). `frame` holds one row per score:
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
    segment_rows : a batch of at least this many rows goes to a Parquet segment file
        named by its line (settings.monitoring.log_segment_rows), a smaller one inline
    schema : the types of the scoring model's columns (`LogSchema.for_features`); the
        keys and outputs are typed the same for every model. Raises ValueError naming a
        column whose values are not of its type (an as_of that is no date).
    durability : monitoring.log_durability: "fsync" or "os"
    commit_interval : monitoring.log_commit_interval_ms, in seconds: least time between
        two commits of this process (concurrent appends share one)
    outputs : more columns of the same rows, each (n,) numbers, flags or text, logged
        after the frame's as if they were part of it (a service request's few rows skip
        building that frame, which cost more than the rest of the append)
    """
    outputs = {str(name): np.asarray(values) for name, values in (outputs or {}).items()}
    names = [*map(str, frame.columns), *outputs]
    if PROBABILITY_COLUMN not in names:
        raise ValueError(f"frame has no {PROBABILITY_COLUMN!r} column: expected the scores")
    clashes = sorted(set(METADATA_COLUMNS) & set(names))
    if clashes:
        raise ValueError(f"frame has columns {clashes}: reserved for the log's own metadata")
    if not frame.columns.is_unique or len(set(names)) < len(names):
        raise ValueError(f"frame has repeated column names: {names}")
    short = {name: len(values) for name, values in outputs.items() if len(values) != len(frame)}
    if short:
        raise ValueError(
            f"outputs of {short} rows: expected one per row of the frame, {len(frame)}"
        )
    if source not in get_args(Source):
        raise ValueError(f"source={source!r}: expected one of {get_args(Source)}")
    if not model_version:
        raise ValueError("model_version is empty: expected the registered model version")
    if segment_rows < 1:
        raise ValueError(f"segment_rows={segment_rows}: expected at least 1")
    when = _utc(pd.Timestamp.now(tz="UTC") if scored_at is None else scored_at)
    types = schema.types_of(frame)
    types |= {
        name: schema.types.get(name) or inferred_type(pd.Series(outputs[name])) for name in outputs
    }
    dates = [name for name, kind in types.items() if kind == "date"]
    if len(frame) >= segment_rows or len(frame) > FEW_ROWS or set(dates) & set(outputs):
        frame, outputs = _joined(frame, outputs) if outputs else frame, {}
    record: dict[str, Any] = {
        SCORED_AT: when.isoformat(),
        MODEL_VERSION: str(model_version),
        SOURCE: source,
        "rows": len(frame),
        "types": types,
    }
    day = when.strftime(DAY_FORMAT)
    path = Path(directory) / f"{FILE_PREFIX}{day}{FILE_SUFFIX}"
    # The segment is on disk before the line that names it: a crash in between leaves a
    # segment no line names (ignored, pruned with its day), never a line without its data.
    # A segment stores typed columns; inline JSON needs only the dates as dates.
    if len(frame) >= segment_rows:
        record["segment"] = _write_segment(typed(frame, types), path.parent, day)
    else:
        record["columns"] = _json_columns(frame, dates) | {
            name: _array_values(values) for name, values in outputs.items()
        }
    append_record(path, record, durability=durability, interval=commit_interval)
    return path


_DAY_FILE, _SEGMENT = 0, 1
"""Kinds of log file: a day file, or a segment (or a segment's leftover temporary file)."""


def _file_kind(name: str) -> tuple[dt.date, int] | None:
    """The UTC day and kind of a log file's name; None when `name` is not one the log writes."""
    for kind, pattern in (
        (_DAY_FILE, DAY_FILE),
        (_SEGMENT, SEGMENT_FILE),
        (_SEGMENT, SEGMENT_TEMP),
    ):
        match = pattern.fullmatch(name)
        if match is not None:
            try:
                return dt.date.fromisoformat(match[1]), kind
            except ValueError:  # e.g. predictions-2026-02-30.jsonl
                return None
    return None


def file_day(name: str) -> dt.date | None:
    """The UTC day of a log file's name; None when `name` is not one the log writes.

    The log writes day files (predictions-YYYY-MM-DD.jsonl), segment files
    (predictions-YYYY-MM-DD-<32 hex digits>.parquet) and, while a segment is being
    written, its temporary file (.predictions-YYYY-MM-DD-<32 hex digits>.parquet.<random>.tmp).
    """
    kind = _file_kind(name)
    return None if kind is None else kind[0]


def _day_files(
    directory: Path, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> Iterator[Path]:
    """Day files whose day can hold rows scored in [start, end), oldest first."""
    for path in sorted(Path(directory).glob(f"{FILE_PREFIX}*{FILE_SUFFIX}")):
        kind = _file_kind(path.name)
        if kind is None or kind[1] != _DAY_FILE:
            raise ValueError(
                f"{path}: not a prediction log file name: expected "
                f"{FILE_PREFIX}YYYY-MM-DD{FILE_SUFFIX}"
            )
        day = kind[0]
        if (start is None or day >= start.date()) and (end is None or day <= end.date()):
            yield path


def _datetimes(text: pd.Series) -> pd.Series:
    """The datetimes of logged ISO-8601 text (None: missing), each value at its own precision."""
    return pd.to_datetime(text, format="ISO8601")


def _frame(columns: dict[str, list[Any]], types: Mapping[str, ColumnType]) -> pd.DataFrame:
    """Inline batches' column lists as a frame of the batches' types."""
    return typed(pd.DataFrame(columns), types)


_INFERRED = tuple(pd.Series([value]).dtype for value in (0.5, 1, True, "a"))
"""The dtypes pandas gives a list of floats, of ints, of booleans, of strings (None for a
missing value allowed in floats and strings): a segment's column of one of these, with a
value present, is as the inline path reads it."""


def _as_inline(series: pd.Series, is_date: bool) -> pd.Series:
    """A segment's column as `read` gives the same batch logged inline (the JSON values)."""
    present = series.notna()
    if is_date and series.dtype.kind == "M" and series.dt.tz is None and present.any():
        # to_datetime of ISO text gives microseconds unless a value has nanoseconds
        nanoseconds = series.dt.unit == "ns" and bool((series[present].dt.nanosecond != 0).any())
        unit = "ns" if nanoseconds else "us"
        return series if series.dt.unit == unit else series.astype(f"datetime64[{unit}]")
    if not is_date and series.dtype in _INFERRED and present.any():
        return series
    # anything else (all missing, time zones, categories, nullable ints, float32, ...): the
    # JSON values through the inline path's own conversion; rare, and slower
    values = pd.Series(_column_values(series))
    return _datetimes(values) if is_date else values


def _segment_part(
    segment: pd.DataFrame, metadata: tuple[Any, ...], types: Mapping[str, ColumnType]
) -> pd.DataFrame:
    """A segment's rows with the metadata columns, typed as inline rows of the batch would be."""
    part = segment.set_axis([str(name) for name in segment.columns], axis=1)
    for name in part.columns:  # column by column, in place: no copy of the untouched ones
        column = _as_inline(part[name], types.get(name) == "date")
        if name in types:
            column = cast(column, types[name])
        if column is not part[name]:
            part[name] = column
    for position, (name, value) in enumerate(zip(METADATA_COLUMNS, metadata, strict=True)):
        part.insert(position, name, pd.Series([value]).repeat(len(part)).array)
    return part


def _merged(pieces: list[pd.Series], is_date: bool) -> pd.Series:
    """One column from the batches of one shape, as if their values had been one list."""
    first = pieces[0].dtype
    same_tz = all(
        piece.dtype.kind == "M" and getattr(piece.dtype, "tz", None) == getattr(first, "tz", None)
        for piece in pieces
    )
    if same_tz or all(piece.dtype == first for piece in pieces):
        return pd.concat(pieces, ignore_index=True)  # datetimes: the finest unit, as parsing
    values = pd.Series([value for piece in pieces for value in _column_values(piece)])
    return _datetimes(values) if is_date else values


def _combine(
    parts: list[dict[str, list[Any]] | pd.DataFrame], types: Mapping[str, ColumnType]
) -> pd.DataFrame:
    """The rows of one shape of batch: inline runs (column lists) and segments, in log order."""
    frames = [_frame(part, types) if isinstance(part, dict) else part for part in parts]
    if len(frames) == 1:
        return frames[0]
    return pd.DataFrame(
        {
            name: _merged([frame[name] for frame in frames], types.get(name) == "date")
            for name in frames[0].columns
        }
    )


def _read_segment(path: Path, number: int, name: str, rows: int) -> pd.DataFrame:
    """The segment file `name` that record `number` of day file `path` names."""
    segment = path.parent / name
    try:
        with segment.open("rb") as handle:  # once open, a prune cannot take it away
            frame = pd.read_parquet(handle)
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"{segment}: segment file missing; {path.name} record {number} names it for "
            f"its {rows} rows"
        ) from exc
    except pa.ArrowException as exc:
        raise ValueError(f"{segment}: not a readable Parquet segment ({exc})") from exc
    if len(frame) != rows:
        raise ValueError(
            f"{segment}: holds {len(frame)} rows; {path.name} record {number} says {rows}"
        )
    return frame


_Types = tuple[tuple[str, ColumnType], ...]
"""A batch's column types as sorted (column, type) pairs, hashable to gather batches by."""
_Batch = tuple[tuple[str, ...], _Types, tuple[Any, ...], int, Any]
"""One batch of a day file: its column names, column types, metadata values (of
METADATA_COLUMNS), rows, and values: the inline column lists or the segment's frame."""


def _record_types(record: Mapping[str, Any]) -> _Types:
    """The column types a line records; a line of an older version names only its dates."""
    if "types" in record:
        types = dict(record["types"])
        if not set(types.values()) <= set(COLUMN_TYPES):
            raise ValueError(f"unknown column types in {types}")
    else:
        types = dict.fromkeys(record["dates"], "date")
    return tuple(sorted(types.items()))


def _day_batches(path: Path, start: pd.Timestamp | None, end: pd.Timestamp | None) -> list[_Batch]:
    """The batches of day file `path` scored in [start, end), their segment files read."""
    day = file_day(path.name)
    batches = []
    for number, record in enumerate(read_records(path), start=1):
        try:
            scored_at = _utc(record[SCORED_AT])
            metadata = (scored_at, record[MODEL_VERSION], record[SOURCE])
            rows = record["rows"]
            types = _record_types(record)
            segment = record.get("segment")
            if segment is None:
                values = record["columns"]
                names = tuple(values)
            elif SEGMENT_FILE.fullmatch(segment) is None or file_day(segment) != day:
                raise ValueError(f"{segment!r} is not the name of a segment file of {day}")
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: record {number} is not a prediction batch") from exc
        if (start is not None and scored_at < start) or (end is not None and scored_at >= end):
            continue  # decided before any segment file is opened
        if segment is not None:
            values = _read_segment(path, number, segment, rows)
            names = tuple(map(str, values.columns))  # as JSON keys are
        batches.append((names, types, metadata, rows, values))
    return batches


def read(
    directory: Path, *, since: TimeLike | None = None, until: TimeLike | None = None
) -> pd.DataFrame:
    """Every logged row scored in [since, until), ordered by scored_at.

    Columns: scored_at (UTC), model_version, source, then the logged columns (the union
    over batches; a column a batch lacked is missing in its rows), each of the type its
    batches recorded (log_schema.FIXED_TYPES for the keys and outputs: as_of is a date). Naive `since` / `until` mean UTC. An absent log reads as no rows.
    A batch in a segment file reads exactly as it would inline; only the segment files of
    batches in [since, until) are opened. Raises FileNotFoundError naming a segment file
    that a line names but that is missing, unless the day file went too (its day was
    pruned meanwhile: the day is left out whole, like a day file that vanished).
    """
    start = None if since is None else _utc(since)
    end = None if until is None else _utc(until)
    # Batches with the same columns are gathered into one frame: far faster than one
    # frame per batch when the service logs many small ones. Consecutive inline batches
    # share column lists; a segment batch is a frame of its own; _combine merges them.
    gathered: dict[tuple[tuple[str, ...], _Types], list[Any]] = {}
    directory = Path(directory)
    files = _day_files(directory, start, end) if directory.is_dir() else iter(())
    for path in files:
        try:
            batches = _day_batches(path, start, end)
        except FileNotFoundError:
            if path.exists():  # a segment file is missing from a day that is still kept
                raise
            continue  # pruned since the folder was listed (day file first): an expired day
        for names, types, metadata, rows, values in batches:
            parts = gathered.setdefault((names, types), [])
            if isinstance(values, pd.DataFrame):
                parts.append(_segment_part(values, metadata, dict(types)))
                continue
            if not parts or not isinstance(parts[-1], dict):
                parts.append({name: [] for name in (*METADATA_COLUMNS, *names)})
            columns = parts[-1]
            for name, value in zip(METADATA_COLUMNS, metadata, strict=True):
                columns[name].extend([value] * rows)
            for name, column in values.items():
                columns[name].extend(column)
    frames = [_combine(parts, dict(types)) for (_, types), parts in gathered.items()]
    if not frames:
        return pd.DataFrame(
            {
                SCORED_AT: pd.Series(dtype="datetime64[us, UTC]"),
                MODEL_VERSION: pd.Series(dtype=str),
                SOURCE: pd.Series(dtype=str),
            }
        )
    # Keys and outputs are of one type in every batch, lines of older versions included.
    combined = typed(pd.concat(frames, ignore_index=True), FIXED_TYPES)
    if combined[SCORED_AT].is_monotonic_increasing:  # in order already: spare a copy
        return combined
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
    """Delete the days older than `keep_days` days before `today`; return their day files, oldest first.

    A day goes whole when it is before `retention_start(keep_days, today)`: its day file
    predictions-YYYY-MM-DD.jsonl, then its segment files
    predictions-YYYY-MM-DD-<32 hex digits>.parquet (including any a killed writer left
    unnamed, and the temporary file of one it was writing). With keep_days=400 on
    2026-11-24, every day up to 2025-10-19 goes and 2025-10-20 stays. Never deleted: that
    day and the later ones (today's files and any file dated after today included), and
    every other name in the folder (sub-folders, backups, stray files). keep_days None
    keeps everything; an absent folder has nothing to prune. The list returned has the
    day files only, one per day, so its length counts the days pruned.

    Safe beside writers and readers. An append writes only the files of its batch's
    scored_at day, which is now for the service and the batch job: today's files, or
    yesterday's for one that began just before midnight (hence keep_days >= 1). Pruning
    deletes strictly older days only, so no acknowledged append can land in a deleted
    file, and unlinking a whole file is atomic: a reader sees a day complete or not at
    all (`read` skips a day file that vanished while it was reading the folder, and the
    day of a segment that vanished after its day file did). A batch deliberately
    backdated to before the retention start is deleted by the next prune, or lost as it
    is written if a prune runs at that moment: it is expired either way (a segment batch
    caught that way may leave a line naming its deleted segment, which `read` reports
    until the next prune deletes that day again).

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
    expired = sorted(  # per day, the day file before its segments: see `read`
        (*kind, path.name, path)
        for path in directory.iterdir()
        if (kind := _file_kind(path.name)) is not None and kind[0] < start and not path.is_dir()
    )
    deleted = []
    for _, kind, _, path in expired:
        try:
            path.unlink()
        except FileNotFoundError:  # another monitoring run pruned it first
            continue
        if kind == _DAY_FILE:
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
    config: MonitoringConfig | None = None,
    schema: LogSchema = KEYS_AND_OUTPUTS,
) -> Path:
    """Log scored rows: their feature rows plus the LOGGED_OUTPUTS of the same rows.

    Parameters
    ----------
    features : (n, features) frame that was scored, with customer_id (and as_of when known)
    outputs : the score columns, each (n,), e.g. a score frame or serving's column dict
    workspace : the workspace whose prediction log receives the rows
    config : settings.monitoring: how the log is written (segment rows, durability, commit
        interval; see `append`); None: the defaults
    schema : the scoring model's column types; see `append`
    """
    config = config or MonitoringConfig()
    return append(
        features,
        log_directory(workspace),
        model_version=model_version,
        source=source,
        scored_at=scored_at,
        segment_rows=config.log_segment_rows,
        schema=schema,
        durability=config.log_durability,
        commit_interval=config.log_commit_interval_ms / 1000,
        outputs={name: outputs[name] for name in LOGGED_OUTPUTS if name in outputs},
    )

"""The snapshot store: features and scores of the latest batch, in one SQLite file.

`zerochurn score` writes it (atomically: a new file renamed over the old one); the
service reads it, one read-only connection per request, so a refresh is picked up by
the next request and never seen half-written. Tables:

- features: customer_id (primary key), as_of, every feature column of the batch;
- scores: the score table of serving/scoring.py, indexed by value_at_risk, clv_at_risk
  and churn_probability (the orders of the at-risk list) and by each filter column it has;
- segments: the segment churn index by region, segment and plan (column `by`);
- meta: key -> JSON value (as_of, model_version, scored_at, reference_churn_rate, customers,
  data_dir).

SQLite because it ships with Python, answers id lookups from an index in microseconds
and at-risk queries without holding a million customers in the service's memory.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Any, Literal

import numpy as np
import pandas as pd

from zerochurn.io import atomic_path

SNAPSHOT_FILE = "snapshot.sqlite"
SQLITE_MAX_INTEGER = 2**63 - 1
"""Largest integer SQLite stores or compares (a larger one raises OverflowError)."""
INSERT_ROWS = 50_000
"""Rows per executemany call when writing."""

AtRiskSort = Literal["value_at_risk", "clv_at_risk", "churn_probability", "expected_saved_value"]
SAVED_VALUE_SORT = "expected_saved_value"
"""The order of the at-risk list when a validated uplift model scored the batch: who is
expected to be saved, in money (model/uplift.py), rather than who is at risk."""
AT_RISK_FILTERS = {
    "region": "region = ?",
    "segment": "segment = ?",
    "plan": "plan = ?",
    "tier": "risk_tier = ?",
    "min_value": "customer_value >= ?",
    "min_churn_index": "churn_index >= ?",
    "id_prefix": "customer_id LIKE ? ESCAPE '\\'",
}
"""SQL condition of each at-risk filter; a filter left as None is not applied."""
PROFILE_FILTERS = ("region", "segment", "plan")
"""At-risk filters on a profile column, which scores of derived customers lack: none match."""
SORT_ORDERS: dict[str, str] = {
    "value_at_risk": "value_at_risk DESC, churn_probability DESC, customer_id",
    "clv_at_risk": "clv_at_risk DESC, churn_probability DESC, customer_id",
    "churn_probability": "churn_probability DESC, customer_id",
    SAVED_VALUE_SORT: f"{SAVED_VALUE_SORT} DESC, churn_probability DESC, customer_id",
}
"""ORDER BY of each at-risk sort, largest first (SQLite puts NULLs, unknown values, last
when descending), ties broken by risk then id; each is also an index of the scores, which
holds the ids too, so a page far down the list is found without reading the rows above.
expected_saved_value is indexed only when the scores have it."""
INDEXED_COLUMNS = ("region", "segment", "plan", "risk_tier")
"""Score columns of the equality filters, indexed when the scores have them."""
LIKE_ESCAPE = "\\"


SNAPSHOT_TABLES = ("features", "scores", "segments", "meta")
"""Tables every snapshot store holds."""


class SnapshotMissingError(LookupError):
    """There is no snapshot store yet: batch scoring has not run."""


class AtRiskSortError(LookupError):
    """The at-risk list was asked for an order the snapshot's scores cannot give."""


class SnapshotUnusableError(RuntimeError):
    """The snapshot store exists but cannot be read (corrupt, truncated, not a snapshot).

    The message names the file and SQLite's reason; the next `zerochurn score` rebuilds it.
    """


@dataclass(frozen=True)
class SnapshotInfo:
    """What the snapshot holds: its as-of date, the model that scored it, when and how many.

    source: the data folder (or flat table file) the batch was built from; None when not
    recorded (a snapshot written before it was).
    """

    as_of: str
    model_version: str
    scored_at: str
    reference_churn_rate: float
    customers: int
    data_dir: str | None = None
    """Absolute path of the raw data folder the batch was built from; None for a flat table."""


@dataclass(frozen=True, kw_only=True)
class AtRiskQuery:
    """Filters, order and page (limit rows from offset) of an at-risk list.

    None filters are not applied; min_value is in money; id_prefix keeps the customers
    whose id starts with it (in any case). sort None is the store's default order
    (SnapshotStore.default_sort).
    """

    region: str | None = None
    segment: str | None = None
    plan: str | None = None
    tier: str | None = None
    min_value: float | None = None
    min_churn_index: int | None = None
    id_prefix: str | None = None
    sort: AtRiskSort | None = None
    limit: int
    offset: int = 0


@dataclass(frozen=True)
class AtRiskTotals:
    """Customers matching an at-risk query's filters, and the sum of their value at risk."""

    customers: int
    value_at_risk: float


def _like_prefix(text: str) -> str:
    """A LIKE pattern matching what starts with `text`, its own % and _ taken literally."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
    return escaped.replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_") + "%"


def _sql_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_integer_dtype(series):
        return "INTEGER"
    if pd.api.types.is_float_dtype(series):
        return "REAL"
    return "TEXT"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_values(series: pd.Series) -> list[Any]:
    """Column values as Python scalars SQLite stores; missing values become NULL."""
    if pd.api.types.is_datetime64_any_dtype(series):
        series = series.dt.strftime("%Y-%m-%d")
    values = series.to_numpy(dtype=object)
    missing = pd.isna(series).to_numpy()
    if missing.any():
        values = np.where(missing, None, values)
    return values.tolist()


def _create_table(
    connection: sqlite3.Connection, name: str, frame: pd.DataFrame, key: str | None = None
) -> None:
    columns = [
        f"{_quoted(str(c))} {_sql_type(frame[c])}{' PRIMARY KEY' if c == key else ''}"
        for c in frame.columns
    ]
    connection.execute(f"CREATE TABLE {_quoted(name)} ({', '.join(columns)})")


def _insert(connection: sqlite3.Connection, name: str, frame: pd.DataFrame) -> None:
    insert = f"INSERT INTO {_quoted(name)} VALUES ({', '.join('?' * len(frame.columns))})"
    for start in range(0, len(frame), INSERT_ROWS):
        chunk = frame.iloc[start : start + INSERT_ROWS]
        connection.executemany(insert, zip(*(_sql_values(chunk[c]) for c in chunk), strict=True))


def write_sql_table(
    connection: sqlite3.Connection, name: str, frame: pd.DataFrame, key: str | None = None
) -> None:
    """Create table `name` with frame's columns (INTEGER, REAL or TEXT) and insert its rows.

    Dates are stored as YYYY-MM-DD text and missing values as NULL; `key` is the primary key.
    """
    _create_table(connection, name, frame, key)
    _insert(connection, name, frame)


def _rows(connection: sqlite3.Connection, sql: str, params: Sequence[Any]) -> pd.DataFrame:
    """The rows of one query on `connection`, as a frame with the query's column names."""
    cursor = connection.execute(sql, tuple(params))
    columns = [description[0] for description in cursor.description]
    return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)


def read_sql(path: Path, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """The rows of one query on the SQLite file at `path`, opened read-only for this query."""
    connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return _rows(connection, sql, params)
    finally:
        connection.close()


class SnapshotWriter:
    """A new snapshot store written batch by batch, then renamed over `path` in one step.

    Use as a context manager: `add` feature and score rows of some customers as often as
    needed (the tables are created from the first batch's columns), then `finish` with
    the segment table and the info. Leaving the block without `finish`, or by an
    exception, leaves `path` as it was.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._created = False
        self._finished = False

    def __enter__(self) -> SnapshotWriter:
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        self._connection = sqlite3.connect(self._tmp)
        self._connection.execute("PRAGMA journal_mode = OFF")  # a fresh file, renamed when done
        self._connection.execute("PRAGMA synchronous = OFF")
        return self

    def add(self, features: pd.DataFrame, scores: pd.DataFrame) -> None:
        """Insert the feature and score rows of some customers (one row per customer_id)."""
        if not self._created:
            _create_table(self._connection, "features", features, key="customer_id")
            _create_table(self._connection, "scores", scores, key="customer_id")
            self._score_columns = tuple(scores.columns)
            self._created = True
        _insert(self._connection, "features", features)
        _insert(self._connection, "scores", scores)

    def finish(self, segments: pd.DataFrame, info: SnapshotInfo) -> None:
        """Write the segment table, indexes and info; the store is complete on leaving."""
        connection = self._connection
        write_sql_table(connection, "segments", segments)
        for column, order in SORT_ORDERS.items():
            if column in self._score_columns:
                connection.execute(f"CREATE INDEX scores_{column} ON scores ({order})")
        for column in (c for c in INDEXED_COLUMNS if c in self._score_columns):
            connection.execute(f"CREATE INDEX scores_{column} ON scores ({_quoted(column)})")
        connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        connection.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [(key, json.dumps(value)) for key, value in vars(info).items()],
        )
        connection.commit()
        self._finished = True

    def __exit__(self, exc_type, exc, traceback) -> None:
        self._connection.close()
        if exc_type is None and not self._finished:
            exc = RuntimeError(f"{self.path}: the snapshot was left without finish()")
            self._atomic.__exit__(RuntimeError, exc, None)  # drops the temporary file
            raise exc
        self._atomic.__exit__(exc_type, exc, traceback)


def write_snapshot(
    path: Path,
    *,
    features: pd.DataFrame,
    scores: pd.DataFrame,
    segments: pd.DataFrame,
    info: SnapshotInfo,
) -> Path:
    """Write a new snapshot store to `path` atomically; return the path.

    features and scores have one row per customer (customer_id unique); segments is
    the segment churn index table with a `by` column.
    """
    with SnapshotWriter(path) as writer:
        writer.add(features, scores)
        writer.finish(segments, info)
    return path


def _default_sort(score_columns: Iterable[str]) -> AtRiskSort:
    return SAVED_VALUE_SORT if SAVED_VALUE_SORT in score_columns else "value_at_risk"


class SnapshotStore:
    """Read access to the snapshot store at `path` (which may not exist yet).

    Each thread keeps one read-only connection to the file and reopens it when the file
    was replaced (another inode, size or modification time): a refresh by `zerochurn
    score` is seen by the next query, never half-written. The meta table is read once per
    file. Opening a connection cost about a millisecond of a one-customer request.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._info: tuple[tuple[int, int, int], SnapshotInfo] | None = None

    def _unusable(self, reason: object) -> SnapshotUnusableError:
        return SnapshotUnusableError(
            f"the snapshot store {self.path} is unusable ({reason}): run zerochurn score "
            "to rebuild it"
        )

    def _identity(self) -> tuple[int, int, int]:
        """(inode, size, mtime) of the store file; SnapshotMissingError when there is none."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            stat = None
        if stat is None or not S_ISREG(stat.st_mode):
            raise SnapshotMissingError(
                f"no snapshot store at {self.path}: run zerochurn score to create it"
            )
        return stat.st_ino, stat.st_size, stat.st_mtime_ns

    def _connection(self, identity: tuple[int, int, int]) -> sqlite3.Connection:
        """This thread's read-only connection to the file of `identity`."""
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == identity:
            return held[1]
        if held is not None:
            held[1].close()
            self._local.held = None
        connection = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        self._local.held = (identity, connection)
        return connection

    def _query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Rows of a read-only query; SnapshotMissingError, SnapshotUnusableError on failure."""
        try:
            return _rows(self._connection(self._identity()), sql, params)
        except sqlite3.DatabaseError as exc:  # not a database, malformed, a table missing
            raise self._unusable(exc) from exc

    def info(self) -> SnapshotInfo:
        """The snapshot's as-of date, model version, scoring time and size."""
        identity = self._identity()
        cached = self._info
        if cached is not None and cached[0] == identity:
            return cached[1]
        meta = self._query("SELECT key, value FROM meta")
        try:
            info = SnapshotInfo(
                **{k: json.loads(v) for k, v in zip(meta["key"], meta["value"], strict=True)}
            )
        except (TypeError, ValueError) as exc:  # keys missing or unknown, values not JSON
            raise self._unusable(f"its meta table does not describe a snapshot: {exc}") from exc
        self._info = (identity, info)
        return info

    def check(self) -> SnapshotInfo:
        """The snapshot's info, after checking that the store can be read.

        Reads the schema and the meta table (a fraction of a millisecond, whatever the
        size): a file that is not SQLite, is truncated or lacks a table raises
        SnapshotUnusableError naming the file and the reason; no file at all raises
        SnapshotMissingError. Damage inside a table's pages shows only when that table is
        read, as SnapshotUnusableError too.
        """
        tables = set(self._query("SELECT name FROM sqlite_master WHERE type = 'table'")["name"])
        missing = [name for name in SNAPSHOT_TABLES if name not in tables]
        if missing:
            raise self._unusable(f"tables {missing} are missing")
        return self.info()

    def features(self, customer_ids: Iterable[str]) -> pd.DataFrame:
        """Feature rows of the known ids among `customer_ids` (unknown ids are left out)."""
        ids = list(dict.fromkeys(customer_ids))
        placeholders = ", ".join("?" * len(ids))
        return self._query(f"SELECT * FROM features WHERE customer_id IN ({placeholders})", ids)

    def score_columns(self) -> list[str]:
        """The columns of the snapshot's scores table."""
        return list(self._query("SELECT * FROM scores LIMIT 0").columns)

    def default_sort(self) -> AtRiskSort:
        """expected_saved_value when a validated uplift model scored the batch, else
        value_at_risk."""
        return _default_sort(self.score_columns())

    def _sort(self, query: AtRiskQuery) -> AtRiskSort:
        """The query's order (None: default_sort); AtRiskSortError when the scores lack it."""
        columns = self.score_columns()
        sort = query.sort or _default_sort(columns)
        if sort not in columns:
            source = (
                "a validated uplift model (zerochurn uplift, then zerochurn score)"
                if sort == SAVED_VALUE_SORT
                else "the time-to-churn model of a newer champion: run zerochurn score"
            )
            raise AtRiskSortError(
                f"the scores of the snapshot {self.path} have no {sort}: it comes from {source}"
            )
        return sort

    def _where(self, query: AtRiskQuery) -> tuple[str, list[Any]]:
        """The WHERE clause of the query's filters and its parameters.

        A filter on a profile column the scores lack (customers derived from a
        transaction log have no region, segment or plan) matches no customer.
        """
        conditions, params = [], []
        absent: set[str] = set()
        if any(getattr(query, name) is not None for name in PROFILE_FILTERS):
            absent = set(PROFILE_FILTERS) - set(self.score_columns())
        for name, condition in AT_RISK_FILTERS.items():
            value = getattr(query, name)
            if value is not None and name in absent:
                conditions.append("0")
            elif value is not None:
                conditions.append(condition)
                params.append(_like_prefix(value) if name == "id_prefix" else value)
        return (f"WHERE {' AND '.join(conditions)}" if conditions else ""), params

    def at_risk_totals(self, query: AtRiskQuery) -> AtRiskTotals:
        """How many customers match the query's filters, and their summed value at risk."""
        where, params = self._where(query)
        row = self._query(
            f"SELECT COUNT(*) AS n, TOTAL(value_at_risk) AS v FROM scores {where}", params
        ).iloc[0]
        return AtRiskTotals(customers=int(row["n"]), value_at_risk=float(row["v"]))

    def at_risk_page(self, query: AtRiskQuery) -> pd.DataFrame:
        """The query's page of scores: sorted by query.sort, largest first (unknown values
        last), then by churn_probability and customer_id (SORT_ORDERS).

        The page's ids come from the sort's index alone; only the page's rows are read.
        """
        where, params = self._where(query)
        order = SORT_ORDERS[self._sort(query)]
        return self._query(
            f"SELECT scores.* FROM (SELECT customer_id FROM scores {where} ORDER BY {order} "
            "LIMIT ? OFFSET ?) AS page JOIN scores USING (customer_id) "
            f"ORDER BY {', '.join(f'scores.{term}' for term in order.split(', '))}",
            [*params, query.limit, query.offset],
        )

    def at_risk(self, query: AtRiskQuery) -> tuple[int, pd.DataFrame]:
        """How many customers match the filters, and the requested page of their scores."""
        return self.at_risk_totals(query).customers, self.at_risk_page(query)

    def segments(self, by: str) -> pd.DataFrame:
        """The segment churn index table grouped by `by` (region, segment or plan)."""
        table = self._query('SELECT * FROM segments WHERE "by" = ? ORDER BY "group"', [by])
        return table.drop(columns="by")

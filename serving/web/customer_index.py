"""One customer's raw rows (profile, monthly revenue, survey answers, complaints) by id.

A customer page must not load a whole data folder (1.2 M transactions and 3 M survey
answers for 50,000 customers). `build_customer_index` therefore writes the raw tables of
a folder, reduced to what a customer page shows, into one SQLite file with every table
indexed by customer_id; `CustomerIndex.records` then reads one customer's rows in about
a millisecond. The file is named by the folder's fingerprint (`folder_fingerprint`: the
folder and its table files' names, sizes and modification times), so a changed folder
gets a new index and an unchanged one is never rebuilt, across restarts and workers.

Tables of the index (dates as YYYY-MM-DD text):

- profile: customer_id (primary key), signup_date, region, segment, plan, cancel_date;
- revenue: customer_id, month (YYYYMM), revenue, margin (NULL without a cost column);
- surveys: customer_id, date, grades (one questionnaire: a letter A-D per item of
  contract.schema.SURVEY_ITEMS in its order, "-" where not answered);
- complaints: customer_id, complaint_id, opened_at, channel, category, department,
  due_at, resolved_at, followed_up_at, followup_score.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zerochurn.contract.dataset import RawData
from zerochurn.contract.schema import GRADE_SCORES, SURVEY_ITEMS, TABLE_SUFFIXES
from zerochurn.io import atomic_path
from zerochurn.serving.store import read_sql, write_sql_table

INDEX_PREFIX = "customers-"
INDEX_SUFFIX = ".sqlite"
FINGERPRINT_CHARS = 16
PROFILE_COLUMNS = ("customer_id", "signup_date", "region", "segment", "plan", "cancel_date")
COMPLAINT_COLUMNS = (
    "customer_id",
    "complaint_id",
    "opened_at",
    "channel",
    "category",
    "department",
    "due_at",
    "resolved_at",
    "followed_up_at",
    "followup_score",
)
MONTH_KEY = 100
"""A month is stored as year * 100 + month (202603)."""
UNANSWERED = "-"
"""Grade letter of an item a questionnaire did not answer."""
ITEM_POSITIONS = {item: position for position, item in enumerate(SURVEY_ITEMS)}
SCORE_GRADES = {score: grade for grade, score in GRADE_SCORES.items()}


def folder_fingerprint(data_dir: Path) -> str:
    """A short hash of the folder's path and its table files' names, sizes and mtimes.

    It changes when any raw table is rewritten, added or removed.
    """
    folder = Path(data_dir).resolve()
    files = sorted(
        (path.name, stat.st_size, stat.st_mtime_ns)
        for path in folder.iterdir()
        if path.suffix in TABLE_SUFFIXES and (stat := path.stat())
    )
    text = json.dumps([str(folder), files])
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_CHARS]


def index_path(cache_dir: Path, fingerprint: str) -> Path:
    """Where the index of a folder with this fingerprint lives."""
    return Path(cache_dir) / f"{INDEX_PREFIX}{fingerprint}{INDEX_SUFFIX}"


def monthly_revenue(transactions: pd.DataFrame) -> pd.DataFrame:
    """Revenue (sum of amount) and margin (of amount - cost) per customer and calendar month.

    Requires transactions[customer_id, date, amount] and optionally cost. Columns:
    customer_id (str), month (YYYYMM, int), revenue, margin (NaN without cost).
    """
    dates = transactions["date"]
    has_cost = "cost" in transactions
    frame = transactions.assign(
        month=dates.dt.year * MONTH_KEY + dates.dt.month,
        margin=transactions["amount"] - transactions["cost"] if has_cost else np.nan,
    )
    monthly = (
        frame.groupby(["customer_id", "month"], observed=True, sort=True)
        .agg(revenue=("amount", "sum"), margin=("margin", "sum"))
        .reset_index()
    )
    return monthly.assign(
        customer_id=monthly["customer_id"].astype(str),
        margin=monthly["margin"] if has_cost else np.nan,
    )


def questionnaires(surveys: pd.DataFrame) -> pd.DataFrame:
    """Survey answers packed one row per questionnaire (customer and date).

    Requires surveys[customer_id, date, item, score] with items of SURVEY_ITEMS (the
    contract checks that). Columns: customer_id (str), date, grades: one letter per item
    of SURVEY_ITEMS in its order (A-D, or UNANSWERED). 22 answers become one row, which
    keeps the index small and fast to build.
    """
    keys = ["customer_id", "date"]
    groups = surveys.groupby(keys, observed=True, sort=True)
    grid = np.full((groups.ngroups, len(SURVEY_ITEMS)), UNANSWERED, dtype="<U1")
    positions = surveys["item"].map(ITEM_POSITIONS).to_numpy(dtype=np.int64)
    letters = surveys["score"].map(SCORE_GRADES).to_numpy(dtype="<U1")
    grid[groups.ngroup().to_numpy(), positions] = letters
    packed = groups.size().index.to_frame(index=False)
    return packed.assign(
        customer_id=packed["customer_id"].astype(str),
        grades=grid.view(f"<U{len(SURVEY_ITEMS)}")[:, 0],
    )


def index_tables(raw: RawData) -> dict[str, pd.DataFrame]:
    """The index's tables from the loaded raw data (optional tables empty when absent)."""
    profile = raw.customers.reindex(columns=list(PROFILE_COLUMNS)).astype({"customer_id": str})
    surveys = raw.surveys
    if surveys is None:
        packed = pd.DataFrame({"customer_id": [], "date": [], "grades": []}, dtype=str)
    else:
        packed = questionnaires(surveys)
    complaints = raw.complaints
    if complaints is None:
        complaints = pd.DataFrame(columns=list(COMPLAINT_COLUMNS), dtype=str)
    return {
        "profile": profile,
        "revenue": monthly_revenue(raw.transactions),
        "surveys": packed,
        "complaints": complaints.loc[:, list(COMPLAINT_COLUMNS)].astype({"customer_id": str}),
    }


@contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file`: one builder at a time across processes."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_customer_index(raw: RawData, path: Path) -> Path:
    """Write the index of `raw` to `path` atomically (unless a finished one is there); the path.

    Processes building the same index wait for each other; indexes of other fingerprints
    in the folder are removed once this one is in place.
    """
    path = Path(path)
    with _exclusive(path.with_suffix(".lock")):
        if path.is_file():
            return path
        with atomic_path(path) as tmp:
            connection = sqlite3.connect(tmp)
            try:
                connection.execute("PRAGMA journal_mode = OFF")  # a fresh file, renamed when done
                connection.execute("PRAGMA synchronous = OFF")
                for name, frame in index_tables(raw).items():
                    write_sql_table(
                        connection, name, frame, key="customer_id" if name == "profile" else None
                    )
                    if name != "profile":
                        connection.execute(f"CREATE INDEX {name}_customer ON {name} (customer_id)")
                connection.commit()
            finally:
                connection.close()
        for other in path.parent.glob(f"{INDEX_PREFIX}*{INDEX_SUFFIX}"):
            if other != path:
                other.unlink(missing_ok=True)
                other.with_suffix(".lock").unlink(missing_ok=True)
    return path


@dataclass(frozen=True)
class CustomerRecords:
    """One customer's rows of each index table (empty frames when the customer has none)."""

    profile: dict[str, object] | None
    revenue: pd.DataFrame
    surveys: pd.DataFrame
    complaints: pd.DataFrame


class CustomerIndex:
    """Read access to a built index at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def records(self, customer_id: str) -> CustomerRecords:
        """The customer's profile and rows, each table ordered by date."""
        orders = {"revenue": "month", "surveys": "date", "complaints": "opened_at"}
        frames = {
            name: read_sql(
                self.path,
                f"SELECT * FROM {name} WHERE customer_id = ? ORDER BY {order}",
                [customer_id],
            )
            for name, order in orders.items()
        }
        profile = read_sql(self.path, "SELECT * FROM profile WHERE customer_id = ?", [customer_id])
        return CustomerRecords(
            profile=profile.iloc[0].to_dict() if len(profile) else None,
            revenue=frames["revenue"],
            surveys=frames["surveys"],
            complaints=frames["complaints"],
        )

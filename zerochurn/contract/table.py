"""Reading a flat customer table: one row per customer, an id column, maybe a churn label.

This is the edge where a team's own extract enters: the file is read as it is (CSV as
text, Parquet with its types), the id and label columns are checked, and every problem
is reported at once as the data contract's Problems, naming the file, column and rows.
Typing the other columns is contract/cells.py's job, shared with scoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zerochurn.contract.cells import TableValueError, parse_labels
from zerochurn.contract.schema import TABLE_SUFFIXES
from zerochurn.contract.validate import DataValidationError, Problem

ID = "customer_id"
"""Name of the id column once read, whatever the file calls it."""
MAX_ROWS_SHOWN = 5
SHOWN_COLUMNS = 20


@dataclass(frozen=True)
class CustomerTable:
    """A flat table as read: customer_id first, then the other columns (label removed).

    labels: "Int8" 0/1 churn labels aligned with frame, <NA> where blank.
    """

    path: Path
    frame: pd.DataFrame
    labels: pd.Series
    id_column: str
    target_column: str

    @property
    def columns(self) -> list[str]:
        """The columns other than the id: candidate features."""
        return [column for column in self.frame.columns if column != ID]


def read_frame(path: Path) -> pd.DataFrame:
    """A CSV (every column as text) or Parquet file, with its file named in any error."""
    path = Path(path)
    suffix = path.suffix.lower()  # exports from Windows tools are often TELCO.CSV
    if suffix not in TABLE_SUFFIXES:
        raise DataValidationError(
            [Problem(None, None, f"expected a {' or '.join(TABLE_SUFFIXES)} file", file=str(path))]
        )
    if not path.is_file():
        raise DataValidationError([Problem(None, None, "no such file", file=str(path))])
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, skipinitialspace=False)
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise DataValidationError(
            [Problem(None, None, f"cannot read: {exc}", file=str(path))]
        ) from exc


def _rows(mask: np.ndarray) -> tuple[tuple[int, ...], int]:
    """1-based data row numbers (header not counted) of the first offending rows, and the count."""
    positions = np.flatnonzero(mask)
    return tuple(int(p) + 1 for p in positions[:MAX_ROWS_SHOWN]), int(positions.size)


def _missing_column(path: Path, frame: pd.DataFrame, column: str, role: str) -> Problem:
    shown = ", ".join(map(str, frame.columns[:SHOWN_COLUMNS]))
    more = " ..." if len(frame.columns) > SHOWN_COLUMNS else ""
    only = str(frame.columns[0]) if len(frame.columns) == 1 else ""
    separator = next((mark for mark in (";", "\t", "|") if mark in only), None)
    hint = f" (separated by {separator!r}? save the file with commas)" if separator else ""
    return Problem(
        None,
        column,
        f"no {role} column {column!r}; the columns are {shown}{more}{hint}",
        file=path.name,
    )


def _id_problems(path: Path, ids: pd.Series, column: str) -> list[Problem]:
    text = ids.astype("string").str.strip()
    problems = []
    blank = (text.isna() | (text == "")).to_numpy()
    if blank.any():
        rows, count = _rows(blank)
        problems.append(
            Problem(
                None, column, f"empty id in rows {rows}: expected an id", rows, count, path.name
            )
        )
    duplicated = (text.duplicated(keep=False) & ~pd.Series(blank, index=text.index)).to_numpy()
    if duplicated.any():
        rows, count = _rows(duplicated)
        values = ", ".join(repr(v) for v in text[duplicated].drop_duplicates().head(MAX_ROWS_SHOWN))
        problems.append(
            Problem(
                None,
                column,
                f"ids {values} appear more than once (rows {rows}, {count} rows): "
                "expected one row per customer",
                rows,
                count,
                path.name,
            )
        )
    return problems


def _label_problems(path: Path, labels: pd.Series, column: str) -> list[Problem]:
    known = labels.dropna()
    if known.empty:
        return [Problem(None, column, "every churn label is empty", file=path.name)]
    if known.nunique() < 2:
        which = "churned" if known.iloc[0] == 1 else "stayed"
        return [
            Problem(
                None,
                column,
                f"every customer {which}: the label is constant, a model needs churners and "
                "customers who stayed",
                file=path.name,
            )
        ]
    return []


def read_customer_table(
    path: Path, *, id_column: str, target_column: str, positive_label: str | None = None
) -> CustomerTable:
    """Read and check a flat customer table for training.

    Parameters
    ----------
    path : CSV or Parquet file, one row per customer
    id_column : column of unique, non-empty customer ids (renamed customer_id)
    target_column : column of churn labels, removed from the other columns
    positive_label : the target value that means churned (any other value: stayed);
        None reads the common spellings (yes/no, 1/0, ...)

    Raises DataValidationError listing every problem: missing file or column, empty or
    repeated ids, unreadable, empty or constant labels.
    """
    path = Path(path)
    frame = read_frame(path)
    problems: list[Problem] = []
    if id_column not in frame:
        problems.append(_missing_column(path, frame, id_column, "id"))
    else:
        problems += _id_problems(path, frame[id_column], id_column)
    labels = pd.Series(dtype="Int8")
    if target_column not in frame:
        problems.append(_missing_column(path, frame, target_column, "churn label"))
    else:
        try:
            # a 1-based index, so a bad label names its data row as the id problems do
            numbered = frame[target_column].set_axis(range(1, len(frame) + 1))
            labels = parse_labels(numbered, target_column, positive_label)
            labels = labels.reset_index(drop=True)
        except TableValueError as exc:
            problems.append(Problem(None, target_column, str(exc), file=path.name))
        else:
            problems += _label_problems(path, labels, target_column)
    if problems:
        raise DataValidationError(problems)
    ids = frame[id_column].astype("string").str.strip().astype(object)
    rest = frame.drop(columns=[id_column, target_column, ID], errors="ignore")
    table = pd.concat([ids.rename(ID), rest], axis=1).reset_index(drop=True)
    return CustomerTable(path, table, labels, id_column, target_column)

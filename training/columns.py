"""Which columns of a flat customer table a model may learn from, and what looks wrong.

Empty and constant columns carry nothing and are left out; text columns with a distinct
value on (nearly) every row, id-named columns of unique numbers, row numbers (distinct
whole numbers 1..n, whatever the name) and names or contact details (surname, email) are
identifiers that cannot generalise and are left out too. A column that ranks churners almost perfectly on
its own is kept but reported: it usually records the churn itself (a cancellation
reason, a closing date), which will not be known when scoring.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from zerochurn.configs.settings import TableConfig
from zerochurn.contract.cells import ColumnRoles, infer_roles, typed_table

ID_NAME = re.compile(
    r"(?i:(^|[_\s.-])(id|uuid|guid|key|number|num|no)$)"
    r"|[a-z0-9](ID|Id|UUID|Uuid|GUID|Guid|Key|Number|Num|No)$"
)
"""Column names that read as identifiers: customer_id, customerID, RowNumber, account no, uuid.

Camel case is matched case-sensitively, so amount_paid or hybrid do not read as ids.
"""
MIN_ROWS_FOR_ID_CHECK = 20
"""Below this many rows any text column may be all distinct; the id check waits."""
ROW_COUNTER_FILL = 0.9
"""Distinct whole numbers filling at least this share of their range count as a row number
(an index written with the file, whatever its name); the share leaves room for rows that
were dropped for a blank label."""
PERSONAL_NAMES = frozenset(
    {
        "name", "surname", "firstname", "lastname", "fullname", "givenname", "familyname",
        "middlename", "customername", "clientname", "username", "email", "emailaddress",
        "phone", "phonenumber", "mobile", "telephone", "address", "streetaddress",
    }
)  # fmt: skip
"""Text columns of these names (any case, separators ignored) name or contact a customer."""

NoteKind = Literal["left out", "warning"]


@dataclass(frozen=True)
class ColumnNote:
    """Something found about one column: why it was left out, or a warning about it.

    leakage_auc: the column's single-column ROC-AUC when it looks like leakage, else None.
    """

    column: str
    kind: NoteKind
    message: str
    leakage_auc: float | None = None

    def __str__(self) -> str:
        return f"{self.column}: {self.message}"


@dataclass(frozen=True)
class ColumnChoice:
    """The feature columns chosen, typed roles, and a note per column left out or suspect.

    typed: the chosen columns of every row, already typed (contract.cells.typed_table), so
    the table is read once.
    """

    roles: ColumnRoles
    notes: tuple[ColumnNote, ...]
    typed: pd.DataFrame

    @property
    def warnings(self) -> list[ColumnNote]:
        """Notes about columns that were kept but look suspect."""
        return [note for note in self.notes if note.kind == "warning"]


def single_column_auc(values: pd.Series, labels: np.ndarray) -> float:
    """How well one typed column alone ranks churners: ROC-AUC, 0.5 for no signal.

    Numbers rank by value (missing below every value), categories by the churn rate of
    the other rows of the same category (leave-one-out, so a category seen once does not
    score its own label), missing as a category of its own.
    """
    if pd.api.types.is_float_dtype(values):
        numbers = values.to_numpy(dtype=np.float64)
        lowest = np.nanmin(numbers) - 1 if np.isfinite(numbers).any() else 0.0
        auc = roc_auc_score(labels, np.where(np.isnan(numbers), lowest, numbers))
        return float(max(auc, 1.0 - auc))  # either direction of a number may rank churners
    keys = values.fillna("\0missing").astype(str)
    grouped = pd.Series(labels, index=values.index, dtype=float).groupby(keys)
    total = grouped.transform("sum").to_numpy() - labels
    others = grouped.transform("size").to_numpy() - 1
    score = np.divide(total, others, out=np.full(len(labels), labels.mean()), where=others > 0)
    return float(roc_auc_score(labels, score))


def _is_row_counter(numbers: pd.Series) -> bool:
    """Whether distinct numbers are whole and fill (nearly) their range: 1..n in any order."""
    values = numbers.to_numpy(dtype=np.float64)
    if not np.array_equal(values, np.round(values)):
        return False
    return len(values) >= ROW_COUNTER_FILL * (values.max() - values.min() + 1)


def _identifier_reason(
    values: pd.Series, column: str, numeric: bool, config: TableConfig
) -> str | None:
    """Why a typed column identifies customers rather than describing them, or None."""
    present = values.dropna()
    if len(present) < MIN_ROWS_FOR_ID_CHECK:
        return None
    distinct_share = present.nunique() / len(present)
    if numeric:
        if distinct_share < 1.0:
            return None
        if ID_NAME.search(column):
            return "looks like an id: a distinct value on every row"
        if _is_row_counter(present):
            return (
                "looks like a row number: a distinct whole number on every row, "
                f"{present.min():.0f} to {present.max():.0f}"
            )
        return None
    if distinct_share >= config.id_unique_share:
        return "looks like an id: a distinct value on every row"
    if re.sub(r"[\s_.-]", "", column).lower() in PERSONAL_NAMES:
        return "a name or contact detail: it identifies a customer rather than describing one"
    return None


def choose_columns(
    frame: pd.DataFrame, labels: np.ndarray, columns: Sequence[str], config: TableConfig
) -> ColumnChoice:
    """Feature columns of a flat table with notes on what was left out and what looks leaky.

    Parameters
    ----------
    frame : the table's rows as read (contract.table.CustomerTable.frame)
    labels : (n,) 0/1 churn labels of those rows
    columns : candidate columns, in table order (the id, label and excluded ones removed)
    config : the id and leakage thresholds
    """
    notes: list[ColumnNote] = []
    roles = infer_roles(frame, columns)
    typed = typed_table(frame[list(columns)], roles)
    kept: list[str] = []
    for column in columns:
        values = typed[column]
        numeric = column in roles.numeric
        if values.isna().all():
            notes.append(ColumnNote(column, "left out", "every value is empty"))
        elif values.nunique(dropna=False) < 2:
            notes.append(ColumnNote(column, "left out", "the same value on every row"))
        elif reason := _identifier_reason(values, column, numeric, config):
            notes.append(ColumnNote(column, "left out", reason))
        else:
            kept.append(column)
    for column in kept:
        auc = single_column_auc(typed[column], labels)
        if auc >= config.leakage_auc:
            notes.append(
                ColumnNote(
                    column,
                    "warning",
                    f"alone ranks churners with AUC {auc:.3f}: possible leakage; is it known "
                    "before the customer churns? Leave it out with --exclude if not",
                    leakage_auc=auc,
                )
            )
    chosen = ColumnRoles(
        tuple(c for c in roles.numeric if c in kept),
        tuple(c for c in roles.categorical if c in kept),
    )
    return ColumnChoice(chosen, tuple(notes), typed[[*chosen.numeric, *chosen.categorical]])

"""Rows of a flat customer table, made ready for a model trained on such a table.

Batch scoring of a file (`zerochurn score --table`) and the service's /score_rows take
rows shaped like the training table: the model card's id column, any of the model's
columns (typed by contract/cells.py, as in training) and extra columns, such as the
churn label, which are ignored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zerochurn.contract.cells import ColumnRoles, TableValueError, to_categories, typed_table
from zerochurn.features.catalog import MONEY
from zerochurn.serving.model import ScoringModel

ID = "customer_id"
SHOWN = 5


class ModelKindError(ValueError):
    """The rows are of another kind than the champion reads (table rows vs feature records)."""


def require_kind(model: ScoringModel, kind: str, use_instead: str) -> None:
    """Raise ModelKindError unless the model reads `kind` rows ("contract" or "table")."""
    if model.card.data_kind != kind:
        raise ModelKindError(
            f"the champion (version {model.version}) was trained on "
            f"{'a flat customer table' if model.card.data_kind == 'table' else 'the raw tables'}"
            f": {use_instead}"
        )


def table_rows(frame: pd.DataFrame, model: ScoringModel) -> pd.DataFrame:
    """customer_id and the model's columns of flat-table rows, typed as in training.

    frame: rows with the card's id column and any of the model's columns (absent ones
    read as missing, others ignored but for the card's margin column and the cost
    columns of a model trained with costs, which scoring reads). Raises TableValueError when the id column is
    missing or empty in a row, when none of the model's columns is present, or when a
    value cannot be read as its column requires; rows are named by frame's index labels.
    """
    id_column = model.card.id_column
    if id_column not in frame:
        raise TableValueError(f"the rows have no id column {id_column!r}")
    ids = to_categories(frame[id_column])  # stripped text, None when blank
    blank = ids.index[ids.isna().to_numpy()]
    if len(blank):
        shown = ", ".join(str(row) for row in blank[:SHOWN])
        raise TableValueError(f"column {id_column!r} is empty in row(s) {shown}")
    present = [column for column in model.feature_names if column in frame]
    if not present:
        expected = ", ".join(model.feature_names[:20])
        raise TableValueError(f"the rows have none of the model's columns: expected {expected}")
    cost_columns = model.card.costs.columns if model.card.costs else ()
    extra = [c for c in (*cost_columns, model.card.margin_column) if c not in present]
    costs = [column for column in dict.fromkeys(extra) if column in frame.columns]
    roles = ColumnRoles(tuple(model.model.numeric), tuple(model.model.categorical))
    typed = typed_table(frame[[*present, *costs]], roles)
    money = {*cost_columns, model.card.margin_column}
    for column in typed.columns:
        if pd.api.types.is_float_dtype(typed[column]):
            _check_numbers(typed[column], MONEY if column in money else None)
    return pd.concat([ids.rename(ID), typed], axis=1).reset_index(drop=True)


def _check_numbers(values: pd.Series, valid: tuple[float, float] | None) -> None:
    """Raise TableValueError naming the column and rows of numbers that are not finite
    (text such as "1e400" or "inf" reads as infinite) or, for money, outside `valid`."""
    numbers = values.to_numpy(dtype=np.float64)
    bad = np.isinf(numbers)
    if valid is not None:
        bad |= (numbers < valid[0]) | (numbers > valid[1])
    if bad.any():
        rows = ", ".join(str(row) for row in values.index[bad][:SHOWN])
        allowed = "finite numbers" if valid is None else f"numbers in [{valid[0]:g}, {valid[1]:g}]"
        raise TableValueError(f"column {values.name!r} expects {allowed}, not in row(s) {rows}")

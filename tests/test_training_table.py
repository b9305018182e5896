"""Training rows of a flat table: which columns, which warnings, and the stratified split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zerochurn.configs import load_settings
from zerochurn.configs.settings import TableConfig
from zerochurn.contract.table import CustomerTable
from zerochurn.training.columns import choose_columns, single_column_auc
from zerochurn.training.data import LABEL, table_snapshots
from zerochurn.training.split import MIN_ROWS_PER_CLASS, stratified_split

N = 200


def _table(columns: dict[str, object], labels: np.ndarray) -> CustomerTable:
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(labels))], **columns})
    return CustomerTable(
        Path("extract.csv"), frame, pd.Series(labels, dtype="Int8"), "customer_id", "churn"
    )


def _labels(seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random(N) < 0.3).astype(np.int64)


def test_single_column_auc_by_hand():
    labels = np.array([0, 0, 1, 1])
    assert single_column_auc(pd.Series([1.0, 2.0, 3.0, 4.0]), labels) == 1.0
    assert single_column_auc(pd.Series([4.0, 3.0, 2.0, 1.0]), labels) == 1.0  # either direction
    # Leave-one-out churn rate: a category of one row says nothing about its own label.
    assert single_column_auc(pd.Series(["a", "b", "c", "d"], dtype=object), labels) == 0.5


def test_choose_columns_leaves_out_empty_constant_and_id_like_and_flags_leakage():
    labels = _labels()
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "empty": [" "] * N,
            "constant": ["x"] * N,
            "email": [f"user{i}@example.com" for i in range(N)],
            "account_no": np.arange(N),
            "tenure": rng.integers(0, 70, N).astype(str),
            "plan": rng.choice(["basic", "pro"], N),
            "closing_reason": np.where(labels == 1, "moved", " "),
        }
    )
    choice = choose_columns(frame, labels, list(frame.columns), TableConfig())
    left_out = {note.column: note.message for note in choice.notes if note.kind == "left out"}
    assert set(left_out) == {"empty", "constant", "email", "account_no"}
    assert "looks like an id" in left_out["email"]
    assert choice.roles.numeric == ("tenure",)
    assert choice.roles.categorical == ("plan", "closing_reason")
    (warning,) = choice.warnings
    assert warning.column == "closing_reason" and "possible leakage" in warning.message


def test_row_numbers_and_names_are_left_out_like_ids():
    # The bank churn extract: RowNumber, CustomerId, Surname; pandas' "Unnamed: 0" index.
    labels = _labels()
    rng = np.random.default_rng(4)
    order = rng.permutation(N)
    frame = pd.DataFrame(
        {
            "RowNumber": (np.arange(N) + 1).astype(str),
            "Unnamed: 0": order.astype(str),
            "Surname": rng.choice([f"name{i}" for i in range(N // 3)], N),
            "amount_paid": rng.normal(50, 10, N).round(2).astype(str),
            "tenure": rng.integers(0, 70, N).astype(str),
        }
    )
    choice = choose_columns(frame, labels, list(frame.columns), TableConfig())
    left_out = {note.column: note.message for note in choice.notes if note.kind == "left out"}
    assert set(left_out) == {"RowNumber", "Unnamed: 0", "Surname"}
    assert "looks like an id" in left_out["RowNumber"]
    assert left_out["Unnamed: 0"] == (
        "looks like a row number: a distinct whole number on every row, 0 to 199"
    )
    assert "name or contact detail" in left_out["Surname"]
    # Unique amounts are no id, even with a name ending in "id" letters.
    assert choice.roles.numeric == ("amount_paid", "tenure")


def test_table_snapshots_split_stratified_and_typed():
    labels = _labels()
    rng = np.random.default_rng(2)
    table = _table(
        {"tenure": [f" {v} " for v in rng.integers(0, 70, N)], "plan": rng.choice(["a", "b"], N)},
        labels,
    )
    snapshots = table_snapshots(table, load_settings(environ={}))
    assert snapshots.kind == "table" and snapshots.split.describe()["test"][0].endswith("rows")
    assert snapshots.calibration.empty  # calibrated on out-of-fold scores of the train rows
    assert len(snapshots.train) + len(snapshots.test) == N and len(snapshots.test) == 0.2 * N
    assert not set(snapshots.train["customer_id"]) & set(snapshots.test["customer_id"])
    for frame in (snapshots.train, snapshots.test):
        assert abs(frame[LABEL].mean() - labels.mean()) < 0.05
    assert snapshots.train["tenure"].dtype == "float64"
    assert snapshots.features == ["tenure", "plan"]


def test_blank_labels_dropped_with_a_warning_and_cost_columns_kept_not_learnt():
    labels = _labels().astype(object)
    labels[:5] = pd.NA
    rng = np.random.default_rng(3)
    table = _table(
        {"tenure": rng.integers(0, 70, N), "offer_cost": ["20"] * N},
        pd.array(labels, dtype="Int8"),
    )
    settings = load_settings(
        overrides={"costs.missed_churner": 500, "costs.retention_offer": "offer_cost"},
        environ={},
    )
    snapshots = table_snapshots(table, settings)
    assert snapshots.features == ["tenure"]
    assert "offer_cost" in snapshots.test.columns
    assert len(snapshots.train) + len(snapshots.test) == N - 5
    assert any("5 rows without a label" in note.message for note in snapshots.notes)


def test_no_usable_column_is_an_error_that_says_why():
    table = _table({"constant": ["x"] * N}, _labels())
    with pytest.raises(ValueError, match="no usable feature column: constant: the same value"):
        table_snapshots(table, load_settings(environ={}))


def test_excluding_an_unknown_column_is_an_error():
    table = _table({"tenure": np.arange(N)}, _labels())
    settings = load_settings(overrides={"table.exclude": ["tenur"]}, environ={})
    with pytest.raises(ValueError, match=r"table.exclude names \['tenur'\], not in the table"):
        table_snapshots(table, settings)


def test_split_needs_enough_of_each_label():
    labels = np.array([1] * (MIN_ROWS_PER_CLASS - 1) + [0] * 100)
    with pytest.raises(ValueError, match=f"only {MIN_ROWS_PER_CLASS - 1} rows of the rarer label"):
        stratified_split(labels, test_fraction=0.2, seed=0)

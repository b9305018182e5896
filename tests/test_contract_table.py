"""Reading a flat customer table: ids, labels and clear errors naming file, column and rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from zerochurn.contract.table import ID, read_customer_table, read_frame
from zerochurn.contract.validate import DataValidationError


def _write(tmp_path: Path, rows: dict[str, list], name: str = "customers.csv") -> Path:
    path = tmp_path / name
    frame = pd.DataFrame(rows)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def _problems(path: Path, **kwargs) -> list[str]:
    with pytest.raises(DataValidationError) as caught:
        read_customer_table(path, **kwargs)
    return [str(problem) for problem in caught.value.problems]


def test_reads_ids_labels_and_leaves_other_columns_as_text(tmp_path):
    path = _write(
        tmp_path,
        {
            "customerID": [" A-1", "B-2", "C-3"],
            "tenure": ["1", "", "30"],
            "Churn": ["Yes", "no", " "],
        },
    )
    table = read_customer_table(path, id_column="customerID", target_column="Churn")
    assert list(table.frame.columns) == [ID, "tenure"]
    assert table.frame[ID].tolist() == ["A-1", "B-2", "C-3"]
    assert table.labels.tolist()[:2] == [1, 0] and pd.isna(table.labels.iloc[2])
    assert table.columns == ["tenure"]
    assert (table.id_column, table.target_column) == ("customerID", "Churn")


def test_parquet_keeps_its_types(tmp_path):
    path = _write(tmp_path, {"id": [1, 2], "x": [0.5, 1.5], "y": [True, False]}, name="t.parquet")
    table = read_customer_table(path, id_column="id", target_column="y")
    assert table.frame[ID].tolist() == ["1", "2"]
    assert table.frame["x"].dtype == "float64"
    assert table.labels.tolist() == [1, 0]


def test_every_problem_at_once_with_rows(tmp_path):
    path = _write(
        tmp_path,
        {"id": ["a", "a", "", "b"], "label": ["yes", "no", "yes", "perhaps"]},
    )
    problems = _problems(path, id_column="id", target_column="label")
    assert any("empty id in rows (3,)" in p for p in problems)
    assert any("'a' appear more than once (rows (1, 2), 2 rows)" in p for p in problems)
    assert any("'label'" in p and "'perhaps'" in p for p in problems)
    assert all(p.startswith(("id (customers.csv)", "label (customers.csv)")) for p in problems)


def test_missing_columns_list_what_the_file_has(tmp_path):
    path = _write(tmp_path, {"customer": ["a"], "x": [1]})
    (id_problem, label_problem) = _problems(path, id_column="id", target_column="churn")
    assert "no id column 'id'; the columns are customer, x" in id_problem
    assert "no churn label column 'churn'" in label_problem


def test_constant_or_empty_target(tmp_path):
    constant = _write(tmp_path, {"id": ["a", "b"], "churn": ["No", "no"]})
    (problem,) = _problems(constant, id_column="id", target_column="churn")
    assert "every customer stayed: the label is constant" in problem
    empty = _write(tmp_path, {"id": ["a", "b"], "churn": ["", " "]}, name="empty.csv")
    (problem,) = _problems(empty, id_column="id", target_column="churn")
    assert "every churn label is empty" in problem


def test_unreadable_or_unknown_files(tmp_path):
    with pytest.raises(DataValidationError, match="no such file"):
        read_frame(tmp_path / "absent.csv")
    with pytest.raises(DataValidationError, match=r"expected a \.parquet or \.csv file"):
        read_frame(tmp_path / "table.xlsx")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(DataValidationError, match="cannot read"):
        read_frame(broken)


def test_a_bad_label_names_its_data_row_as_id_problems_do(tmp_path):
    # Churn_Modelling.csv copies circulate with an extra last row whose label reads '50000'.
    path = _write(tmp_path, {"id": ["a", "b", "c"], "Exited": ["1", "0", "50000"]})
    (problem,) = _problems(path, id_column="id", target_column="Exited")
    assert "got row 3: '50000'" in problem


def test_upper_case_suffix_reads_and_another_separator_is_named(tmp_path):
    path = tmp_path / "TELCO.CSV"
    path.write_text("customerID;Churn\nA;Yes\nB;No\n")
    (id_problem, label_problem) = _problems(path, id_column="customerID", target_column="Churn")
    assert "the columns are customerID;Churn (separated by ';'? save the file with commas)" in (
        id_problem
    )
    path.write_text("customerID,Churn\nA,Yes\nB,No\n")
    table = read_customer_table(path, id_column="customerID", target_column="Churn")
    assert table.labels.tolist() == [1, 0]

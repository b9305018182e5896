"""Reading a flat table's values: numbers as text, blanks, categories and churn labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zerochurn.contract.cells import (
    CHURNED_WORDS,
    FEW_ROWS,
    STAYED_WORDS,
    ColumnRoles,
    TableValueError,
    infer_roles,
    is_numeric_column,
    parse_labels,
    to_categories,
    to_numbers,
    typed_table,
)


def test_numbers_stored_as_text_with_blanks_and_spaces():
    values = pd.Series(["29.85", " 1889.5 ", "", " ", None, "1e3", "-2"], dtype=object)
    np.testing.assert_array_equal(
        to_numbers(values, "TotalCharges"), [29.85, 1889.5, np.nan, np.nan, np.nan, 1000.0, -2.0]
    )


def test_numeric_columns_pass_through():
    values = pd.Series([1, 2, None], dtype="Int64")
    np.testing.assert_array_equal(to_numbers(values, "n"), [1.0, 2.0, np.nan])
    assert to_numbers(pd.Series([True, False]), "flag").tolist() == [1.0, 0.0]


def test_a_word_in_a_number_column_names_column_and_rows():
    values = pd.Series(["1", "two", "3", "n/a"])
    with pytest.raises(TableValueError, match=r"'tenure' expects numbers, got row 1: 'two', row 3"):
        to_numbers(values, "tenure")


def test_categories_are_stripped_and_blanks_missing():
    values = pd.Series([" Month-to-month", "One year ", "", "  ", None, np.nan])
    assert to_categories(values).tolist() == [
        "Month-to-month",
        "One year",
        None,
        None,
        None,
        None,
    ]


def test_whole_float_categories_lose_their_fraction():
    # A category coded 1, 2, 3 that arrives as floats reads like the text it was trained on.
    assert to_categories(pd.Series([1.0, 2.5, np.nan])).tolist() == ["1", "2.5", None]


def test_numeric_detection():
    assert is_numeric_column(pd.Series(["1", " 2.5", "", None]))
    assert is_numeric_column(pd.Series([1, 2]))
    assert not is_numeric_column(pd.Series(["1", "x"]))
    assert not is_numeric_column(pd.Series(["", None]))  # nothing to read: not a number column
    assert not is_numeric_column(pd.Series([True, False]))


def test_roles_and_typed_table_keep_other_columns():
    frame = pd.DataFrame(
        {"customer_id": ["a", "b"], "tenure": ["1", " "], "Contract": ["x ", ""], "n": [1, 2]}
    )
    roles = infer_roles(frame, ["tenure", "Contract", "n"])
    assert roles == ColumnRoles(numeric=("tenure", "n"), categorical=("Contract",))
    typed = typed_table(frame, roles)
    assert typed["customer_id"].tolist() == ["a", "b"]
    np.testing.assert_array_equal(typed["tenure"], [1.0, np.nan])
    assert typed["Contract"].tolist() == ["x", None]


def test_typed_table_skips_role_columns_the_rows_lack():
    typed = typed_table(pd.DataFrame({"a": ["1"]}), ColumnRoles(("a", "b"), ("c",)))
    assert list(typed.columns) == ["a"]


def test_label_spellings_any_case():
    values = pd.Series(["Yes", "no", "TRUE", "false", "1", "0", "1.0", "Churned", "ACTIVE", " y "])
    assert parse_labels(values, "Churn").tolist() == [1, 0, 1, 0, 1, 0, 1, 1, 0, 1]


def test_blank_labels_are_missing_and_booleans_work():
    parsed = parse_labels(pd.Series(["Yes", "", None, "No"]), "Churn")
    assert parsed.dtype == "Int8"
    assert parsed.isna().tolist() == [False, True, True, False]
    assert parse_labels(pd.Series([True, False]), "Churn").tolist() == [1, 0]
    assert parse_labels(pd.Series([1, 0, 1]), "Churn").tolist() == [1, 0, 1]


def test_unknown_label_names_column_and_values():
    with pytest.raises(TableValueError, match=r"'Exited'.*row 2: 'maybe'"):
        parse_labels(pd.Series(["yes", "no", "maybe"]), "Exited")


def test_unknown_label_suggests_naming_the_churned_value():
    values = pd.Series(["Existing Customer", "Attrited Customer"])
    with pytest.raises(TableValueError) as caught:
        parse_labels(values, "Attrition_Flag")
    message = str(caught.value)
    assert "'Attrition_Flag'" in message and "row 0: 'Existing Customer'" in message
    assert message.endswith(
        "say which value means churned with --positive VALUE (table.positive_label)"
    )


def test_positive_value_is_churned_and_every_other_value_stayed():
    # The bank churn set's labels: stripped, any case, otherwise exact ("Attrited" alone is not it).
    values = pd.Series(
        [
            "Attrited Customer",
            "Existing Customer",
            " attrited customer ",
            "ATTRITED CUSTOMER",
            "Attrited",
            "yes",
            "",
            "  ",
            None,
        ]
    )
    parsed = parse_labels(values, "Attrition_Flag", positive="  Attrited Customer ")
    assert parsed.dtype == "Int8"
    assert parsed.tolist()[:6] == [1, 0, 1, 1, 0, 0]  # "yes" is just another value here
    assert parsed.isna().tolist() == [False] * 6 + [True] * 3  # blanks stay missing


def test_positive_value_in_typed_columns():
    # Parquet keeps types: a float label column with a gap reads 1.0 as "1"; booleans as text.
    floats = pd.Series([1.0, 0.0, np.nan, 2.0])
    assert parse_labels(floats, "Exited", positive="1").tolist() == [1, 0, pd.NA, 0]
    assert parse_labels(pd.Series([True, False]), "flag", positive="TRUE").tolist() == [1, 0]
    # "0" as the churned value inverts what the common spellings would read.
    assert parse_labels(pd.Series(["0", "1", "0"]), "active", positive="0").tolist() == [1, 0, 1]


def test_positive_value_absent_names_column_and_values_seen():
    values = pd.Series(["Existing Customer"] * 3 + ["Atrited Customer", "", "Closed"])
    with pytest.raises(
        TableValueError,
        match=r"'Attrition_Flag' is the churn label: no row holds the churned value "
        r"'Attrited Customer'; the values are 'Existing Customer', 'Atrited Customer', 'Closed'$",
    ):
        parse_labels(values, "Attrition_Flag", positive="Attrited Customer")
    many = pd.Series([f"v{i}" for i in range(8)])
    with pytest.raises(TableValueError, match=r"'v0', 'v1', 'v2', 'v3', 'v4' and 3 more$"):
        parse_labels(many, "y", positive="churned")


def test_positive_value_on_an_empty_column_leaves_every_label_missing():
    # Nothing to look for: the reader then reports "every churn label is empty".
    assert parse_labels(pd.Series(["", None]), "y", positive="x").isna().all()


@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(CHURNED_WORDS | STAYED_WORDS)), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_any_case_of_any_spelling_parses(words):
    values = pd.Series([word.upper() if upper else word for word, upper in words])
    expected = [1 if word in CHURNED_WORDS else 0 for word, _ in words]
    assert parse_labels(values, "label").tolist() == expected


def test_money_and_gap_marks_in_number_columns():
    # Extracts format money ("$1,889.50") and mark gaps with "?" (UCI) or "-" (spreadsheets).
    values = pd.Series(["$1,889.50", " € 29.85", "-$5", "1,234", "?", "-", "12"])
    assert is_numeric_column(values)
    np.testing.assert_array_equal(
        to_numbers(values, "TotalCharges"), [1889.5, 29.85, -5.0, 1234.0, np.nan, np.nan, 12.0]
    )
    # A decimal comma is not a thousands separator: no number, so the column is text.
    assert not is_numeric_column(pd.Series(["29,85", "1"]))
    assert not is_numeric_column(pd.Series(["?", "-"]))
    assert to_categories(pd.Series(["-", "?"])).tolist() == ["-", "?"]


CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.sampled_from(["", " ", " 12 ", "3.5", "-2", "1e3", ".5", "yes", " Fiber optic ", "nan"]),
)


def _padded(cells: list, column: str):
    """The values read one by one (few rows) and by the vectorised path (many rows)."""
    few = pd.Series(cells, dtype=object)
    many = pd.Series(cells * (FEW_ROWS // len(cells) + 1), dtype=object)
    return few, many


@given(st.lists(CELLS, min_size=1, max_size=8))
def test_few_rows_read_like_many(cells):
    few, many = _padded(cells, "c")
    assert to_categories(few).tolist() == to_categories(many).tolist()[: len(cells)]
    try:
        expected = to_numbers(many, "c")[: len(cells)]
    except TableValueError:
        with pytest.raises(TableValueError):
            to_numbers(few, "c")
    else:
        np.testing.assert_array_equal(to_numbers(few, "c"), expected)


@given(st.lists(st.sampled_from(["", " ", " a ", "b", "nan", None]), min_size=1, max_size=8))
def test_few_text_cells_read_like_many(cells):
    # pandas' own text dtype takes the one-by-one path too.
    few = pd.Series(cells, dtype="str")
    many = pd.Series(cells * (FEW_ROWS // len(cells) + 1), dtype="str")
    assert to_categories(few).tolist() == to_categories(many).tolist()[: len(cells)]

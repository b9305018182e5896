"""The data contract: loading and normalising a raw folder, and every problem it reports."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zerochurn.contract.schema import GRADE_SCORES, SURVEY_DIMENSIONS, SURVEY_ITEMS, TABLES
from zerochurn.contract.validate import (
    DataValidationError,
    Problem,
    load_raw,
    validate_dir,
)
from zerochurn.io import write_table

Tables = dict[str, pd.DataFrame]

DOCS = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"


def _frame(header: str, *rows: str) -> pd.DataFrame:
    """A frame of text cells from comma-separated lines; an empty cell is missing."""
    columns = header.split(",")
    cells = [[cell or None for cell in row.split(",")] for row in rows]
    return pd.DataFrame(cells, columns=columns, dtype="str")


def valid_tables() -> Tables:
    """A tiny valid world as text, the way a CSV holds it."""
    return {
        "customers": _frame(
            "customer_id,signup_date,region,segment,plan,cancel_date",
            "007,2023-01-01,north,smb,basic,",
            "C2,2023-02-01,south,enterprise,,2023-06-01",
            "C3,2023-03-01,north,smb,pro,",
        ),
        "transactions": _frame(
            "customer_id,date,amount,cost",
            "007,2023-01-05,10.5,4",
            "C2,2023-02-03,20,5.5",
            "C3,2023-03-10,0,0",
            "007,2023-02-05,12,4",
        ),
        "surveys": _frame(
            "customer_id,date,item,dimension,grade",
            "007,2023-03-31,product_quality,product_quality,A",
            "007,2023-03-31,price_level,price,b",
            "C2,2023-03-31,delivery_speed,logistics,75",
            "C3,2023-03-31,complaint_handling,complaint_handling,25",
        ),
        "complaints": _frame(
            "complaint_id,customer_id,opened_at,channel,category,department,"
            "due_at,resolved_at,followed_up_at,followup_grade",
            "K1,007,2023-02-01,hotline,delivery,logistics,2023-02-08,2023-02-06,2023-02-10,B",
            "K2,C2,2023-03-01,email,invoice,finance,2023-03-08,,,",
        ),
    }


def _with_dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.assign(**{column: pd.to_datetime(frame[column]) for column in columns})


def typed_tables() -> Tables:
    """The same world with the column types a Parquet export would have."""
    tables = valid_tables()
    complaint_dates = ("opened_at", "due_at", "resolved_at", "followed_up_at")
    return {
        "customers": _with_dates(tables["customers"], "signup_date", "cancel_date"),
        "transactions": _with_dates(tables["transactions"], "date").astype(
            {"amount": "float64", "cost": "float64"}
        ),
        "surveys": _with_dates(tables["surveys"], "date"),
        "complaints": _with_dates(tables["complaints"], *complaint_dates).assign(
            followup_grade=[75.0, np.nan]
        ),
    }


def write(folder: Path, tables: Tables, fmt: str = "csv") -> Path:
    """Write each table as <name>.<fmt> into `folder` and return the folder."""
    for name, frame in tables.items():
        write_table(frame, folder / f"{name}.{fmt}")
    return folder


def problems_of(folder: Path) -> list[Problem]:
    """The problems validate_dir finds, checking that it loads exactly when there are none."""
    raw, problems = validate_dir(folder)
    assert (raw is None) == bool(problems)
    return problems


# --- a valid folder ---


@pytest.mark.parametrize("tables", [valid_tables, typed_tables], ids=["text", "typed"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_valid_folder_loads_normalised(tmp_path: Path, tables: Callable[[], Tables], fmt: str):
    raw = load_raw(write(tmp_path, tables(), fmt))

    customers, transactions = raw.customers, raw.transactions
    assert customers["customer_id"].tolist() == ["007", "C2", "C3"]
    assert customers.dtypes.to_dict() == {
        "customer_id": "str",
        "signup_date": "datetime64[ns]",
        "region": "category",
        "segment": "category",
        "plan": "category",
        "cancel_date": "datetime64[ns]",
    }
    assert customers["plan"].isna().tolist() == [False, True, False]
    assert customers["cancel_date"].tolist()[1] == pd.Timestamp("2023-06-01")
    assert transactions.dtypes.to_dict() == {
        "customer_id": "category",
        "date": "datetime64[ns]",
        "amount": "float64",
        "cost": "float64",
    }
    assert transactions["amount"].tolist() == [10.5, 20.0, 0.0, 12.0]
    assert list(raw.surveys.columns) == ["customer_id", "date", "item", "dimension", "score"]
    assert raw.surveys["score"].dtype == "int64"
    assert raw.surveys["score"].tolist() == [100, 75, 75, 25]
    complaints = raw.complaints
    assert "followup_grade" not in complaints
    assert complaints["followup_score"].dtype == "float64"
    assert complaints["followup_score"].tolist()[0] == 75.0
    assert np.isnan(complaints["followup_score"].iloc[1])
    assert complaints["resolved_at"].dtype == "datetime64[ns]"
    assert pd.isna(complaints["resolved_at"].iloc[1])


def test_optional_tables_and_columns_may_be_absent(tmp_path: Path):
    tables = valid_tables()
    tables = {
        "customers": tables["customers"].drop(columns="plan"),
        "transactions": tables["transactions"].drop(columns="cost"),
    }
    raw = load_raw(write(tmp_path, tables))
    assert raw.surveys is None
    assert raw.complaints is None
    assert "plan" not in raw.customers
    assert "cost" not in raw.transactions


def test_unknown_columns_are_ignored_and_ids_are_text(tmp_path: Path):
    tables = valid_tables()
    customers = tables["customers"].assign(customer_id=["7", "2", "3"], note="x")
    transactions = tables["transactions"].assign(customer_id=[7, 2, 3, 7], extra=1.5)
    write(tmp_path, {"customers": customers}, "csv")
    write(tmp_path, {"transactions": transactions}, "parquet")
    raw = load_raw(tmp_path)
    assert "note" not in raw.customers
    assert "extra" not in raw.transactions
    assert raw.transactions["customer_id"].tolist() == ["7", "2", "3", "7"]
    assert raw.transactions["customer_id"].cat.categories.tolist() == ["2", "3", "7"]
    assert raw.transactions["customer_id"].cat.categories.dtype == "str"


CATEGORICAL_COLUMNS = {
    "customers": ["region", "segment", "plan"],
    "transactions": ["customer_id"],
    "surveys": ["customer_id", "item", "dimension"],
    "complaints": ["customer_id", "channel", "category", "department"],
}
"""The columns RawData holds as categoricals: text, and the customer_id of event tables."""


@pytest.mark.parametrize("tables", [valid_tables, typed_tables], ids=["text", "typed"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_text_and_event_ids_load_as_categoricals_of_sorted_text(
    tmp_path: Path, tables: Callable[[], Tables], fmt: str
):
    given = tables()
    raw = load_raw(write(tmp_path, given, fmt))
    for name, columns in CATEGORICAL_COLUMNS.items():
        frame = getattr(raw, name)
        for column in columns:
            values = frame[column]
            assert isinstance(values.dtype, pd.CategoricalDtype), f"{name}.{column}"
            categories = values.cat.categories
            assert categories.dtype == "str"
            assert categories.tolist() == sorted(given[name][column].dropna().unique())
            pd.testing.assert_series_equal(values.astype("str"), given[name][column])
    assert raw.customers["customer_id"].dtype == "str"
    assert raw.complaints["complaint_id"].dtype == "str"


def test_categorical_text_is_stripped_and_blanks_are_missing(tmp_path: Path):
    tables = valid_tables()
    tables["customers"] = tables["customers"].assign(
        region=[" north", "south ", "north"], plan=["basic", "  ", "pro"]
    )
    tables["transactions"] = tables["transactions"].assign(customer_id=["007", " C2", "C3 ", "007"])
    raw = load_raw(write(tmp_path, tables))
    region = raw.customers["region"]
    assert region.cat.categories.tolist() == ["north", "south"]
    assert region.tolist() == ["north", "south", "north"]
    assert raw.customers["plan"].isna().tolist() == [False, True, False]
    assert raw.customers["plan"].cat.categories.tolist() == ["basic", "pro"]
    assert raw.transactions["customer_id"].cat.categories.tolist() == ["007", "C2", "C3"]


def test_survey_answers_may_come_as_score_column(tmp_path: Path):
    tables = valid_tables()
    tables["surveys"] = tables["surveys"].rename(columns={"grade": "score"})
    raw = load_raw(write(tmp_path, tables))
    assert raw.surveys["score"].tolist() == [100, 75, 75, 25]


def test_timestamps_with_offsets_become_naive_utc(tmp_path: Path):
    tables = valid_tables()
    tables["transactions"] = tables["transactions"].assign(
        date=["2023-01-05T10:00:00+02:00", "2023-02-03T00:30:00Z", "2023-03-10", "2023-02-05"]
    )
    raw = load_raw(write(tmp_path, tables))
    assert raw.transactions["date"].dtype == "datetime64[ns]"
    assert raw.transactions["date"].iloc[0] == pd.Timestamp("2023-01-05 08:00")
    assert raw.transactions["date"].iloc[1] == pd.Timestamp("2023-02-03 00:30")


def test_csv_dates_load_the_same_read_as_timestamps_or_as_text(tmp_path: Path):
    # Plain dates are read as timestamps; one value with a zone (the same instant) makes
    # the loader read the column as text and parse it: the loaded tables are the same.
    tables = valid_tables()
    plain = load_raw(write(tmp_path / "plain", tables))
    tables["transactions"] = tables["transactions"].assign(
        date=["2023-01-05T00:00:00Z", "2023-02-03", " 2023-03-10 ", "2023-02-05"]
    )
    zoned = load_raw(write(tmp_path / "zoned", tables))
    for name in ("customers", "transactions", "surveys", "complaints"):
        pd.testing.assert_frame_equal(getattr(plain, name), getattr(zoned, name))


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.sampled_from([*GRADE_SCORES.items(), *[(str(s), s) for s in GRADE_SCORES.values()]]),
        min_size=4,
        max_size=4,
    ),
    st.lists(st.sampled_from([str.lower, str.upper, lambda g: f" {g} "]), min_size=4, max_size=4),
    st.sampled_from(["csv", "parquet"]),
)
def test_any_mix_of_grade_spellings_normalises_to_scores(
    answers: list[tuple[str, int]], spellings: list[Callable[[str], str]], fmt: str
):
    tables = valid_tables()
    grades = [spell(grade) for (grade, _), spell in zip(answers, spellings, strict=True)]
    tables["surveys"] = tables["surveys"].assign(grade=grades)
    tables["complaints"] = tables["complaints"].assign(followup_grade=[grades[0], None])
    with tempfile.TemporaryDirectory() as folder:
        raw = load_raw(write(Path(folder), tables, fmt))
    assert raw.surveys["score"].tolist() == [score for _, score in answers]
    assert raw.complaints["followup_score"].iloc[0] == answers[0][1]


# --- the folder and its files ---


def test_missing_folder(tmp_path: Path):
    with pytest.raises(DataValidationError, match=r"nowhere: does not exist: expected a folder"):
        load_raw(tmp_path / "nowhere")


def test_folder_that_is_a_file(tmp_path: Path):
    file = tmp_path / "data.csv"
    file.write_text("x\n1\n")
    [problem] = problems_of(file)
    assert problem.table is None
    assert "is not a folder" in str(problem)


def test_missing_required_table(tmp_path: Path):
    tables = valid_tables()
    del tables["transactions"]
    [problem] = problems_of(write(tmp_path, tables))
    assert str(problem) == (
        f"transactions: no file: expected transactions.parquet or transactions.csv in {tmp_path}"
    )


def test_table_in_both_formats_is_ambiguous(tmp_path: Path):
    tables = valid_tables()
    write(tmp_path, tables, "csv")
    write(tmp_path, {"surveys": tables["surveys"]}, "parquet")
    [problem] = problems_of(tmp_path)
    assert problem.table == "surveys"
    assert "found surveys.parquet and surveys.csv: expected exactly one" in str(problem)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("customers.parquet", b"not parquet at all", r"Parquet"),
        ("customers.csv", b"", r"No columns"),
        (
            "customers.csv",
            b"customer_id,signup_date,region,segment,plan,cancel_date\n1,2023-01-01,n,s,,,x\n",
            r"Expected 6 columns, got 7",
        ),
    ],
    ids=["bad-parquet", "empty-file", "ragged-csv"],
)
def test_unreadable_file(tmp_path: Path, name: str, content: bytes, reason: str):
    tables = valid_tables()
    del tables["customers"]
    write(tmp_path, tables)
    (tmp_path / name).write_bytes(content)
    [problem] = problems_of(tmp_path)
    assert problem.file == name
    assert re.search(rf"^customers \({name}\): cannot be read \(.*{reason}", str(problem))


@pytest.mark.parametrize(("table", "required"), [("transactions", True), ("complaints", False)])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_table_without_rows(tmp_path: Path, table: str, required: bool, fmt: str):
    tables = valid_tables()
    tables[table] = tables[table].iloc[:0]
    [problem] = problems_of(write(tmp_path, tables, fmt))
    assert str(problem).startswith(f"{table} ({table}.{fmt}): no rows: expected data rows")
    assert ("or no file" in problem.message) is not required


def test_missing_required_column(tmp_path: Path):
    tables = valid_tables()
    tables["customers"] = tables["customers"].drop(columns="signup_date")
    [problem] = problems_of(write(tmp_path, tables))
    assert str(problem) == (
        "customers.signup_date (customers.csv): column missing: expected a date column named "
        "signup_date (the file has customer_id, region, segment, plan, cancel_date)"
    )


def test_grade_and_score_together_are_ambiguous(tmp_path: Path):
    tables = valid_tables()
    tables["surveys"] = tables["surveys"].assign(score=tables["surveys"]["grade"])
    [problem] = problems_of(write(tmp_path, tables))
    assert str(problem) == (
        "surveys.grade (surveys.csv): columns grade and score both present: "
        "expected only one of them"
    )


# --- values: one broken cell at a time, and the exact line each produces ---


def _set(table: str, row: int, column: str, value: str | None) -> Callable[[Tables], Tables]:
    def change(tables: Tables) -> Tables:
        frame = tables[table].copy()
        frame.loc[row, column] = value
        return {**tables, table: frame}

    return change


def _append_copy(table: str, row: int) -> Callable[[Tables], Tables]:
    def change(tables: Tables) -> Tables:
        frame = tables[table]
        return {**tables, table: pd.concat([frame, frame.iloc[[row]]], ignore_index=True)}

    return change


VALUE_CASES = {
    "amount-not-numeric": (
        _set("transactions", 2, "amount", "12,50 EUR"),
        "transactions.amount (transactions.csv): '12,50 EUR' in row 3: expected a finite number",
    ),
    "unparseable-date": (
        _set("customers", 1, "signup_date", "01/02/2023"),
        "customers.signup_date (customers.csv): '01/02/2023' in row 2: "
        "expected an ISO 8601 date such as 2024-01-31 or 2024-01-31T09:30:00",
    ),
    "impossible-date": (
        _set("complaints", 0, "due_at", "2023-02-30"),
        "complaints.due_at (complaints.csv): '2023-02-30' in row 1: expected an ISO 8601 date",
    ),
    "null-in-non-nullable": (
        _set("customers", 2, "region", "  "),
        "customers.region (customers.csv): empty in row 3: expected a value in every row",
    ),
    "null-id": (
        _set("transactions", 0, "customer_id", None),
        "transactions.customer_id (transactions.csv): empty in row 1: expected a value",
    ),
    "negative-amount": (
        _set("transactions", 1, "amount", "-20"),
        "transactions.amount (transactions.csv): '-20' in row 2: expected an amount >= 0",
    ),
    "negative-cost": (
        _set("transactions", 3, "cost", "-0.5"),
        "transactions.cost (transactions.csv): '-0.5' in row 4: expected an amount >= 0",
    ),
    "duplicate-customer": (
        _append_copy("customers", 1),
        "customers.customer_id (customers.csv): 'C2' in rows 2, 4 (2 rows): "
        "expected each customer_id once",
    ),
    "duplicate-complaint": (
        _set("complaints", 1, "complaint_id", "K1"),
        "complaints.complaint_id (complaints.csv): 'K1' in rows 1, 2 (2 rows): "
        "expected each complaint_id once",
    ),
    "unknown-grade": (
        _set("surveys", 1, "grade", "E"),
        "surveys.grade (surveys.csv): 'E' in row 2: expected A, B, C, D or 100, 75, 50, 25",
    ),
    "unknown-followup-grade": (
        _set("complaints", 0, "followup_grade", "80"),
        "complaints.followup_grade (complaints.csv): '80' in row 1: "
        "expected A, B, C, D or 100, 75, 50, 25",
    ),
    "empty-grade": (
        _set("surveys", 3, "grade", None),
        "surveys.grade (surveys.csv): empty in row 4: expected a value in every row",
    ),
    "unknown-item": (
        _set("surveys", 0, "item", "parking"),
        "surveys.item (surveys.csv): 'parking' in row 1: "
        "expected one of the 22 survey items listed in docs/data-contract.md",
    ),
    "item-in-wrong-dimension": (
        _set("surveys", 1, "dimension", "logistics"),
        "surveys.dimension (surveys.csv): 'logistics' in row 2: "
        "expected the item's dimension (price_level -> price)",
    ),
    "transaction-before-signup": (
        _set("transactions", 2, "date", "2023-02-28"),
        "transactions.date (transactions.csv): 2023-02-28 in row 3: "
        "expected a date on or after the signup_date",
    ),
    "survey-before-signup": (
        _set("surveys", 3, "date", "2023-01-31"),
        "surveys.date (surveys.csv): 2023-01-31 in row 4: expected a date on or after the signup_date",
    ),
    "complaint-before-signup": (
        _set("complaints", 1, "opened_at", "2023-01-15"),
        "complaints.opened_at (complaints.csv): 2023-01-15 in row 2: "
        "expected a date on or after the signup_date",
    ),
    "cancel-before-signup": (
        _set("customers", 1, "cancel_date", "2023-01-31"),
        "customers.cancel_date (customers.csv): 2023-01-31 in row 2: "
        "expected a date on or after signup_date",
    ),
    "due-before-opened": (
        _set("complaints", 1, "due_at", "2023-02-28"),
        "complaints.due_at (complaints.csv): 2023-02-28 in row 2: "
        "expected a date on or after opened_at",
    ),
    "resolved-before-opened": (
        _set("complaints", 0, "resolved_at", "2023-01-31T23:59:00"),
        "complaints.resolved_at (complaints.csv): 2023-01-31 23:59:00 in row 1: "
        "expected a date on or after opened_at",
    ),
    "followed-up-before-opened": (
        _set("complaints", 0, "followed_up_at", "2023-01-20"),
        "complaints.followed_up_at (complaints.csv): 2023-01-20 in row 1: "
        "expected a date on or after opened_at",
    ),
    "unknown-customer-in-transactions": (
        _set("transactions", 3, "customer_id", "7"),
        "transactions.customer_id (transactions.csv): '7' in row 4: "
        "expected a customer_id of customers",
    ),
    "unknown-customer-in-surveys": (
        _set("surveys", 0, "customer_id", "C9"),
        "surveys.customer_id (surveys.csv): 'C9' in row 1: expected a customer_id of customers",
    ),
    "unknown-customer-in-complaints": (
        _set("complaints", 0, "customer_id", "C9"),
        "complaints.customer_id (complaints.csv): 'C9' in row 1: "
        "expected a customer_id of customers",
    ),
}


@pytest.mark.parametrize(("change", "line"), VALUE_CASES.values(), ids=VALUE_CASES.keys())
def test_each_bad_value_is_reported_with_table_column_and_rows(
    tmp_path: Path, change: Callable[[Tables], Tables], line: str
):
    folder = write(tmp_path, change(valid_tables()))
    with pytest.raises(DataValidationError, match=re.escape(line)) as caught:
        load_raw(folder)
    [problem] = caught.value.problems
    assert str(problem).startswith(line)
    assert problem.count == len(problem.rows) >= 1


def test_bad_values_in_parquet_are_reported_too(tmp_path: Path):
    tables = typed_tables()
    tables["transactions"] = tables["transactions"].assign(amount=[10.5, -1.0, 0.0, np.inf])
    problems = problems_of(write(tmp_path, tables, "parquet"))
    assert [str(problem) for problem in problems] == [
        "transactions.amount (transactions.parquet): inf in row 4: expected a finite number",
        "transactions.amount (transactions.parquet): -1 in row 2: expected an amount >= 0",
    ]


def test_many_bad_rows_keep_the_first_five_and_the_count(tmp_path: Path):
    tables = valid_tables()
    bad = pd.concat([tables["transactions"]] * 3, ignore_index=True).assign(amount="x")
    tables["transactions"] = bad.assign(amount=["x", "y", "z", "w", *["x"] * 8])
    [problem] = problems_of(write(tmp_path, tables))
    assert problem.rows == (1, 2, 3, 4, 5)
    assert problem.count == 12
    assert problem.message == (
        "'x', 'y', 'z' and 1 other values in rows 1, 2, 3, 4, 5, ... (12 rows): "
        "expected a finite number"
    )


def test_every_problem_is_reported_at_once(tmp_path: Path):
    cases = [
        "unknown-customer-in-complaints",
        "amount-not-numeric",
        "null-in-non-nullable",
        "unknown-grade",
        "duplicate-complaint",
        "unknown-customer-in-surveys",
    ]
    tables = valid_tables()
    for case in cases:
        tables = VALUE_CASES[case][0](tables)
    tables["customers"] = tables["customers"].drop(columns="segment")
    with pytest.raises(DataValidationError) as caught:
        load_raw(write(tmp_path, tables))
    problems = caught.value.problems
    assert [(problem.table, problem.column) for problem in problems] == [
        ("customers", "segment"),
        ("customers", "region"),
        ("transactions", "amount"),
        ("surveys", "grade"),
        ("surveys", "customer_id"),
        ("complaints", "complaint_id"),
        ("complaints", "customer_id"),
    ]
    message = str(caught.value)
    assert message.startswith("7 data contract problem(s):\n- customers.segment (customers.csv)")
    assert all(f"- {problem}" in message for problem in problems)


# --- the questionnaire and its documentation ---


def test_survey_has_22_items_covering_every_dimension():
    assert len(SURVEY_ITEMS) == 22
    assert set(SURVEY_ITEMS.values()) == set(SURVEY_DIMENSIONS)


def test_docs_list_every_table_column_and_survey_item():
    text = DOCS.read_text()
    for table in TABLES.values():
        assert f"`{table.name}`" in text
        for column in table.columns:
            assert f"`{column.name}`" in text, column.name
    rows = set(re.findall(r"^\|\s*\d+\s*\|\s*`(\w+)`\s*\|\s*`(\w+)`\s*\|", text, re.MULTILINE))
    assert rows == set(SURVEY_ITEMS.items())


# --- dates after the data's as-of date ---

AS_OF = dt.date(2023, 6, 30)
AFTER_AS_OF = (
    "expected a date on or before the data's as-of date 2023-06-30 (data.as_of; default today)"
)
FUTURE_CASES = {
    "transaction": (
        _set("transactions", 1, "date", "2023-07-01"),
        f"transactions.date (transactions.csv): 2023-07-01 in row 2: {AFTER_AS_OF}",
    ),
    "survey": (
        _set("surveys", 2, "date", "2031-06-01"),
        f"surveys.date (surveys.csv): 2031-06-01 in row 3: {AFTER_AS_OF}",
    ),
    "signup": (
        _set("customers", 2, "signup_date", "2099-01-01"),
        f"customers.signup_date (customers.csv): 2099-01-01 in row 3: {AFTER_AS_OF}",
    ),
    "cancellation": (
        _set("customers", 1, "cancel_date", "2023-07-01T00:00:00"),
        f"customers.cancel_date (customers.csv): 2023-07-01 in row 2: {AFTER_AS_OF}",
    ),
    "complaint-resolved": (
        _set("complaints", 0, "resolved_at", "2023-08-01T12:00:00"),
        f"complaints.resolved_at (complaints.csv): 2023-08-01 12:00:00 in row 1: {AFTER_AS_OF}",
    ),
}


@pytest.mark.parametrize(("change", "line"), FUTURE_CASES.values(), ids=FUTURE_CASES.keys())
def test_an_event_after_the_data_as_of_date_is_a_contract_problem(
    tmp_path: Path, change: Callable[[Tables], Tables], line: str
):
    folder = write(tmp_path, change(valid_tables()))
    raw, problems = validate_dir(folder, as_of=AS_OF)
    assert raw is None
    assert line in [str(problem) for problem in problems]


def test_the_as_of_day_itself_and_planned_due_dates_pass(tmp_path: Path):
    late_in_the_day = _set("transactions", 1, "date", "2023-06-30T23:59:59")
    due_later = _set("complaints", 1, "due_at", "2023-07-14")
    folder = write(tmp_path, due_later(late_in_the_day(valid_tables())))
    raw = load_raw(folder, as_of=AS_OF)
    assert raw.end == pd.Timestamp("2023-07-01")


def test_future_transactions_are_listed_against_today_by_default(tmp_path: Path):
    """Three transactions dated 2031 once made `score` score everyone at 2031-06-02."""
    tables = valid_tables()
    for row in (0, 1, 3):
        tables = _set("transactions", row, "date", "2031-06-01")(tables)
    with pytest.raises(DataValidationError) as caught:
        load_raw(write(tmp_path, tables, "parquet"))
    [problem] = caught.value.problems
    today = dt.datetime.now(dt.UTC).date()
    assert (problem.table, problem.column, problem.rows, problem.count) == (
        "transactions",
        "date",
        (1, 2, 4),
        3,
    )
    assert f"data's as-of date {today:%Y-%m-%d}" in problem.message

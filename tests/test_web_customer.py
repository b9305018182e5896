"""The customer page's raw rows: the SQLite customer index of a data folder and what the
page makes of a customer's rows (survey grid, complaint lifecycles, monthly revenue)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zerochurn.contract.dataset import RawData
from zerochurn.contract.schema import SURVEY_ITEMS
from zerochurn.serving.web.customer_index import (
    CustomerIndex,
    build_customer_index,
    folder_fingerprint,
    index_path,
    monthly_revenue,
    questionnaires,
)
from zerochurn.serving.web.customer_page import (
    Answer,
    complaint_views,
    revenue_months,
    survey_grid,
)

DAY = pd.Timestamp
ITEMS = list(SURVEY_ITEMS)


def _raw() -> RawData:
    customers = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "signup_date": [DAY("2023-05-01"), DAY("2024-01-15")],
            "region": pd.Categorical(["north", "south"]),
            "segment": pd.Categorical(["clinic", "hospital"]),
            "cancel_date": [pd.NaT, DAY("2025-02-10")],
        }
    )
    transactions = pd.DataFrame(
        {
            "customer_id": pd.Categorical(["A", "A", "A", "B"]),
            "date": [DAY("2025-01-05"), DAY("2025-01-20"), DAY("2025-03-02"), DAY("2025-01-09")],
            "amount": [100.0, 50.0, 80.0, 30.0],
            "cost": [60.0, 20.0, 50.0, 10.0],
        }
    )
    surveys = pd.DataFrame(
        {
            "customer_id": pd.Categorical(["A", "A", "A", "B"]),
            "date": [DAY("2025-02-01"), DAY("2025-02-01"), DAY("2025-05-01"), DAY("2025-02-03")],
            "item": pd.Categorical([ITEMS[0], ITEMS[21], ITEMS[0], ITEMS[5]]),
            "dimension": pd.Categorical(
                [SURVEY_ITEMS[i] for i in (ITEMS[0], ITEMS[21], ITEMS[0], ITEMS[5])]
            ),
            "score": [100, 25, 75, 50],
        }
    )
    complaints = pd.DataFrame(
        {
            "complaint_id": ["K1", "K2", "K3"],
            "customer_id": pd.Categorical(["A", "A", "B"]),
            "opened_at": [DAY("2025-01-02"), DAY("2025-03-01"), DAY("2025-01-10")],
            "channel": pd.Categorical(["email", "hotline", "email"]),
            "category": pd.Categorical(["delivery", "invoice", "delivery"]),
            "department": pd.Categorical(["logistics", "billing", "logistics"]),
            "due_at": [DAY("2025-01-07"), DAY("2025-03-06"), DAY("2025-01-15")],
            "resolved_at": [DAY("2025-01-10"), pd.NaT, DAY("2025-01-12")],
            "followed_up_at": [DAY("2025-01-14"), pd.NaT, pd.NaT],
            "followup_score": [75.0, np.nan, np.nan],
        }
    )
    return RawData(customers, transactions, surveys, complaints)


def test_revenue_is_summed_per_calendar_month_with_its_margin():
    monthly = monthly_revenue(_raw().transactions)
    assert monthly.to_dict("list") == {
        "customer_id": ["A", "A", "B"],
        "month": [202501, 202503, 202501],
        "revenue": [150.0, 80.0, 30.0],
        "margin": [70.0, 30.0, 20.0],
    }
    no_cost = monthly_revenue(_raw().transactions.drop(columns="cost"))
    assert no_cost["margin"].isna().all()


def test_a_questionnaire_is_one_row_with_a_grade_per_item():
    packed = questionnaires(_raw().surveys).set_index(["customer_id", "date"])["grades"]
    first = packed[("A", DAY("2025-02-01"))]
    assert len(first) == len(ITEMS)
    assert (first[0], first[21], first[1:21]) == ("A", "D", "-" * 20)
    assert packed[("B", DAY("2025-02-03"))][5] == "C"


@pytest.fixture
def index(tmp_path) -> CustomerIndex:
    return CustomerIndex(build_customer_index(_raw(), tmp_path / "index.sqlite"))


def test_one_customers_rows_come_back_in_date_order(index):
    records = index.records("A")
    assert records.profile == {
        "customer_id": "A",
        "signup_date": "2023-05-01",
        "region": "north",
        "segment": "clinic",
        "plan": None,
        "cancel_date": None,
    }
    assert records.revenue["month"].tolist() == [202501, 202503]
    assert records.surveys["date"].tolist() == ["2025-02-01", "2025-05-01"]
    assert records.complaints["complaint_id"].tolist() == ["K1", "K2"]
    unknown = index.records("nobody")
    assert unknown.profile is None and unknown.complaints.empty


def test_an_index_is_built_once_per_fingerprint_and_replaces_older_ones(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "customers.csv").write_text("customer_id\nA\n")
    first = folder_fingerprint(folder)
    built = build_customer_index(_raw(), index_path(tmp_path / "cache", first))
    stamp = built.stat().st_mtime_ns
    assert build_customer_index(_raw(), built).stat().st_mtime_ns == stamp  # reused
    (folder / "customers.csv").write_text("customer_id\nA\nB\n")
    second = folder_fingerprint(folder)
    assert second != first
    build_customer_index(_raw(), index_path(tmp_path / "cache", second))
    assert [path.name for path in (tmp_path / "cache").glob("*.sqlite")] == [
        f"customers-{second}.sqlite"
    ]


def test_the_survey_grid_keeps_the_latest_questionnaire_of_each_quarter():
    surveys = pd.DataFrame(
        {
            "date": ["2025-01-10", "2025-03-20", "2025-05-01", "2025-08-01"],
            "grades": ["A" + "-" * 21, "B" + "-" * 20 + "D", "C" + "-" * 21, "-" * 21 + "A"],
        }
    )
    grid = survey_grid(surveys, quarters=2)
    assert grid.quarters == (("2025Q2", "2025-05-01", 50.0), ("2025Q3", "2025-08-01", 100.0))
    assert grid.rows == (
        (ITEMS[0], "product_quality", (Answer("C", 50), None)),
        (ITEMS[21], "business_process", (None, Answer("A", 100))),
    )
    full = survey_grid(surveys, quarters=4)
    assert [quarter for quarter, _, _ in full.quarters] == ["2025Q1", "2025Q2", "2025Q3"]
    assert full.quarters[0] == ("2025Q1", "2025-03-20", 50.0)  # B (75) and D (25)
    assert survey_grid(surveys.iloc[:0], quarters=4).rows == ()


def test_complaints_read_as_their_lifecycle_newest_first(index):
    views = complaint_views(index.records("A").complaints, as_of=DAY("2025-03-10"))
    assert [(v.complaint_id, v.handling, v.late, v.follow_up) for v in views] == [
        ("K2", "open, 4 days overdue", True, "no follow-up call"),
        ("K1", "resolved 3 days late, 2025-01-10", True, "called 2025-01-14, grade B (75)"),
    ]
    on_time = complaint_views(index.records("B").complaints, as_of=DAY("2025-03-10"))
    assert (on_time[0].handling, on_time[0].late) == ("resolved on time, 2025-01-12", False)
    not_due = complaint_views(index.records("A").complaints, as_of=DAY("2025-03-04"))
    assert not_due[0].handling == "open, due in 2 days"


def test_revenue_months_fill_months_without_transactions_with_zero(index):
    months = revenue_months(index.records("A").revenue, 4, pd.Period("2025-03", "M"))
    assert months.to_dict("list") == {
        "month": ["2024-12", "2025-01", "2025-02", "2025-03"],
        "revenue": [0.0, 150.0, 0.0, 80.0],
        "margin": [0.0, 70.0, 0.0, 30.0],
    }

"""The complaint report, every figure checked by hand on six complaints in two departments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zerochurn.configs.settings import ReportsConfig
from zerochurn.reports.complaints import (
    ALL_DEPARTMENTS,
    complaints_report,
    monthly_complaints,
    parse_month,
)

AS_OF = pd.Timestamp("2025-04-01")
NAN = np.nan


def _dates(*values: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)))


COMPLAINTS = pd.DataFrame(
    {
        "complaint_id": ["k1", "k2", "k3", "k4", "k5", "k6"],
        "customer_id": ["a", "b", "c", "a", "b", "c"],
        "opened_at": _dates(
            "2025-01-05",  # on time after 3 days, followed up: 75
            "2025-01-20",  # late after 15 days (resolved 2025-02-04), followed up: 25
            "2025-01-10",  # never resolved, long overdue
            "2025-02-10",  # on time after 2 days, no follow-up
            "2025-03-25",  # open, but not due before AS_OF: outcome not known yet
            "2025-03-03",  # resolved on its due date: on time, followed up: 100
        ),
        "channel": "hotline",
        "category": "delivery",
        "department": ["logistics", "logistics", "sales", "logistics", "sales", "sales"],
        "due_at": _dates(
            "2025-01-10", "2025-01-25", "2025-01-15", "2025-02-15", "2025-04-05", "2025-03-08"
        ),
        "resolved_at": _dates("2025-01-08", "2025-02-04", None, "2025-02-12", None, "2025-03-08"),
        "followed_up_at": _dates("2025-01-09", "2025-02-06", None, None, None, "2025-03-10"),
        "followup_score": [75.0, 25.0, NAN, NAN, NAN, 100.0],
    }
)

COLUMNS = [
    "complaints",
    "on_time_rate",
    "mean_days_to_resolve",
    "followup_rate",
    "mean_followup_score",
    "open_backlog",
]
EXPECTED = {  # (month, department): the COLUMNS
    ("2025-01", "logistics"): [2, 1 / 2, 9.0, 1.0, 50.0, 1],
    ("2025-01", "sales"): [1, 0.0, NAN, 0.0, NAN, 1],
    ("2025-01", ALL_DEPARTMENTS): [3, 1 / 3, 9.0, 2 / 3, 50.0, 2],
    ("2025-02", "logistics"): [1, 1.0, 2.0, 0.0, NAN, 0],
    ("2025-02", "sales"): [0, NAN, NAN, NAN, NAN, 1],
    ("2025-02", ALL_DEPARTMENTS): [1, 1.0, 2.0, 0.0, NAN, 1],
    ("2025-03", "logistics"): [0, NAN, NAN, NAN, NAN, 0],
    ("2025-03", "sales"): [2, 1.0, 5.0, 0.5, 100.0, 2],
    ("2025-03", ALL_DEPARTMENTS): [2, 1.0, 5.0, 0.5, 100.0, 2],
}
CONFIG = ReportsConfig(highlight_groups=1)


def _report(month: str | None = "2025-03"):
    period = None if month is None else parse_month(month)
    return complaints_report(COMPLAINTS, month=period, as_of=AS_OF, config=CONFIG)


def _table(report, name: str) -> pd.DataFrame:
    return next(table.frame for table in report.tables if table.name == name)


def test_every_month_and_department_by_hand() -> None:
    monthly = monthly_complaints(COMPLAINTS, as_of=AS_OF).set_index(["month", "department"])
    assert sorted(monthly.index) == sorted(EXPECTED)
    for key, values in EXPECTED.items():
        np.testing.assert_allclose(
            monthly.loc[key, COLUMNS].to_numpy(dtype=float), values, err_msg=str(key)
        )


def test_month_table_changes_and_weakest() -> None:
    march = _table(_report(), "complaints_month").set_index("department")
    assert march.index.tolist() == ["logistics", "sales", ALL_DEPARTMENTS]
    # logistics and sales have no February or March rate to compare; all: 1.0 - 1.0
    assert march["on_time_rate_change"].tolist() == pytest.approx([NAN, NAN, 0.0], nan_ok=True)
    assert march["open_backlog_change"].tolist() == [0, 1, 1]
    assert march["weakest"].tolist() == [False, True, False]  # logistics has no rate
    january = _table(_report("2025-01"), "complaints_month").set_index("department")
    assert january["open_backlog_change"].isna().all()  # the first month
    assert january["weakest"].tolist() == [False, True, False]  # sales 0% < logistics 50%


def test_summary_is_the_all_departments_row() -> None:
    summary = _report().summary
    assert summary["month"] == "2025-03"
    assert summary["complaints"] == 2
    assert summary["on_time_rate"] == pytest.approx(1.0)
    assert summary["on_time_rate_change"] == pytest.approx(0.0)
    assert summary["mean_days_to_resolve"] == pytest.approx(5.0)
    assert summary["followup_rate"] == pytest.approx(0.5)
    assert summary["mean_followup_score"] == pytest.approx(100.0)
    assert (summary["open_backlog"], summary["open_backlog_change"]) == (2, 1)
    assert summary["weakest_departments"] == ["sales"]
    assert summary["as_of"] == "2025-04-01"


def test_trend_stops_at_the_reported_month() -> None:
    assert _report(None).summary["month"] == "2025-03"
    monthly = _table(_report("2025-02"), "complaints_monthly")
    assert sorted(monthly["month"].unique()) == ["2025-01", "2025-02"]


def test_errors_name_what_was_expected() -> None:
    with pytest.raises(ValueError, match=r"month '2025-3': expected YYYY-MM"):
        parse_month("2025-3")
    with pytest.raises(ValueError, match=r"no complaints were opened in 2024-12: .*2025-01 to"):
        _report("2024-12")
    with pytest.raises(ValueError, match=r"complaints has no rows"):
        monthly_complaints(COMPLAINTS.iloc[:0], as_of=AS_OF)

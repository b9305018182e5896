"""The churn report, checked by hand on four customers over two reported months."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from zerochurn.configs.settings import ChurnConfig, FeatureConfig, ReportsConfig
from zerochurn.contract.dataset import RawData
from zerochurn.reports.churn import (
    FOLLOWED_UP,
    LATE,
    NO_COMPLAINT,
    NOT_FOLLOWED_UP,
    NOT_SURVEYED,
    ON_TIME,
    UNRESOLVED,
    annualised,
    churn_report,
    complaint_outcomes,
)

FEATURES = FeatureConfig()
CANCELLATION = ChurnConfig(definition="cancellation")
INACTIVITY = ChurnConfig(definition="inactivity", inactivity_days=90)
CONFIG = ReportsConfig(complaint_lookback_days=90)

# Transactions start 2024-01-01 and end 2024-08-31, so the as-of dates after six months of
# history are 2024-07-01, 2024-08-01 and 2024-09-01: July and August are reported.
# a: active in July, cancels 2024-07-15; margin 60 a month Jan-Jun -> monthly_margin 360/12
# b: cancels 2024-08-20; margin 120 a month Jan-Jul -> 720/12 in July, 840/12 in August
# c: stays; no margin. d: signs up 2024-07-10, so only active in August.
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["a", "b", "c", "d"],
        "signup_date": pd.to_datetime(["2023-01-01", "2023-01-01", "2023-01-01", "2024-07-10"]),
        "region": "north",
        "segment": "chain",
        "cancel_date": pd.to_datetime(["2024-07-15", "2024-08-20", None, None]),
    }
)


def _monthly(customer: str, months: range, amount: float, cost: float) -> list[tuple]:
    return [(customer, pd.Timestamp(2024, month, 1), amount, cost) for month in months]


TRANSACTIONS = pd.DataFrame(
    _monthly("a", range(1, 7), 120.0, 60.0)
    + _monthly("b", range(1, 8), 240.0, 120.0)
    + [
        ("c", pd.Timestamp("2024-01-01"), 100.0, 100.0),
        ("c", pd.Timestamp("2024-08-31"), 100.0, 100.0),
        ("d", pd.Timestamp("2024-07-15"), 50.0, 25.0),
    ],
    columns=["customer_id", "date", "amount", "cost"],
)
# a: mean (25 + 50) / 2 = 37.5 -> band 25-50; b: 75 -> band 75-100; c, d never surveyed.
SURVEYS = pd.DataFrame(
    {
        "customer_id": ["a", "a", "b", "b"],
        "date": pd.Timestamp("2024-06-01"),
        "item": ["price_level", "delivery_speed"] * 2,
        "dimension": ["price", "logistics"] * 2,
        "score": [25, 50, 75, 75],
    }
)


def _dates(*values: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)))


# a: open at July 1st. b: resolved late, followed up; before August's 90-day lookback.
# c: opened in July, resolved on time, no follow-up: counts for August.
COMPLAINTS = pd.DataFrame(
    {
        "complaint_id": ["k1", "k2", "k3"],
        "customer_id": ["a", "b", "c"],
        "opened_at": _dates("2024-06-10", "2024-05-01", "2024-07-20"),
        "channel": "hotline",
        "category": "delivery",
        "department": "logistics",
        "due_at": _dates("2024-06-15", "2024-05-05", "2024-07-25"),
        "resolved_at": _dates(None, "2024-05-10", "2024-07-22"),
        "followed_up_at": _dates(None, "2024-05-12", None),
        "followup_score": [np.nan, 50.0, np.nan],
    }
)
RAW = RawData(CUSTOMERS, TRANSACTIONS, SURVEYS, COMPLAINTS)


def _report(raw: RawData = RAW, churn: ChurnConfig = CANCELLATION, config=CONFIG):
    return churn_report(raw, churn=churn, features=FEATURES, config=config)


def _table(report, name: str) -> pd.DataFrame:
    return next(table.frame for table in report.tables if table.name == name)


def _clv(monthly_margin: float, monthly_retention: float) -> float:
    """customer_value by hand: m * (1 - q^60) / (1 - q), q = r / 1.1^(1/12)."""
    q = monthly_retention / 1.1 ** (1 / 12)
    return monthly_margin * (1 - q**60) / (1 - q)


# July: nobody of the segment left in the year before, r = 1 is clipped to 0.995.
# August: a left; customer-days at risk since 2023-08-01: a 349, b 366, c 366, d 22.
VALUE_A_JULY = _clv(360 / 12, 0.995)
VALUE_B_AUGUST = _clv(840 / 12, math.exp(-1 / ((349 + 366 + 366 + 22) / (365.25 / 12))))


def test_monthly_churn_by_hand() -> None:
    monthly = _table(_report(), "churn_monthly")
    assert monthly["month"].tolist() == ["2024-07", "2024-08"]
    assert monthly["active_customers"].tolist() == [3, 3]  # a, b, c; then b, c, d
    assert monthly["churned"].tolist() == [1, 1]  # a in July, b in August
    assert monthly["churn_rate"].tolist() == pytest.approx([1 / 3, 1 / 3])
    assert monthly["annualised_rate"].tolist() == pytest.approx([1 - (2 / 3) ** 12] * 2)
    assert monthly["monthly_margin_lost"].tolist() == pytest.approx([360 / 12, 840 / 12])
    assert monthly["value_lost"].tolist() == pytest.approx([VALUE_A_JULY, VALUE_B_AUGUST])


def test_summary_pools_the_months() -> None:
    summary = _report().summary
    assert summary["period"] == "2024-07 to 2024-08"
    assert (summary["months"], summary["customer_months"], summary["churned"]) == (2, 6, 2)
    assert summary["monthly_churn_rate"] == pytest.approx(1 / 3)
    assert summary["annual_churn_rate"] == pytest.approx(1 - (2 / 3) ** 12)
    assert summary["expected_relationship_years"] == pytest.approx(1 / (1 - (2 / 3) ** 12))
    assert summary["monthly_margin_lost"] == pytest.approx(30 + 70)
    assert summary["value_lost"] == pytest.approx(VALUE_A_JULY + VALUE_B_AUGUST)
    assert summary["definition"] == "cancellation"


def test_churn_by_satisfaction_band() -> None:
    bands = _table(_report(), "churn_by_satisfaction").set_index("satisfaction_band")
    assert bands.index.tolist() == ["25-50", "50-70", "70-75", "75-100", NOT_SURVEYED]
    # a in July; nobody; nobody; b in July and August; c twice and d once
    assert bands["customer_months"].tolist() == [1, 0, 0, 2, 3]
    assert bands["churned"].tolist() == [1, 0, 0, 1, 0]
    assert bands["churn_rate"].tolist() == pytest.approx(
        [1.0, np.nan, np.nan, 0.5, 0.0], nan_ok=True
    )
    assert bands["value_lost"].tolist() == pytest.approx([VALUE_A_JULY, 0, 0, VALUE_B_AUGUST, 0])


def test_churn_by_complaint_outcome() -> None:
    report = _report()
    resolution = _table(report, "churn_by_resolution").set_index("resolution")
    assert resolution.index.tolist() == [NO_COMPLAINT, ON_TIME, LATE, UNRESOLVED]
    # no complaint: c July, b and d August; on time: c August; late: b July; unresolved: a July
    assert resolution["customer_months"].tolist() == [3, 1, 1, 1]
    assert resolution["churned"].tolist() == [1, 0, 0, 1]
    followup = _table(report, "churn_by_followup").set_index("followup")
    assert followup.index.tolist() == [NO_COMPLAINT, FOLLOWED_UP, NOT_FOLLOWED_UP]
    # followed up: b July; not followed up: a July, c August
    assert followup["customer_months"].tolist() == [3, 1, 2]
    assert followup["churned"].tolist() == [1, 0, 1]
    assert followup["churn_rate"].tolist() == pytest.approx([1 / 3, 0.0, 0.5])


def test_outcomes_are_as_known_at_the_date() -> None:
    # k2 resolved 2024-05-10: at 2024-05-10 itself it is still open
    outcomes = complaint_outcomes(
        COMPLAINTS, pd.Series(["b", "a"]), as_of=pd.Timestamp("2024-05-10"), lookback_days=90
    )
    assert outcomes["resolution"].tolist() == [UNRESOLVED, NO_COMPLAINT]
    assert outcomes["followup"].tolist() == [NOT_FOLLOWED_UP, NO_COMPLAINT]


def test_the_one_churn_definition_decides() -> None:
    # inactivity: c had no transaction from 2024-01-01 for 90 days, so left before July
    monthly = _table(_report(churn=INACTIVITY), "churn_monthly")
    assert monthly["active_customers"].tolist() == [2, 2]  # a, b; then b, d
    assert monthly["churned"].tolist() == [1, 1]


def test_optional_tables_and_month_limit() -> None:
    report = _report(RawData(CUSTOMERS, TRANSACTIONS), config=ReportsConfig(churn_months=1))
    assert [table.name for table in report.tables] == ["churn_monthly", "seed_lifetimes"]
    assert report.summary["period"] == "2024-08 to 2024-08"


def test_annualised_rate() -> None:
    assert annualised(0.0) == 0.0
    assert annualised(0.5) == pytest.approx(1 - 0.5**12)


def test_too_little_history_names_the_dates() -> None:
    short = RawData(CUSTOMERS, TRANSACTIONS[TRANSACTIONS["date"] < "2024-07-01"])
    with pytest.raises(ValueError, match=r"2024-01-01 to 2024-06-01: expected a complete"):
        _report(short)


def test_seed_view_by_segment() -> None:
    # one segment: 6 customer-months, 2 churned (see test_summary_pools_the_months)
    seed = _table(_report(), "seed_lifetimes").set_index("segment").loc["chain"]
    annual = 1 - (2 / 3) ** 12
    assert seed["annualised_rate"] == pytest.approx(annual)
    assert seed["expected_lifetime_years"] == pytest.approx(1 / annual)
    # margins per month at each start: July a 30, b 60, c 0; August b 70, c 0, d 25 / 1
    margins = [360 / 12, 720 / 12, 0.0, 840 / 12, 0.0, 25.0]
    assert seed["mean_monthly_margin"] == pytest.approx(np.mean(margins))
    assert seed["seed_value"] == pytest.approx(_clv(np.mean(margins), 2 / 3))

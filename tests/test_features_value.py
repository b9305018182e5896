"""Value features, the segment retention and the customer value function, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zerochurn.configs.settings import ChurnConfig, FeatureConfig, ValueFunctionConfig
from zerochurn.features.periods import DAYS_PER_MONTH, months_ago
from zerochurn.features.population import active_population, customer_history
from zerochurn.features.retention import segment_monthly_retention
from zerochurn.features.value import value_features
from zerochurn.features.value_function import customer_value, monthly_retention_from_churn

AS_OF = pd.Timestamp("2024-07-01")

CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["a", "b", "c", "gone"],
        "signup_date": pd.to_datetime(["2023-01-15", "2024-05-20", "2024-02-01", "2023-01-01"]),
        "region": ["north", "north", "south", "south"],
        "segment": ["smb", "smb", "key", "key"],
        "cancel_date": pd.to_datetime([None, None, None, "2024-06-15"]),
    }
)

TRANSACTIONS = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "a", "a", "a", "a", "b", "b", "gone"],
        "date": pd.to_datetime(
            [
                "2024-06-10",  # month 0: [06-01, 07-01)
                "2024-05-01",  # month 1
                "2024-03-15",  # month 3
                "2024-01-20",  # month 5
                "2023-08-05",  # month 10
                "2023-05-01",  # more than 12 months before
                "2024-07-01",  # at the as-of date: not known yet
                "2024-05-25",  # month 1
                "2024-06-20",  # month 0
                "2024-06-01",
            ]
        ),
        "amount": [100.0, 50.0, 30.0, 200.0, 80.0, 1000.0, 999.0, 20.0, 40.0, 5.0],
        "cost": [40.0, 20.0, 10.0, 100.0, 30.0, 0.0, 0.0, 5.0, 10.0, 1.0],
    }
)


def _value(transactions: pd.DataFrame, retention: float = 0.9) -> pd.DataFrame:
    history = customer_history(CUSTOMERS, transactions, as_of=AS_OF, churn=ChurnConfig())
    population = active_population(history)
    return value_features(
        transactions,
        population,
        as_of=AS_OF,
        config=FeatureConfig(),
        monthly_retention=np.full(len(population), retention),
    ).set_index(population["customer_id"])


def test_value_features_by_hand() -> None:
    got = _value(TRANSACTIONS)
    assert list(got.index) == ["a", "b", "c"]

    a = got.loc["a"]
    assert a["tenure_days"] == 365 + 168  # 2023-01-15 .. 2024-01-15 .. 2024-07-01
    assert a["revenue_1m"] == 100
    assert a["revenue_3m"] == 150
    assert a["revenue_6m"] == 380
    assert a["revenue_12m"] == 460
    assert a["revenue_trend"] == pytest.approx((150 - 230) / (150 + 230))
    assert a["recency_days"] == 21
    assert a["frequency"] == 5
    assert a["months_active_share"] == pytest.approx(5 / 12)
    assert a["monthly_margin"] == pytest.approx((60 + 30 + 20 + 100 + 50) / 12)

    b = got.loc["b"]  # signed up in month 1: two months observed, too new for a trend
    assert b["tenure_days"] == 42
    assert b["revenue_1m"] == 40
    assert b["revenue_12m"] == 60
    assert np.isnan(b["revenue_trend"])
    assert b["recency_days"] == 11
    assert b["frequency"] == 2
    assert b["months_active_share"] == 1.0
    assert b["monthly_margin"] == pytest.approx((15 + 30) / 2)

    c = got.loc["c"]  # signed up in month 4, never bought
    assert c["revenue_12m"] == 0
    assert np.isnan(c["recency_days"])
    assert c["frequency"] == 0
    assert c["months_active_share"] == 0
    assert c["monthly_margin"] == 0


def test_margin_is_amount_without_cost_column() -> None:
    got = _value(TRANSACTIONS.drop(columns="cost"))
    assert got.loc["a", "monthly_margin"] == pytest.approx(460 / 12)


def test_trend_is_zero_without_revenue_in_either_window() -> None:
    got = _value(TRANSACTIONS[TRANSACTIONS["date"] < pd.Timestamp("2023-12-01")])
    assert got.loc["a", "revenue_trend"] == 0


def test_customer_value_column_applies_the_value_function() -> None:
    got = _value(TRANSACTIONS, retention=0.95)
    expected = customer_value(got["monthly_margin"], 0.95, FeatureConfig().value_function)
    np.testing.assert_allclose(got["customer_value"], expected)
    assert (got["segment_monthly_retention"] == 0.95).all()


def test_customer_value_by_hand() -> None:
    undiscounted = ValueFunctionConfig(annual_discount_rate=0.0, max_months=3)
    assert customer_value(100.0, 0.9, undiscounted) == pytest.approx(100 * (1 + 0.9 + 0.81))

    config = ValueFunctionConfig(annual_discount_rate=0.10, max_months=24)
    q = 0.9 / 1.10 ** (1 / 12)
    expected = 100 * sum(q**t for t in range(24))
    assert customer_value([100.0], [0.9], config)[0] == pytest.approx(expected)


def test_customer_value_clips_retention() -> None:
    config = ValueFunctionConfig()
    high, low = customer_value([10.0, 10.0], [1.0, 0.0], config)
    assert high == pytest.approx(customer_value(10.0, config.max_monthly_retention, config))
    assert low == pytest.approx(customer_value(10.0, config.min_monthly_retention, config))


def test_halving_churn_roughly_doubles_value() -> None:
    """domain.md 3: cutting annual churn from 20% to 10% doubles the relationship (5 -> 10 y)."""
    config = ValueFunctionConfig(annual_discount_rate=0.0, max_months=1200)
    retention = np.array([0.8, 0.9]) ** (1 / 12)
    twenty, ten = customer_value(1.0, retention, config)
    assert 1.9 < ten / twenty < 2.3
    # Discounting and the 60-month cap of the defaults shrink the gain, but it stays large.
    twenty_capped, ten_capped = customer_value(1.0, retention, ValueFunctionConfig())
    assert 1.2 < ten_capped / twenty_capped < ten / twenty


def test_monthly_retention_from_churn() -> None:
    got = monthly_retention_from_churn([0.19, 0.0, 1.0, 1.5], 2 * DAYS_PER_MONTH)
    np.testing.assert_allclose(got, [0.9, 1.0, 0.0, 0.0])


def test_segment_monthly_retention_by_hand() -> None:
    history = pd.DataFrame(
        {
            "segment": ["x", "x", "x", "y", "z"],
            "signup_date": pd.to_datetime(
                ["2023-01-01", "2023-01-01", "2023-01-01", "2024-06-01", "2023-01-01"]
            ),
            # known departures only; the window is [2023-07-01, 2024-07-01)
            "departure": pd.to_datetime([None, "2024-01-01", "2023-03-01", None, "2023-02-01"]),
        }
    )
    got = segment_monthly_retention(history, as_of=AS_OF)
    x_months = (366 + 184) / DAYS_PER_MONTH  # one customer all year, one until 2024-01-01
    assert got["x"] == pytest.approx(np.exp(-1 / x_months))
    assert got["y"] == 1.0
    # z has no exposure in the window: the rate of all customers
    assert got["z"] == pytest.approx(np.exp(-1 / ((366 + 184 + 30) / DAYS_PER_MONTH)))


def test_months_ago_counts_calendar_months_back_from_as_of() -> None:
    dates = pd.to_datetime(["2024-03-30", "2024-02-29", "2024-02-28", "2024-01-31", "2023-12-01"])
    got = months_ago(dates.to_numpy(), pd.Timestamp("2024-03-31"), 2)
    # month 0 = [2024-02-29, 2024-03-31) (day clipped), month 1 = [2024-01-31, 2024-02-29)
    np.testing.assert_array_equal(got, [0, 0, 1, 1, 2])

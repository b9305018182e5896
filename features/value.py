"""Value features: tenure, revenue windows and trend, recency, frequency, margin, customer value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zerochurn.configs.settings import FeatureConfig
from zerochurn.features.grouping import cells, group_count, group_sum, member_rows
from zerochurn.features.periods import days_before, months_ago, months_before
from zerochurn.features.value_function import customer_value

ACTIVITY_MONTHS = 12
"""Months before T behind frequency, months_active_share and monthly_margin."""

TREND_MONTHS = 3
"""revenue_trend compares the last TREND_MONTHS months with the TREND_MONTHS before."""


def value_features(
    transactions: pd.DataFrame,
    population: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    config: FeatureConfig,
    monthly_retention: np.ndarray,
) -> pd.DataFrame:
    """Value features of each active customer from transactions before `as_of`.

    Requires transactions[customer_id, date, amount, optional cost] and
    population[customer_id, signup_date, last_transaction] (from `active_population`);
    monthly_retention is r per population row for the value function. Months are calendar
    months before as_of (periods.months_ago). Returns, aligned with population:
    tenure_days; revenue_{k}m for k in config.revenue_windows_months (money);
    revenue_trend = (R - P) / (R + P) for revenue R of the last TREND_MONTHS months and P of
    the TREND_MONTHS before, in [-1, 1], 0 when both are 0, NaN unless the customer signed up
    by the start of P; recency_days since the last transaction (NaN if none); frequency,
    transactions in the last ACTIVITY_MONTHS months; months_active_share, share of those
    months the customer existed in that had a transaction; monthly_margin, margin
    (amount - cost, or amount without cost) over those months divided by their number;
    segment_monthly_retention (r as given) and customer_value (value_function).
    """
    size = len(population)
    months = max(ACTIVITY_MONTHS, 2 * TREND_MONTHS, *config.revenue_windows_months)
    dates = transactions["date"]
    keep, positions = member_rows(
        transactions["customer_id"],
        pd.Index(population["customer_id"]),
        ((dates >= months_before(as_of, months)) & (dates < as_of)).to_numpy(),
    )
    month = months_ago(dates.to_numpy()[keep], as_of, months)
    amount = transactions["amount"].to_numpy(dtype=float)[keep]
    if "cost" in transactions:
        margin = amount - transactions["cost"].to_numpy(dtype=float)[keep]
    else:
        margin = amount

    by_month = cells(positions, (month, months))
    revenue = group_sum(by_month, amount, size * months).reshape(size, months).cumsum(axis=1)
    counts = group_count(by_month, size * months).reshape(size, months)[:, :ACTIVITY_MONTHS]
    recent_months = month < ACTIVITY_MONTHS
    recent_margin = group_sum(positions[recent_months], margin[recent_months], size)

    signup = population["signup_date"]
    months_existed = np.minimum(months_ago(signup.to_numpy(), as_of, months) + 1, ACTIVITY_MONTHS)
    recent = revenue[:, TREND_MONTHS - 1]
    previous = revenue[:, 2 * TREND_MONTHS - 1] - recent
    total = recent + previous
    trend = np.divide(recent - previous, total, out=np.zeros(size), where=total > 0)
    has_trend = (signup <= months_before(as_of, 2 * TREND_MONTHS)).to_numpy()
    monthly_margin = recent_margin / months_existed

    columns = {
        "tenure_days": days_before(as_of, signup),
        **{f"revenue_{k}m": revenue[:, k - 1] for k in config.revenue_windows_months},
        "revenue_trend": np.where(has_trend, trend, np.nan),
        "recency_days": days_before(as_of, population["last_transaction"]),
        "frequency": counts.sum(axis=1),
        "months_active_share": (counts > 0).sum(axis=1) / months_existed,
        "monthly_margin": monthly_margin,
        "segment_monthly_retention": monthly_retention,
        "customer_value": customer_value(monthly_margin, monthly_retention, config.value_function),
    }
    return pd.DataFrame(columns, index=population.index)

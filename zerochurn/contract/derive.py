"""The customers table of a transaction log: one row per buyer, the first purchase as the start.

A data folder may hold only transactions (customer_id, date, amount, optional cost). The
loader then builds customers from them with `derive_customers`, so every later stage sees
the usual RawData. Such customers have no cancel date and no region, segment or plan, so
churn can only be `inactivity` (features.build.check_churn_definition says so).

Point in time: a customer derived from a first purchase on day d exists at T only when
d < T, which features.population.customer_history enforces through signup_date < T; and
deriving from the transactions before T gives the same customers as cutting the derived
table at T (RawData.cut).
"""

from __future__ import annotations

import pandas as pd

DERIVED_FROM = "transactions"
"""The table derived customers come from, named in messages and docs."""


def derive_customers(transactions: pd.DataFrame) -> pd.DataFrame:
    """One row per customer of a transaction log, sorted by customer_id.

    Requires transactions[customer_id, date]; rows without a customer_id are ignored.
    Returns customer_id (str, also from the categorical ids of loaded transactions),
    signup_date (the customer's earliest transaction date, datetime64 like
    transactions.date) and cancel_date (NaT everywhere, same dtype): the columns and types
    of a loaded customers table without its optional profile columns (region, segment, plan).
    """
    signup = transactions.groupby("customer_id", sort=True, observed=True)["date"].min()
    customers = signup.rename("signup_date").reset_index()
    return customers.assign(
        customer_id=customers["customer_id"].astype("str"),
        cancel_date=pd.Series(pd.NaT, index=customers.index, dtype=signup.dtype),
    )

"""Who is a customer at an as-of date T, and the churn label: the one churn definition.

ChurnConfig.definition says when a customer has left, and this module is the only place
that says it:

- cancellation: on cancel_date;
- inactivity: on cancel_date, or once inactivity_days pass without a transaction
  (signup counts as activity), whichever comes first.

A customer is active at T when they signed up before T and had not left by T. The label
uses the same rule: a customer active at T churned when they are no longer active at
T + horizon_days. For cancellation that is cancel_date in [T, T + horizon_days); for
inactivity with the default horizon_days = inactivity_days it is a cancellation or no
transaction at all in [T, T + horizon_days). A label needs the whole window inside the
data, T + horizon_days <= RawData.end, else it is missing (<NA>).
"""

from __future__ import annotations

import pandas as pd

from zerochurn.configs.settings import ChurnConfig
from zerochurn.features.grouping import group_last, index_positions, member_rows

PROFILE_COLUMNS = ("region", "segment", "plan")
"""Customer attributes used as categorical features when the customers table has them."""


def label_window_days(churn: ChurnConfig) -> int:
    """Days after T in which a churn counts (horizon_days, under either definition)."""
    return churn.horizon_days


def customer_history(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    churn: ChurnConfig,
) -> pd.DataFrame:
    """Customers who signed up before `as_of`, with their activity and departure as known then.

    Requires customers[customer_id, signup_date, cancel_date] and
    transactions[customer_id, date]. Returns those customers' rows (signup_date < as_of,
    input order, fresh RangeIndex) with two columns added:
    last_transaction, the date of the last transaction before as_of (NaT if none), and
    departure, the date the customer left if that was before as_of (NaT while active):
    cancel_date, or for inactivity the earlier of cancel_date and last activity (last
    transaction or signup) + inactivity_days. cancel_date itself is kept unchanged for the
    labels; features must use departure instead.
    """
    signed_up = customers[customers["signup_date"] < as_of].reset_index(drop=True)
    keep, positions = member_rows(
        transactions["customer_id"],
        pd.Index(signed_up["customer_id"]),
        (transactions["date"] < as_of).to_numpy(),
    )
    last = group_last(positions, transactions["date"].to_numpy()[keep], len(signed_up))
    last_transaction = pd.Series(last, index=signed_up.index)
    cancel = signed_up["cancel_date"]
    departure = cancel.where(cancel < as_of)
    if churn.definition == "inactivity":
        last_activity = last_transaction.fillna(signed_up["signup_date"])
        lapse = last_activity + pd.Timedelta(days=churn.inactivity_days)
        lapse = lapse.where(lapse < as_of)
        departure = pd.concat([departure, lapse], axis=1).min(axis=1)
    return signed_up.assign(last_transaction=last_transaction, departure=departure)


def active_population(history: pd.DataFrame) -> pd.DataFrame:
    """The customers of `customer_history` who had not left (departure is NaT), RangeIndex."""
    return history[history["departure"].isna()].reset_index(drop=True)


def profile_features(population: pd.DataFrame) -> pd.DataFrame:
    """The categorical profile columns (PROFILE_COLUMNS) the customers table has, as text.

    A loaded customers table holds them as pandas categoricals, which become `str` here
    (NaN where missing); other dtypes are kept as given. So the feature table is the same
    for loaded data and plain text, and frames of several as-of dates stack cleanly.
    """
    profile = population[[column for column in PROFILE_COLUMNS if column in population]]
    categorical = [
        column for column in profile if isinstance(profile[column].dtype, pd.CategoricalDtype)
    ]
    return profile.astype(dict.fromkeys(categorical, "str"))


def churn_labels(
    population: pd.DataFrame,
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    churn: ChurnConfig,
    data_end: pd.Timestamp,
) -> pd.Series:
    """Whether each customer active at `as_of` has left by as_of + label_window_days(churn).

    Requires population[customer_id] (from `active_population` at as_of) and the inputs of
    `customer_history`, whose departure rule at the window's end decides. Returns a
    "boolean" Series aligned with population, all <NA> when the window ends after
    `data_end`.
    """
    window_end = as_of + pd.Timedelta(days=label_window_days(churn))
    if window_end > data_end:
        return pd.Series(pd.NA, index=population.index, dtype="boolean", name="churned")
    later = customer_history(customers, transactions, as_of=window_end, churn=churn)
    positions = index_positions(population["customer_id"], pd.Index(later["customer_id"]))
    churned = later["departure"].notna().to_numpy()[positions]
    return pd.Series(churned, index=population.index, dtype="boolean", name="churned")

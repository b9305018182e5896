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

import numpy as np
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


def departure_after(
    population: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    churn: ChurnConfig,
    censor_at: pd.Timestamp,
) -> pd.Series:
    """The date each customer active at `as_of` first leaves, if before `censor_at`.

    Requires population[customer_id, signup_date, cancel_date, last_transaction] (from
    `active_population` at as_of) and transactions[customer_id, date]. Under either
    definition cancel_date counts; under inactivity so does the first lapse: the earliest
    activity a (the last one before as_of, or any later one) whose next activity, or
    censor_at, comes more than inactivity_days later; it leaves on a + inactivity_days, as
    `customer_history` would say at any later date. Only transactions before censor_at are
    read, so the result is known at censor_at. Returns datetimes aligned with population,
    NaT for customers still active at censor_at.
    """
    cancel = population["cancel_date"]
    departure = cancel.where(cancel < censor_at)
    if churn.definition != "inactivity":
        return departure.rename("departure")
    size = len(population)
    dates = transactions["date"]
    keep, positions = member_rows(
        transactions["customer_id"],
        pd.Index(population["customer_id"]),
        ((dates >= as_of) & (dates < censor_at)).to_numpy(),
    )
    unit = dates.dtype
    start = population["last_transaction"].fillna(population["signup_date"]).astype(unit)
    owner = np.concatenate([np.arange(size), positions])
    activity = np.concatenate([start.to_numpy(), dates.to_numpy()[keep]])
    order = np.lexsort((activity, owner))
    owner, activity = owner[order], activity[order]
    following = np.append(activity[1:], np.datetime64("NaT"))
    last = np.append(owner[1:] != owner[:-1], True)
    following[last] = np.datetime64(censor_at)
    lapse = activity + np.timedelta64(churn.inactivity_days, "D")
    lapses = lapse < following
    first = np.full(size, np.datetime64("NaT"), dtype=activity.dtype)
    lapsed_owner = owner[lapses]
    # activity is sorted within each owner, so the first lapse of each owner is its earliest
    seen = np.unique(lapsed_owner, return_index=True)
    first[seen[0]] = lapse[lapses][seen[1]]
    lapsed = pd.Series(first, index=population.index)
    return pd.concat([departure, lapsed], axis=1).min(axis=1).rename("departure")


def months_to_departure(
    departure: pd.Series, *, as_of: pd.Timestamp, censor_at: pd.Timestamp
) -> pd.DataFrame:
    """Time to churn in calendar months after `as_of`, right-censored at `censor_at`.

    departure: dates from `departure_after` (NaT: still active at censor_at). Month m is
    [as_of + (m - 1) months, as_of + m months). Returns, aligned with departure,
    survival_months (int64): the month of the departure for a churner, else the number of
    whole months observed before censor_at; and survival_event (bool): churned in that
    month. A departure in a last, incomplete month counts as censored at the months observed.
    """
    observed = 0
    while as_of + pd.DateOffset(months=observed + 1) <= censor_at:
        observed += 1
    bounds = pd.DatetimeIndex([as_of + pd.DateOffset(months=k) for k in range(1, observed + 1)])
    dates = departure.to_numpy(dtype=departure.dtype)
    month = (
        np.searchsorted(
            bounds.as_unit(np.datetime_data(dates.dtype)[0]).to_numpy(), dates, side="right"
        )
        + 1
    )
    event = departure.notna().to_numpy() & (month <= observed)
    return pd.DataFrame(
        {
            "survival_months": np.where(event, month, observed).astype(np.int64),
            "survival_event": event,
        },
        index=departure.index,
    )

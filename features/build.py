"""Point-in-time feature tables: one row per customer active at an as-of date T.

Everything is computed from what was known strictly before T, so `build_features(raw, T)`
equals `build_features(raw.cut(T), T)`; labels look at [T, T + label window) instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from zerochurn.configs.settings import ChurnConfig, FeatureConfig
from zerochurn.contract.dataset import RawData
from zerochurn.features.catalog import feature_catalog
from zerochurn.features.complaints import complaint_features
from zerochurn.features.population import (
    active_population,
    churn_labels,
    customer_history,
    departure_after,
    label_window_days,
    months_to_departure,
    profile_features,
)
from zerochurn.features.retention import customer_monthly_retention, segment_monthly_retention
from zerochurn.features.satisfaction import satisfaction_features
from zerochurn.features.value import value_features

LABEL_COLUMN = "churned"
TIMESTAMP_UNIT = "us"
"""Resolution of the as_of column, the same for every date so stacked frames agree."""

DEFAULT_MIN_HISTORY_MONTHS = 6
"""Months of data before the first as-of date: enough for the revenue trend's two windows."""


class ChurnDefinitionError(ValueError):
    """The data cannot be labelled under the configured churn definition."""


def check_churn_definition(raw: RawData, churn: ChurnConfig) -> None:
    """Refuse labels that would all be 0: cancellation churn on customers without cancel dates.

    Customers derived from a transaction log (RawData.customers_derived) have no
    cancel_date, so only the inactivity definition can see them leave. Every stage that
    labels raw data (build_labels, build_training_frame, the churn report) checks here.
    """
    if raw.customers_derived and churn.definition == "cancellation":
        raise ChurnDefinitionError(
            "churn.definition is 'cancellation', but the data has no customers table: its "
            "customers were derived from the transactions and have no cancel_date, so no one "
            "would ever churn. Use --churn inactivity --inactivity-days N "
            "(--set churn.definition=inactivity --set churn.inactivity_days=N): a customer "
            "churns after N days without a transaction"
        )


def _timestamp(as_of: pd.Timestamp | str) -> pd.Timestamp:
    return pd.Timestamp(as_of).as_unit(TIMESTAMP_UNIT)


def _keys(population: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The customer_id and as_of columns of a feature or label table."""
    return pd.DataFrame(
        {
            "customer_id": population["customer_id"],
            "as_of": pd.Series(as_of, index=population.index, dtype=f"datetime64[{as_of.unit}]"),
        }
    )


def _features(
    raw: RawData,
    population: pd.DataFrame,
    as_of: pd.Timestamp,
    config: FeatureConfig,
    retention: pd.Series,
) -> pd.DataFrame:
    """Keys and every feature group the raw data supports, in catalog order.

    retention: segment_monthly_retention at as_of, of all customers.
    """
    groups = [
        profile_features(population),
        value_features(
            raw.transactions,
            population,
            as_of=as_of,
            config=config,
            monthly_retention=customer_monthly_retention(population, retention),
        ),
    ]
    if raw.surveys is not None:
        groups.append(satisfaction_features(raw.surveys, population, as_of=as_of, config=config))
    if raw.complaints is not None:
        groups.append(complaint_features(raw.complaints, population, as_of=as_of, config=config))
    features = pd.concat(groups, axis=1)
    order = [name for name in feature_catalog(config) if name in features]
    return pd.concat([_keys(population, as_of), features[order]], axis=1)


def build_features(
    raw: RawData,
    as_of: pd.Timestamp | str,
    config: FeatureConfig,
    churn: ChurnConfig,
    *,
    retention: pd.Series | None = None,
) -> pd.DataFrame:
    """Feature table at `as_of`: one row per customer active then, from data before it.

    Active: signed up before as_of and not gone (population.customer_history; under the
    inactivity definition also no lapse of inactivity_days). Columns: customer_id, as_of,
    then the features of features/catalog.py in catalog order; the satisfaction and
    complaint groups only when raw has surveys / complaints. Rows follow raw.customers.

    retention: the segment retention of all customers at as_of, for raw data holding only
    some of them (Spark's partitions); by default it is computed from raw
    (retention.segment_monthly_retention). It is the only feature that depends on other
    customers' rows.
    """
    as_of = _timestamp(as_of)
    history = customer_history(raw.customers, raw.transactions, as_of=as_of, churn=churn)
    if retention is None:
        retention = segment_monthly_retention(history, as_of=as_of)
    return _features(raw, active_population(history), as_of, config, retention)


def build_labels(raw: RawData, as_of: pd.Timestamp | str, churn: ChurnConfig) -> pd.DataFrame:
    """Churn labels at `as_of`: customer_id, as_of, churned ("boolean", <NA> past raw.end).

    Same rows as build_features. churned: the customer has left by as_of + horizon_days
    under churn.definition (population.churn_labels). Raises ChurnDefinitionError when
    raw cannot be labelled under churn.definition (check_churn_definition).
    """
    check_churn_definition(raw, churn)
    as_of = _timestamp(as_of)
    history = customer_history(raw.customers, raw.transactions, as_of=as_of, churn=churn)
    population = active_population(history)
    labels = churn_labels(
        population, raw.customers, raw.transactions, as_of=as_of, churn=churn, data_end=raw.end
    )
    return _keys(population, as_of).assign(**{LABEL_COLUMN: labels})


def build_training_frame(
    raw: RawData,
    as_of_dates: Iterable[pd.Timestamp | str],
    config: FeatureConfig,
    churn: ChurnConfig,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Features and labels for several as-of dates, stacked in the order of the dates.

    Columns: those of build_features, then churned. Rows whose label window passes
    raw.end keep churned = <NA>; filter with `frame["churned"].notna()` to train.
    `progress` is called with a short message, e.g. "2024-03-01 (1 of 12)", after each date.
    Raises ChurnDefinitionError as build_labels does.
    """
    check_churn_definition(raw, churn)
    dates = list(as_of_dates)
    frames = []
    for number, date in enumerate(dates, start=1):
        as_of = _timestamp(date)
        history = customer_history(raw.customers, raw.transactions, as_of=as_of, churn=churn)
        population = active_population(history)
        labels = churn_labels(
            population, raw.customers, raw.transactions, as_of=as_of, churn=churn, data_end=raw.end
        )
        retention = segment_monthly_retention(history, as_of=as_of)
        features = _features(raw, population, as_of, config, retention)
        frames.append(features.assign(**{LABEL_COLUMN: labels}))
        if progress is not None:
            progress(f"{as_of:%Y-%m-%d} ({number} of {len(dates)})")
    if not frames:
        raise ValueError("as_of_dates is empty: expected at least one as-of date")
    return pd.concat(frames, ignore_index=True)


def build_time_to_churn(
    raw: RawData,
    as_of_dates: Iterable[pd.Timestamp | str],
    churn: ChurnConfig,
    *,
    censor_at: pd.Timestamp,
) -> pd.DataFrame:
    """Time-to-churn targets of the customers active at each as-of date, censored at censor_at.

    Same rows as build_features at each date, stacked in the order of the dates. Columns:
    customer_id, as_of, survival_months and survival_event (population.months_to_departure
    of population.departure_after): only what happens in [as_of, censor_at) is read, so
    targets censored at a cut-off T never look past T. Raises ChurnDefinitionError as
    build_labels does, and ValueError when a date is not before censor_at.
    """
    check_churn_definition(raw, churn)
    censor_at = _timestamp(censor_at)
    frames = []
    for date in as_of_dates:
        as_of = _timestamp(date)
        if as_of >= censor_at:
            raise ValueError(
                f"as-of date {as_of:%Y-%m-%d} is not before the censoring date {censor_at:%Y-%m-%d}"
            )
        history = customer_history(raw.customers, raw.transactions, as_of=as_of, churn=churn)
        population = active_population(history)
        departure = departure_after(
            population, raw.transactions, as_of=as_of, churn=churn, censor_at=censor_at
        )
        targets = months_to_departure(departure, as_of=as_of, censor_at=censor_at)
        frames.append(pd.concat([_keys(population, as_of), targets], axis=1))
    if not frames:
        raise ValueError("as_of_dates is empty: expected at least one as-of date")
    return pd.concat(frames, ignore_index=True)


def monthly_as_of_dates(
    raw: RawData,
    *,
    min_history_months: int = DEFAULT_MIN_HISTORY_MONTHS,
    churn: ChurnConfig | None = None,
) -> list[pd.Timestamp]:
    """Month starts usable as as-of dates, from min_history_months after the data start.

    The data starts at the first transaction; dates run up to and including raw.end. With
    `churn`, only dates whose label window fits in the data (as_of + window <= raw.end),
    i.e. the dates that can be trained on; without it, scoring dates are included.
    """
    first = raw.transactions["date"].min() + pd.DateOffset(months=min_history_months)
    last = raw.end
    if churn is not None:
        last = last - pd.Timedelta(days=label_window_days(churn))
    return [_timestamp(date) for date in pd.date_range(first.normalize(), last, freq="MS")]

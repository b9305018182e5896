"""A score's top reasons: the drivers pushing a customer's risk up most, in plain words.

The one function every score goes through (`reason_table`, called by scoring.score_columns
for the service, batch scores and every output made from them):

1. The model's per-feature contributions (TreeSHAP, log-odds) are added up per driver
   (features/drivers.py). SHAP values are additive, so the sum is the driver's own
   contribution to the score: two complaint features pushing +0.3 and +0.2 make one
   complaints reason of +0.5, one pushing +0.3 and another -0.2 one of +0.1.
2. Drivers with a positive sum are reasons. Actionable ones come first, largest first,
   then the others (region, segment, tenure...), largest first: a customer whose
   complaints push their risk up never reads "Region north" above them.
3. Each reason names its driver, its strongest feature (the driver's feature with the
   largest contribution, whose value the service returns), the driver's summed
   contribution, and the driver's text from the customer's values.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from zerochurn.contract.cells import is_missing_cell, to_numbers
from zerochurn.features.catalog import Kind, column_spec
from zerochurn.features.drivers import Driver, driver_of, driver_texts

REASON_SEPARATOR = "; "


class ReasonColumns(NamedTuple):
    """Score-table columns of the reason ranked `rank` (1 = strongest)."""

    feature: str
    driver: str
    text: str
    contribution: str


def reason_columns(rank: int) -> ReasonColumns:
    """reason_{rank}_feature, _driver, _text and _contribution."""
    return ReasonColumns(*(f"reason_{rank}_{part}" for part in ReasonColumns._fields))


class DriverMap(NamedTuple):
    """The model's features grouped by driver.

    drivers: (d,) Driver; member: (features, d) 1 where a feature belongs to a driver;
    actionable: (d,) bool.
    """

    drivers: tuple[Driver, ...]
    member: np.ndarray
    actionable: np.ndarray


@functools.lru_cache(maxsize=16)
def driver_map(names: tuple[str, ...], kinds: tuple[Kind, ...]) -> DriverMap:
    """The DriverMap of a model's feature columns (cached: the service asks per request)."""
    of_feature = [driver_of(name, kind) for name, kind in zip(names, kinds, strict=True)]
    drivers = tuple({driver.name: driver for driver in of_feature}.values())
    position = {driver.name: index for index, driver in enumerate(drivers)}
    member = np.zeros((len(names), len(drivers)))
    member[np.arange(len(names)), [position[driver.name] for driver in of_feature]] = 1.0
    actionable = np.array([driver.actionable for driver in drivers], dtype=bool)
    return DriverMap(drivers, member, actionable)


class Ranked(NamedTuple):
    """The top drivers of each row: (n, k) driver index (-1 where a row has fewer than k
    positive ones) and (n, k) their summed contributions (NaN there)."""

    drivers: np.ndarray
    contributions: np.ndarray


def rank_drivers(sums: np.ndarray, actionable: np.ndarray, k: int) -> Ranked:
    """The k drivers with a positive sum per row: actionable ones first, each group
    largest first (ties: the driver listed first).

    sums: (n, d) summed contributions; actionable: (d,) bool. k passes of argmax, much
    cheaper than sorting every row when k is a handful.
    """
    positive = sums > 0
    lift = np.abs(sums).max(initial=0.0) + 1.0  # puts every actionable sum above the others
    key = np.where(positive, sums + np.where(actionable, lift, 0.0), -np.inf)
    rows = np.arange(len(sums))
    drivers = np.full((len(sums), k), -1, dtype=np.intp)
    values = np.full((len(sums), k), np.nan)
    for rank in range(min(k, sums.shape[1])):
        best = key.argmax(axis=1)
        found = np.isfinite(key[rows, best])
        drivers[found, rank] = best[found]
        values[found, rank] = sums[rows[found], best[found]]
        key[rows, best] = -np.inf
    return Ranked(drivers, values)


def feature_texts(feature: str, values: Sequence[object], kind: Kind = "numeric") -> list[str]:
    """`features.reason_text(feature, v)` for every v, looking the catalog entry up once.

    reason_text resolves the catalog entry on every call (10-20 us); a million customers
    with three reasons each need that done per feature, not per value. A column the
    catalog does not know (a flat table's own) reads "<column>: <value>" as `kind`.
    """
    spec = column_spec(feature, kind)
    if spec.group == "table" and spec.kind == "numeric":  # a table's numbers may be text
        values = to_numbers(pd.Series(values, dtype=object), feature).tolist()
    return [spec.text(value) for value in values]


def _strongest(contributions: np.ndarray, rows: np.ndarray, members: np.ndarray) -> np.ndarray:
    """(len(rows),) the model column of each row's largest contribution among `members`."""
    return members[np.argmax(contributions[np.ix_(rows, members)], axis=1)]


def reason_table(
    features: pd.DataFrame,
    names: Sequence[str],
    kinds: Sequence[Kind],
    contributions: np.ndarray,
    k: int,
) -> dict[str, np.ndarray]:
    """Score-table columns of each row's top k reasons, and `reasons` (their texts joined).

    Parameters
    ----------
    features : the scored rows' feature columns (any column may be absent: missing)
    names, kinds : the model's feature columns and their kinds, in its order
    contributions : (n, features) the model's log-odds contribution of each
    k : reasons per row (ServingConfig.top_reasons)

    Returns reason_{i}_feature (the driver's strongest feature), _driver, _text and
    _contribution (the driver's summed log-odds, > 0) for i = 1..k, None / NaN where a
    row has fewer reasons.
    """
    mapped = driver_map(tuple(names), tuple(kinds))
    ranked = rank_drivers(contributions @ mapped.member, mapped.actionable, k)
    n = len(contributions)
    feature_of = np.full((n, k), -1, dtype=np.intp)
    texts = np.full((n, k), None, dtype=object)
    for index in np.unique(ranked.drivers[ranked.drivers >= 0]):
        rows, ranks = np.nonzero(ranked.drivers == index)
        members = np.flatnonzero(mapped.member[:, index])
        strongest = _strongest(contributions, rows, members)
        feature_of[rows, ranks] = strongest
        own = np.empty(len(rows), dtype=object)
        known = np.zeros(len(rows), dtype=bool)
        for column in np.unique(strongest):
            at = strongest == column
            name = names[column]
            values = (
                features[name].to_numpy(dtype=object)[rows[at]].tolist()
                if name in features
                else [None] * int(at.sum())
            )
            own[at] = feature_texts(name, values, kinds[column])
            known[at] = [not is_missing_cell(value) for value in values]
        driver = mapped.drivers[index]
        if driver.facts is None:
            texts[rows, ranks] = own
            continue
        # rows are ascending and each once (a driver is ranked once per row): as many as
        # the frame's are all of them, in order, as they are for a one-customer request
        frame = features if len(rows) == len(features) else features.take(rows)
        strongest_names = np.array(names, dtype=object)[strongest]
        texts[rows, ranks] = driver_texts(driver, frame, strongest_names, own, known)
    feature_names = np.array([*names, None], dtype=object)[feature_of]  # -1 -> None
    driver_names = np.array([driver.name for driver in mapped.drivers] + [None], dtype=object)
    table: dict[str, np.ndarray] = {}
    for rank in range(k):
        columns = reason_columns(rank + 1)
        table[columns.feature] = feature_names[:, rank]
        table[columns.driver] = driver_names[ranked.drivers[:, rank]]
        table[columns.text] = texts[:, rank]
        table[columns.contribution] = ranked.contributions[:, rank]
    joined = [REASON_SEPARATOR.join(t for t in row if t is not None) for row in texts]
    table["reasons"] = np.array(joined, dtype=object)
    return table

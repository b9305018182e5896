"""Drivers: what groups of features say about a customer, in the words a retention team reads.

Every catalog feature belongs to one driver (`Feature.driver`): the complaint features to
"complaints", every satisfaction figure to "satisfaction", revenue, recency and frequency
to "buying", and so on. A score's reasons are drivers, not features, so a customer never
reads two reasons about the same thing ("Satisfaction index 42 of 100 over the surveys of
the last 24 months; Satisfaction index 42 of 100").

A driver is actionable when a retention team can do something about it (complaints,
satisfaction, buying) and not when it describes who the customer is (region, segment,
plan, tenure, value) or how much survey feedback there is. Its text is a headline and up
to MAX_FACTS facts drawn from the customer's values of its features ("Recent complaints
weigh on this customer: 2 in the last 90 days, 1 still open, 1 resolved late"); a driver
without a headline, or a customer without any of its facts, reads as its strongest
feature's own catalog text ("Customer for 120 days", "Never surveyed").

Facts are computed column-wise over all rows at once: the batch scores of a million
customers go through here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zerochurn.contract.cells import FEW_ROWS, is_number_dtype, plain_numbers
from zerochurn.features.catalog import Kind, column_spec, feature_spec, is_feature
from zerochurn.features.value import ACTIVITY_MONTHS, TREND_MONTHS

MAX_FACTS = 3
"""Facts a driver's text lists after its headline."""

Fact = tuple[tuple[str, ...], np.ndarray]
"""One thing a driver can say: the feature columns it is about, and per row the phrase
(None where it does not apply)."""
Facts = Callable[[pd.DataFrame], list[Fact]]
"""A driver's facts about each row of a frame of feature columns, in order of precedence."""


@dataclass(frozen=True)
class Driver:
    """What a group of features says about a customer.

    headline: the sentence a reason starts with ("" reads as the strongest feature's own
    text); facts: what to say after it (None: nothing); actionable: whether a retention
    team can act on it.
    """

    name: str
    actionable: bool
    headline: str = ""
    facts: Facts | None = None


def _values(frame: pd.DataFrame, name: str) -> np.ndarray:
    """(n,) float values of column `name`, NaN where missing or when there is no such column.

    Numbers are cast and a few plain cells read in Python (a service request's one row:
    pandas' parsing costs more than the reasons); anything else is parsed, NaN where it
    is no number.
    """
    if name not in frame:
        return np.full(len(frame), np.nan)
    column = frame[name]
    if is_number_dtype(column.dtype):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    if len(column) <= FEW_ROWS and (few := plain_numbers(column.tolist())) is not None:
        return few
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)


def _family(frame: pd.DataFrame, template: str) -> list[tuple[str, np.ndarray]]:
    """(parameter, values) of the columns of `frame` made from catalog `template`, in
    ascending order of the parameter ("complaints_{days}d": 30, 90, 365)."""
    found = [
        (spec.parameter, _values(frame, name))
        for name in map(str, frame.columns.tolist())  # iterating an Index costs more
        if is_feature(name) and (spec := feature_spec(name)).template == template
    ]
    return sorted(found, key=lambda item: int(item[0]) if item[0].isdigit() else item[0])


def _phrase(values: np.ndarray, where: np.ndarray, template: str) -> np.ndarray:
    """(n,) `template` formatted with each value where `where` holds, None elsewhere."""
    phrases = np.full(len(values), None, dtype=object)
    rows = np.flatnonzero(where)
    phrases[rows] = [template.format(value=value) for value in values[rows]]
    return phrases


def _first(candidates: list[np.ndarray], rows: int) -> np.ndarray:
    """Per row (of `rows`), the first of several phrases that applies (None when none does)."""
    chosen = np.full(rows, None, dtype=object)
    for phrases in candidates:
        empty = pd.isna(chosen)
        chosen[empty] = phrases[empty]
    return chosen


def _names(frame: pd.DataFrame, *templates: str) -> tuple[str, ...]:
    """The columns of `frame` made from any of the catalog `templates`."""
    return tuple(
        name
        for name in map(str, frame.columns.tolist())
        if is_feature(name) and feature_spec(name).template in templates
    )


def _complaint_facts(frame: pd.DataFrame) -> list[Fact]:
    """Recent count (the shortest window with any), open, long open, late, follow-up."""
    recent = _first(
        [
            _phrase(values, values > 0, f"{{value:.0f}} in the last {days} days")
            for days, values in _family(frame, "complaints_{days}d")
        ],
        len(frame),
    )
    still_open = _values(frame, "complaints_open")
    late = _values(frame, "complaints_resolved_late")
    followed = _values(frame, "complaints_followed_up_share")
    rating = _values(frame, "complaint_followup_score")
    return [
        (_names(frame, "complaints_{days}d", "complaint_load"), recent),
        (
            ("complaints_open", "complaint_load_overdue"),
            _phrase(still_open, still_open > 0, "{value:.0f} still open"),
        ),
        *(
            (
                _names(frame, "complaints_open_over_{days}d"),
                _phrase(values, values > 0, f"{{value:.0f}} open for over {days} days"),
            )
            for days, values in _family(frame, "complaints_open_over_{days}d")
        ),
        (
            ("complaints_resolved_late", "complaint_load_late"),
            _phrase(late, late > 0, "{value:.0f} resolved late"),
        ),
        (
            ("complaints_followed_up_share", "complaint_load_no_followup"),
            _phrase(followed, followed < 1, "{value:.0%} followed up"),
        ),
        (
            ("complaint_followup_score",),
            _phrase(rating, ~np.isnan(rating), "resolution rated {value:.0f} of 100"),
        ),
    ]


def _satisfaction_facts(frame: pd.DataFrame) -> list[Fact]:
    """The satisfaction index (latest, and over a longer run when that reads differently),
    the weakest dimension, a fall since the previous survey."""
    latest = _values(frame, "satisfaction_index")
    index = _phrase(latest, ~np.isnan(latest), "index {value:.0f} of 100 in the latest survey")
    for months, values in _family(frame, "satisfaction_index_{months}m"):
        differs = ~np.isnan(values) & (np.round(values) != np.round(latest))
        more = _phrase(values, differs, f"{{value:.0f}} over the last {months} months")
        alone = _phrase(
            values, ~np.isnan(values), f"index {{value:.0f}} of 100 over the last {months} months"
        )
        index = np.where(
            pd.isna(index),
            alone,
            np.where(pd.isna(more), index, index.astype(str) + ", " + more.astype(str)),
        )
    dimensions = _family(frame, "satisfaction_{dimension}")
    weakest = np.full(len(frame), None, dtype=object)
    if dimensions:
        scores = np.column_stack([values for _, values in dimensions])
        known = ~np.isnan(scores).all(axis=1)
        lowest = np.argmin(np.where(np.isnan(scores), np.inf, scores), axis=1)
        names = [name.replace("_", " ") for name, _ in dimensions]
        rows = np.flatnonzero(known)
        weakest[rows] = [
            f"{names[column]} rated {scores[row, column]:.0f} of 100"
            for row, column in zip(rows, lowest[rows], strict=True)
        ]
    change = _values(frame, "satisfaction_overall_change")
    return [
        (("satisfaction_index", *_names(frame, "satisfaction_index_{months}m")), index),
        (_names(frame, "satisfaction_{dimension}", "satisfaction_{dimension}_prev"), weakest),
        (
            ("satisfaction_overall_change",),
            _phrase(change, change <= -1, "{value:+.0f} points since the previous survey"),
        ),
    ]


def _buying_facts(frame: pd.DataFrame) -> list[Fact]:
    """Revenue change on the months before, days since the last purchase, active months."""
    trend = _values(frame, "revenue_trend")  # (R - P) / (R + P): R / P - 1 = 2t / (1 - t)
    partial = trend < 1
    change = np.where(partial, 2 * trend / (1 - np.where(partial, trend, 0)), np.nan)
    recency = _values(frame, "recency_days")
    active = _values(frame, "months_active_share")
    revenue = _first(
        [
            _phrase(change, partial, f"revenue {{value:+.0%}} on the {TREND_MONTHS} months before"),
            _phrase(trend, trend == 1, f"all revenue in the last {TREND_MONTHS} months"),
        ],
        len(frame),
    )
    return [
        (("revenue_trend",), revenue),
        (
            ("recency_days",),
            _phrase(recency, ~np.isnan(recency), "last purchase {value:,.0f} days ago"),
        ),
        (
            ("months_active_share",),
            _phrase(
                active, active < 1, f"bought in {{value:.0%}} of the last {ACTIVITY_MONTHS} months"
            ),
        ),
    ]


DRIVERS: dict[str, Driver] = {
    driver.name: driver
    for driver in (
        Driver("complaints", True, "Recent complaints weigh on this customer", _complaint_facts),
        Driver("satisfaction", True, "Satisfaction weighs on this customer", _satisfaction_facts),
        Driver("buying", True, "Buying pattern weighs on this customer", _buying_facts),
        Driver("survey_feedback", False),
        Driver("tenure", False),
        Driver("value", False),
        Driver("region", False),
        Driver("segment", False),
        Driver("plan", False),
    )
}
"""Every driver of the catalog's features, by name."""


def driver_of(feature: str, kind: Kind = "numeric") -> Driver:
    """The driver of feature column `feature`; a flat table's own column is a driver of its
    own, counted actionable since nothing says otherwise (its reasons keep the model's order)."""
    spec = column_spec(feature, kind)
    return DRIVERS.get(spec.driver) or Driver(spec.driver, actionable=True)


def _phrased(text: str) -> str:
    """A catalog sentence as a phrase after a headline: its first letter in lower case."""
    return text[:1].lower() + text[1:]


def driver_texts(
    driver: Driver,
    frame: pd.DataFrame,
    strongest: np.ndarray,
    texts: np.ndarray,
    known: np.ndarray,
) -> np.ndarray:
    """(n,) the reason text of `driver` for each row of `frame`.

    frame: the rows' feature columns (any may be absent); strongest: (n,) each row's
    strongest feature of the driver, texts: (n,) its own catalog text, known: (n,) whether
    its value is known. The headline is followed by what the strongest feature says
    (its fact, else its own text when known), then the driver's other facts, MAX_FACTS in
    all. A driver without a headline, or a row with nothing to say, reads as the text.
    """
    if driver.facts is None or not driver.headline:
        return texts
    facts = driver.facts(frame)
    result = np.array(texts, dtype=object)
    for row in range(len(frame)):
        first: list[str] = []
        rest: list[str] = []
        for features, phrases in facts:
            phrase = phrases[row]
            if phrase is not None:
                (first if strongest[row] in features else rest).append(phrase)
        if not first and known[row]:
            first.append(_phrased(texts[row]))
        said = (first + rest)[:MAX_FACTS]
        if said:
            result[row] = f"{driver.headline}: {', '.join(said)}"
    return result

"""The feature catalog: what every feature column means and how it explains a score.

Training selects its columns here, serving turns a customer's strongest features into
reasons with `reason_text`, monitoring groups drift by `Feature.group`. Windowed and
per-dimension features come from one template each: `revenue_{months}m` expands over
FeatureConfig.revenue_windows_months, `satisfaction_{dimension}` over SURVEY_DIMENSIONS.
Any concrete name resolves without the config (`feature_spec("revenue_3m")`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from numbers import Number
from typing import Literal

import pandas as pd

from zerochurn.configs.settings import FeatureConfig
from zerochurn.contract.schema import SURVEY_DIMENSIONS
from zerochurn.features.retention import RETENTION_LOOKBACK_MONTHS
from zerochurn.features.value import ACTIVITY_MONTHS, TREND_MONTHS

Group = Literal["profile", "value", "satisfaction", "complaints", "table"]
"""Feature groups; "table" is a column of a flat customer table (table_column_spec)."""
Kind = Literal["numeric", "categorical"]

NEVER_SURVEYED = "Never surveyed"
NO_PREVIOUS_SURVEY = "No earlier survey to compare with"

Range = tuple[float, float]
"""The plausible values of a numeric feature, ends included: the service refuses others."""
DAYS: Range = (0.0, 36_500.0)
"""A span of days: at most a century."""
COUNT: Range = (0.0, 1e6)
SHARE: Range = (0.0, 1.0)
SCORE: Range = (25.0, 100.0)
"""A survey score: grade D = 25 .. grade A = 100 (contract/schema.py GRADE_SCORES)."""
INDEX: Range = (0.0, 100.0)
MONEY_LIMIT = 1e13
"""Largest amount of money a feature may hold, in any currency: far beyond any one
customer's, and small enough that the value maths on it stays finite."""
MONEY: Range = (-MONEY_LIMIT, MONEY_LIMIT)
REVENUE: Range = (0.0, MONEY_LIMIT)


@dataclass(frozen=True)
class Feature:
    """One feature column.

    reason is a str.format template of `value` that explains the feature's part in a
    score ({s} is "s" unless the value rounds to one: "1 complaint open"); missing is the
    text used when the value is missing. driver names what the feature says about the
    customer (features/drivers.py): a score's reasons are one per driver, never two for
    the same one. template is the catalog name it was made from ("complaints_{days}d"),
    parameter its value in this name ("90"), None for a feature of its own. valid is the range of plausible values of a numeric
    feature (None: any finite number), which the service enforces on posted records.
    """

    name: str
    group: Group
    description: str
    unit: str
    kind: Kind
    reason: str
    missing: str
    driver: str
    template: str
    parameter: str | None = None
    valid: Range | None = None

    def text(self, value: object) -> str:
        """The reason sentence for `value`, or `missing` when the value is missing."""
        if isinstance(value, Number):  # the common case, checked without pandas
            if value != value:  # NaN
                return self.missing
            one = abs(round(float(value))) == 1
            return self.reason.format(value=value, s="" if one else "s")
        if pd.api.types.is_scalar(value) and pd.isna(value):
            return self.missing
        return self.reason.format(value=value, s="s")


@dataclass(frozen=True)
class _Template:
    """A feature, or a family of them when its name holds one {parameter}.

    pattern is the regex of the parameter's values in a concrete name; values gives the
    values build_features uses under a config.
    """

    feature: Feature
    parameter: str | None = None
    pattern: str = ""
    values: Callable[[FeatureConfig], Iterable[int | str]] | None = None

    def expand(self, config: FeatureConfig) -> list[Feature]:
        """The concrete features under `config`."""
        if self.values is None:
            return [self.feature]
        return [self._fill(value) for value in self.values(config)]

    def match(self, name: str) -> Feature | None:
        """The concrete feature called `name`, if this template makes it."""
        if self.parameter is None:
            return self.feature if name == self.feature.name else None
        placeholder = "{" + self.parameter + "}"
        head, tail = self.feature.name.split(placeholder)
        found = re.fullmatch(f"{re.escape(head)}({self.pattern}){re.escape(tail)}", name)
        return None if found is None else self._fill(found.group(1))

    def _fill(self, value: int | str) -> Feature:
        """The feature for one parameter value (underscores read as spaces in texts)."""
        placeholder = "{" + str(self.parameter) + "}"
        text = str(value).replace("_", " ")
        spec = self.feature
        return replace(
            spec,
            name=spec.name.replace(placeholder, str(value)),
            description=spec.description.replace(placeholder, text),
            reason=spec.reason.replace(placeholder, text),
            missing=spec.missing.replace(placeholder, text),
            parameter=str(value),
        )


_NUMBER = r"\d+"
_DIMENSION = "|".join(SURVEY_DIMENSIONS)


def _feature(
    name: str,
    group: Group,
    driver: str,
    description: str,
    unit: str,
    reason: str,
    missing: str = "",
    kind: Kind = "numeric",
    *,
    valid: Range | None = None,
) -> Feature:
    readable = name.replace("_", " ").capitalize()
    missing = missing or f"{readable} not known"
    return Feature(name, group, description, unit, kind, reason, missing, driver, name, valid=valid)


def _profile(name: str, description: str) -> _Template:
    label = name.capitalize()
    return _Template(
        _feature(
            name,
            "profile",
            name,
            description,
            "",
            f"{label} {{value}}",
            f"No {name}",
            "categorical",
        )
    )


_TEMPLATES: tuple[_Template, ...] = (
    _profile("region", "Sales region of the customer."),
    _profile("segment", "Customer type."),
    _profile("plan", "Tariff of the customer."),
    _Template(
        _feature(
            "tenure_days",
            "value",
            "tenure",
            "Days from signup to the as-of date.",
            "days",
            "Customer for {value:,.0f} day{s}",
            valid=DAYS,
        )
    ),
    _Template(
        _feature(
            "revenue_{months}m",
            "value",
            "buying",
            "Revenue in the {months} calendar months before the as-of date.",
            "money",
            "Revenue {value:,.0f} in the last {months} months",
            valid=REVENUE,
        ),
        "months",
        _NUMBER,
        lambda config: config.revenue_windows_months,
    ),
    _Template(
        _feature(
            "revenue_trend",
            "value",
            "buying",
            f"(R - P) / (R + P) for revenue R of the last {TREND_MONTHS} months and P of the "
            f"{TREND_MONTHS} before: -1 stopped buying, 0 flat (or no revenue), +1 all new.",
            "ratio -1..1",
            f"Revenue trend {{value:+.2f}} (last {TREND_MONTHS} months against the "
            f"{TREND_MONTHS} before)",
            "Customer too new for a revenue trend",
            valid=(-1.0, 1.0),
        )
    ),
    _Template(
        _feature(
            "recency_days",
            "value",
            "buying",
            "Days since the last transaction.",
            "days",
            "Last transaction {value:,.0f} day{s} ago",
            "No transaction yet",
            valid=DAYS,
        )
    ),
    _Template(
        _feature(
            "frequency",
            "value",
            "buying",
            f"Transactions in the {ACTIVITY_MONTHS} months before the as-of date.",
            "count",
            f"{{value:,.0f}} transactions in the last {ACTIVITY_MONTHS} months",
            valid=COUNT,
        )
    ),
    _Template(
        _feature(
            "months_active_share",
            "value",
            "buying",
            f"Share of the last {ACTIVITY_MONTHS} months (those since signup) with a transaction.",
            "share 0..1",
            "Bought in {value:.0%} of recent months",
            valid=SHARE,
        )
    ),
    _Template(
        _feature(
            "monthly_margin",
            "value",
            "value",
            "Mean monthly margin (amount - cost, or amount) over the last "
            f"{ACTIVITY_MONTHS} months.",
            "money per month",
            "Margin {value:,.0f} per month",
            valid=MONEY,
        )
    ),
    _Template(
        _feature(
            "segment_monthly_retention",
            "value",
            "segment",
            "Monthly retention observed in the customer's segment over the last "
            f"{RETENTION_LOOKBACK_MONTHS} months.",
            "probability per month",
            "Segment keeps {value:.1%} of its customers a month",
            valid=SHARE,
        )
    ),
    _Template(
        _feature(
            "customer_value",
            "value",
            "value",
            "Discounted margin over the expected remaining lifetime at the segment's "
            "retention (value_function.customer_value).",
            "money",
            "Customer value {value:,.0f}",
            valid=MONEY,
        )
    ),
    _Template(
        _feature(
            "satisfaction_index",
            "satisfaction",
            "satisfaction",
            "Weighted mean of the latest dimension scores mapped to 0..100.",
            "index 0..100",
            "Satisfaction index {value:.0f} of 100",
            NEVER_SURVEYED,
            valid=INDEX,
        )
    ),
    _Template(
        _feature(
            "satisfaction_overall",
            "satisfaction",
            "satisfaction",
            "Mean score of all items in the latest questionnaire.",
            "score 25..100",
            "Mean survey score {value:.0f} (25 poor .. 100 very satisfied)",
            NEVER_SURVEYED,
            valid=SCORE,
        )
    ),
    _Template(
        _feature(
            "satisfaction_overall_change",
            "satisfaction",
            "satisfaction",
            "Mean score of the latest questionnaire minus that of the previous one.",
            "score points",
            "Survey score changed {value:+.0f} point{s} since the previous survey",
            NO_PREVIOUS_SURVEY,
            valid=(SCORE[0] - SCORE[1], SCORE[1] - SCORE[0]),
        )
    ),
    _Template(
        _feature(
            "satisfied_share",
            "satisfaction",
            "satisfaction",
            "Share of the latest questionnaire's items at or above the satisfied score.",
            "share 0..1",
            "{value:.0%} of survey answers satisfied or better",
            NEVER_SURVEYED,
            valid=SHARE,
        )
    ),
    _Template(
        _feature(
            "days_since_survey",
            "satisfaction",
            "survey_feedback",
            "Days since the latest questionnaire.",
            "days",
            "Last surveyed {value:,.0f} day{s} ago",
            NEVER_SURVEYED,
            valid=DAYS,
        )
    ),
    _Template(
        _feature(
            "satisfaction_{dimension}",
            "satisfaction",
            "satisfaction",
            "Mean score of the {dimension} items in the latest questionnaire.",
            "score 25..100",
            "Satisfaction with {dimension} {value:.0f} (25 poor .. 100 very satisfied)",
            NEVER_SURVEYED,
            valid=SCORE,
        ),
        "dimension",
        _DIMENSION,
        lambda config: SURVEY_DIMENSIONS,
    ),
    _Template(
        _feature(
            "satisfaction_{dimension}_prev",
            "satisfaction",
            "satisfaction",
            "Mean score of the {dimension} items in the questionnaire before the latest.",
            "score 25..100",
            "Satisfaction with {dimension} was {value:.0f} in the previous survey",
            NO_PREVIOUS_SURVEY,
            valid=SCORE,
        ),
        "dimension",
        _DIMENSION,
        lambda config: SURVEY_DIMENSIONS,
    ),
    _Template(
        _feature(
            "satisfaction_index_{months}m",
            "satisfaction",
            "satisfaction",
            "Satisfaction index (weighted dimension means mapped to 0..100) over every "
            "questionnaire of the last {months} months: steadier than the latest alone.",
            "index 0..100",
            "Satisfaction index {value:.0f} of 100 over the surveys of the last {months} months",
            "No survey in the last {months} months",
            valid=INDEX,
        ),
        "months",
        _NUMBER,
        lambda config: (config.survey_history_months,),
    ),
    _Template(
        _feature(
            "satisfaction_overall_{months}m",
            "satisfaction",
            "satisfaction",
            "Mean score of every survey answer of the last {months} months.",
            "score 25..100",
            "Mean survey score {value:.0f} over the last {months} months "
            "(25 poor .. 100 very satisfied)",
            "No survey in the last {months} months",
            valid=SCORE,
        ),
        "months",
        _NUMBER,
        lambda config: (config.survey_history_months,),
    ),
    _Template(
        _feature(
            "survey_answers_{months}m",
            "satisfaction",
            "survey_feedback",
            "Survey answers (items) given in the last {months} months: how much the "
            "satisfaction history rests on.",
            "count",
            "{value:,.0f} survey answers in the last {months} months",
            valid=COUNT,
        ),
        "months",
        _NUMBER,
        lambda config: (config.survey_history_months,),
    ),
    _Template(
        _feature(
            "complaints_{days}d",
            "complaints",
            "complaints",
            "Complaints opened in the {days} days before the as-of date.",
            "count",
            "{value:.0f} complaint{s} in the last {days} days",
            valid=COUNT,
        ),
        "days",
        _NUMBER,
        lambda config: config.complaint_windows_days,
    ),
    _Template(
        _feature(
            "complaints_open",
            "complaints",
            "complaints",
            "Complaints not resolved at the as-of date.",
            "count",
            "{value:.0f} complaint{s} open",
            valid=COUNT,
        )
    ),
    _Template(
        _feature(
            "complaints_open_over_{days}d",
            "complaints",
            "complaints",
            "Complaints open at the as-of date that were opened over {days} days before.",
            "count",
            "{value:.0f} complaint{s} unresolved for over {days} days",
            valid=COUNT,
        ),
        "days",
        _NUMBER,
        lambda config: (config.complaint_unresolved_days,),
    ),
    _Template(
        _feature(
            "complaints_resolved_late",
            "complaints",
            "complaints",
            "Complaints resolved after their due date.",
            "count",
            "{value:.0f} complaint{s} resolved after their due date",
            valid=COUNT,
        )
    ),
    _Template(
        _feature(
            "complaint_resolution_days",
            "complaints",
            "complaints",
            "Mean days from opening to resolution of the resolved complaints.",
            "days",
            "Complaints took {value:.0f} day{s} on average to resolve",
            "No resolved complaints",
            valid=DAYS,
        )
    ),
    _Template(
        _feature(
            "complaints_followed_up_share",
            "complaints",
            "complaints",
            "Share of complaints the customer was called back about.",
            "share 0..1",
            "{value:.0%} of complaints followed up",
            "No complaints",
            valid=SHARE,
        )
    ),
    _Template(
        _feature(
            "complaint_followup_score",
            "complaints",
            "complaints",
            "Mean satisfaction with the resolution given at follow-up calls.",
            "score 25..100",
            "Satisfaction with complaint resolution {value:.0f}",
            "No follow-up scores",
            valid=SCORE,
        )
    ),
    _Template(
        _feature(
            "days_since_complaint",
            "complaints",
            "complaints",
            "Days since the last complaint was opened.",
            "days",
            "Last complaint {value:,.0f} day{s} ago",
            "No complaints",
            valid=DAYS,
        )
    ),
    _Template(
        _feature(
            "complaint_load",
            "complaints",
            "complaints",
            "Complaints weighted by age, each halving every complaint_load_half_life_days "
            "(one opened just before the as-of date counts 1).",
            "age-weighted count",
            "Age-weighted complaints {value:.1f} (one opened today counts 1)",
            valid=COUNT,
        )
    ),
    _Template(
        _feature(
            "complaint_load_late",
            "complaints",
            "complaints",
            "Complaint load of the complaints not resolved by their due date (resolved late "
            "or still open past it).",
            "age-weighted count",
            "Age-weighted complaints not resolved on time {value:.1f}",
            valid=COUNT,
        )
    ),
    _Template(
        _feature(
            "complaint_load_overdue",
            "complaints",
            "complaints",
            "Complaint load of the complaints still open past their due date.",
            "age-weighted count",
            "Age-weighted complaints open past their due date {value:.1f}",
            valid=COUNT,
        )
    ),
    _Template(
        _feature(
            "complaint_load_no_followup",
            "complaints",
            "complaints",
            "Complaint load of the resolved complaints nobody called the customer back "
            "about within followup_wait_days.",
            "age-weighted count",
            "Age-weighted complaints resolved without a follow-up call {value:.1f}",
            valid=COUNT,
        )
    ),
)


def feature_catalog(config: FeatureConfig) -> dict[str, Feature]:
    """Every feature `build_features` can produce under `config`, by name, in column order."""
    return {spec.name: spec for template in _TEMPLATES for spec in template.expand(config)}


LOOKUP_CACHE_SIZE = 4096
"""Column names whose catalog entry (or its absence) `_lookup` remembers: far more than
any table's columns, so scoring finds each name once, while names posted to the service
cannot grow the cache without bound."""


@functools.lru_cache(maxsize=LOOKUP_CACHE_SIZE)
def _lookup(name: str) -> Feature | None:
    """The catalog entry of `name`, None when no template makes it.

    Matching the templates takes 10-20 us a name; a service request asks hundreds of
    times (every feature column of the reasons' drivers), so each name is matched once.
    """
    for template in _TEMPLATES:
        spec = template.match(name)
        if spec is not None:
            return spec
    return None


def feature_spec(name: str) -> Feature:
    """The catalog entry of feature column `name` (any window or dimension)."""
    spec = _lookup(name)
    if spec is None:
        raise KeyError(f"{name!r} is not a feature column: see features/catalog.py")
    return spec


def table_column_spec(name: str, kind: Kind) -> Feature:
    """The entry of a flat customer table's own column, which the catalog cannot know.

    Its reason reads "<column>: <value>", numbers to six significant digits.
    """
    value = "{value:,.6g}" if kind == "numeric" else "{value}"
    return Feature(
        name,
        "table",
        f"Column {name} of the customer table.",
        "",
        kind,
        f"{name}: {value}",
        f"{name}: not known",
        driver=name,
        template=name,
    )


def column_spec(name: str, kind: Kind = "numeric") -> Feature:
    """The catalog entry of `name`, or for a flat table's own column its generic entry."""
    spec = _lookup(name)
    return table_column_spec(name, kind) if spec is None else spec


def is_feature(name: str) -> bool:
    """Whether `name` is a feature column in the catalog."""
    return _lookup(name) is not None


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The feature columns of `frame`, in its order (id, as_of and label columns left out)."""
    return [column for column in frame.columns if is_feature(str(column))]


def feature_roles(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The numeric and the categorical feature columns of `frame`, each in frame order."""
    columns = feature_columns(frame)
    kinds = {column: feature_spec(column).kind for column in columns}
    return (
        [column for column in columns if kinds[column] == "numeric"],
        [column for column in columns if kinds[column] == "categorical"],
    )


def reason_text(feature: str, value: object) -> str:
    """A readable sentence on `value` of `feature`, e.g. "Satisfaction index 42 of 100"."""
    return feature_spec(feature).text(value)

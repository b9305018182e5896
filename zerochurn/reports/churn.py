"""The churn report: monthly churn by the one churn definition, what drives it, what it costs.

For each complete calendar month [S, E) the customers active at S are those of
features.population.active_population, and a customer churned in the month when
features.population.churn_labels says so with the label window set to the month's length;
the definition itself (ChurnConfig.definition) is not re-stated here. The annualised
rate of a monthly rate m is 1 - (1 - m)^12.

Value lost to churn, in money, is the churned customers' customer_value at S, the
features' discounted margin over the expected remaining lifetime (value_function.py),
beside their monthly_margin (margin per month over the year before S): what the
business expected to earn from them, and what it earned from them each month.

The seed's view by segment (`seed_lifetimes`): expected relationship length = 1 / annual
churn rate, and the value function at the segment's observed monthly retention; the
customer-level view beside it is the scores' expected_lifetime_months and clv.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from zerochurn.configs.settings import (
    ChurnConfig,
    FeatureConfig,
    ReportsConfig,
    ValueFunctionConfig,
)
from zerochurn.contract.dataset import RawData
from zerochurn.features.build import (
    DEFAULT_MIN_HISTORY_MONTHS,
    build_features,
    check_churn_definition,
    monthly_as_of_dates,
)
from zerochurn.features.population import churn_labels
from zerochurn.features.satisfaction import SCORE_MAX, SCORE_MIN
from zerochurn.features.value_function import MONTHS_PER_YEAR, customer_value
from zerochurn.reports.charts import bar_chart, line_chart
from zerochurn.reports.html import Report, Section, Table

NOT_SURVEYED = "not surveyed"
NO_COMPLAINT = "no complaint"
ON_TIME, LATE, UNRESOLVED = "resolved on time", "resolved late", "unresolved"
FOLLOWED_UP, NOT_FOLLOWED_UP = "followed up", "not followed up"
RESOLUTIONS = (NO_COMPLAINT, ON_TIME, LATE, UNRESOLVED)
"""A customer's complaint resolution at S, from best to worst (`complaint_outcomes`)."""
FOLLOWUPS = (NO_COMPLAINT, FOLLOWED_UP, NOT_FOLLOWED_UP)
"""A customer's complaint follow-up at S (`complaint_outcomes`)."""


def report_months(raw: RawData, months: int) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The latest `months` complete calendar months as (start, end) pairs, oldest first.

    Months start at the as-of dates of features.build.monthly_as_of_dates (so features have
    DEFAULT_MIN_HISTORY_MONTHS of history) and end no later than raw.end.
    """
    starts = monthly_as_of_dates(raw)
    pairs = list(zip(starts, starts[1:], strict=False))
    if not pairs:
        raise ValueError(
            f"transactions run from {raw.transactions['date'].min():%Y-%m-%d} to "
            f"{raw.end - pd.Timedelta(days=1):%Y-%m-%d}: expected a complete calendar month "
            f"after {DEFAULT_MIN_HISTORY_MONTHS} months of history"
        )
    return pairs[-months:]


def satisfaction_bands(scores: pd.Series, edges: tuple[float, ...]) -> pd.Series:
    """The band of each mean survey score: "lo-hi" including lo, NOT_SURVEYED for NaN.

    Bands split SCORE_MIN..SCORE_MAX at `edges`; the top band includes SCORE_MAX. Returns
    an ordered categorical with every band, NOT_SURVEYED last.
    """
    bounds = [SCORE_MIN, *edges, SCORE_MAX]
    labels = [f"{low:g}-{high:g}" for low, high in zip(bounds, bounds[1:], strict=False)]
    bands = pd.cut(scores, [*bounds[:-1], np.inf], right=False, labels=labels)
    return bands.cat.add_categories(NOT_SURVEYED).fillna(NOT_SURVEYED)


def complaint_outcomes(
    complaints: pd.DataFrame,
    customer_ids: pd.Series,
    *,
    as_of: pd.Timestamp,
    lookback_days: int,
) -> pd.DataFrame:
    """How each customer's recent complaints had been handled by `as_of`.

    Requires complaints[customer_id, opened_at, due_at, resolved_at, followed_up_at].
    Looks at complaints opened in [as_of - lookback_days, as_of) and what was done before
    as_of. Returns, aligned with customer_ids, two ordered categoricals: resolution, the
    worst of UNRESOLVED (not resolved yet), LATE (resolved after due_at) and ON_TIME, and
    followup, NOT_FOLLOWED_UP when any was not followed up yet, else FOLLOWED_UP; both
    NO_COMPLAINT without such complaints.
    """
    opened = complaints["opened_at"]
    recent = complaints[(opened >= as_of - pd.Timedelta(days=lookback_days)) & (opened < as_of)]
    resolved = recent["resolved_at"] < as_of
    by_customer = (
        pd.DataFrame(
            {
                "customer_id": recent["customer_id"],
                "unresolved": ~resolved,
                "late": resolved & (recent["resolved_at"] > recent["due_at"]),
                "not_followed_up": ~(recent["followed_up_at"] < as_of),
            }
        )
        .groupby("customer_id", observed=True)
        .any()
        .reindex(customer_ids)
    )
    known = by_customer["unresolved"].notna().to_numpy()
    resolution = np.select(
        [~known, by_customer["unresolved"].eq(True), by_customer["late"].eq(True)],
        [NO_COMPLAINT, UNRESOLVED, LATE],
        ON_TIME,
    )
    followup = np.select(
        [~known, by_customer["not_followed_up"].eq(True)],
        [NO_COMPLAINT, NOT_FOLLOWED_UP],
        FOLLOWED_UP,
    )
    return pd.DataFrame(
        {
            "resolution": pd.Categorical(resolution, categories=RESOLUTIONS, ordered=True),
            "followup": pd.Categorical(followup, categories=FOLLOWUPS, ordered=True),
        },
        index=customer_ids.index,
    )


def churn_panel(
    raw: RawData,
    months: list[tuple[pd.Timestamp, pd.Timestamp]],
    *,
    churn: ChurnConfig,
    features: FeatureConfig,
    config: ReportsConfig,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """One row per customer active at the start S of each month [S, E) of `months`.

    Columns: month (YYYY-MM), customer_id, churned (bool: left in [S, E) by churn_labels),
    customer_value and monthly_margin at S (money, build_features); with surveys
    satisfaction_band (`satisfaction_bands` of the features' satisfaction_overall: the mean
    score of the latest questionnaire before S); with complaints resolution and followup
    (`complaint_outcomes` at S). `progress` is called with e.g. "2025-03 (3 of 12)" after
    each month.
    """
    frames = []
    for number, (start, end) in enumerate(months, start=1):
        table = build_features(raw, start, features, churn)
        month_window = churn.model_copy(update={"horizon_days": (end - start).days})
        churned = churn_labels(
            table,
            raw.customers,
            raw.transactions,
            as_of=start,
            churn=month_window,
            data_end=raw.end,
        )
        frame = pd.DataFrame(
            {
                "month": f"{start:%Y-%m}",
                "customer_id": table["customer_id"],
                "churned": churned.to_numpy(dtype=bool),
                "customer_value": table["customer_value"],
                "monthly_margin": table["monthly_margin"],
            }
        )
        if SEGMENT in table:
            frame = frame.assign(segment=table[SEGMENT].to_numpy(dtype=object))
        if raw.surveys is not None:
            frame = frame.assign(
                satisfaction_band=satisfaction_bands(
                    table["satisfaction_overall"], config.satisfaction_band_edges
                )
            )
        if raw.complaints is not None:
            frame = frame.join(
                complaint_outcomes(
                    raw.complaints,
                    table["customer_id"],
                    as_of=start,
                    lookback_days=config.complaint_lookback_days,
                )
            )
        frames.append(frame)
        if progress is not None:
            progress(f"{start:%Y-%m} ({number} of {len(months)})")
    return pd.concat(frames, ignore_index=True)


def annualised(monthly_rate: pd.Series | float) -> pd.Series | float:
    """The yearly rate of a constant monthly churn rate: 1 - (1 - m)^12."""
    return 1 - (1 - monthly_rate) ** MONTHS_PER_YEAR


def churn_rates(panel: pd.DataFrame, key: str) -> pd.DataFrame:
    """Churn and value lost per value of panel[key] (every category of a categorical).

    Requires panel[customer_id, churned, customer_value, monthly_margin, key] from
    `churn_panel`. Columns: key, customer_months (rows), churned, churn_rate (monthly:
    churned / customer_months, NaN without rows), annualised_rate, value_lost and
    monthly_margin_lost (sums over the churned rows, money).
    """
    churned = panel["churned"]
    rates = (
        panel.assign(
            value_lost=panel["customer_value"].where(churned, 0.0),
            monthly_margin_lost=panel["monthly_margin"].where(churned, 0.0),
        )
        .groupby(key, observed=False, sort=True)
        .agg(
            customer_months=("customer_id", "size"),
            churned=("churned", "sum"),
            value_lost=("value_lost", "sum"),
            monthly_margin_lost=("monthly_margin_lost", "sum"),
        )
        .reset_index()
    )
    rate = rates["churned"] / rates["customer_months"].where(rates["customer_months"] > 0)
    rates = rates.assign(churn_rate=rate, annualised_rate=annualised(rate))
    columns = [key, "customer_months", "churned", "churn_rate", "annualised_rate"]
    return rates[[*columns, "value_lost", "monthly_margin_lost"]].astype({key: str})


BREAKDOWNS = {
    "satisfaction_band": (
        "churn_by_satisfaction",
        "Churn by satisfaction",
        "Band of the customer's mean score in their latest questionnaire before the month "
        "(25..100; each band includes its lower edge).",
    ),
    "resolution": (
        "churn_by_resolution",
        "Churn by complaint resolution",
        "The worst resolution, by the month's start, of the customer's complaints of the "
        "lookback window before it.",
    ),
    "followup": (
        "churn_by_followup",
        "Churn by complaint follow-up",
        "Whether every complaint of the lookback window had a follow-up call by the month's start.",
    ),
}
"""Panel column -> (table name, title, what the groups mean) of each churn breakdown."""

SEGMENT = "segment"


def seed_lifetimes(panel: pd.DataFrame, value_function: ValueFunctionConfig) -> pd.DataFrame:
    """The seed's segment-level lifetime and value: 1 / annual churn, value at the segment's rate.

    Requires panel[customer_id, churned, customer_value, monthly_margin, segment]. Per
    segment: the `churn_rates` columns, expected_lifetime_years = 1 / annualised_rate
    (NaN without churn), mean_monthly_margin and seed_value, the value function
    (features/value_function.py) of that margin at monthly retention 1 - churn_rate.
    """
    rates = churn_rates(panel, SEGMENT)
    margin = panel.groupby(SEGMENT, observed=False, sort=True)["monthly_margin"].mean()
    annual = rates["annualised_rate"]
    mean_margin = margin.reindex(rates[SEGMENT]).to_numpy()
    return rates.assign(
        expected_lifetime_years=(1 / annual).where(annual > 0),
        mean_monthly_margin=mean_margin,
        seed_value=customer_value(mean_margin, 1 - rates["churn_rate"], value_function),
    )


def _seed_section(panel: pd.DataFrame, value_function: ValueFunctionConfig) -> Section:
    table = seed_lifetimes(panel, value_function)
    figure = bar_chart(
        table[SEGMENT],
        table["expected_lifetime_years"],
        title="Expected relationship length (1 / annual churn)",
        xlabel="years",
    )
    return Section(
        title="Lifetime and value by segment (the seed's view)",
        text="Expected relationship length is 1 / the annual churn rate, and a segment's "
        "customer is worth the value function of its mean monthly margin at the segment's "
        "monthly retention (1 - monthly churn). Scores carry each customer's own "
        "expected_lifetime_months and clv from the time-to-churn model, for comparison.",
        figures=(figure,),
        tables=(Table("seed_lifetimes", "Lifetime and value by segment", table),),
    )


PERIOD = "period"
"""Key column of the one-row table of the whole reported period."""


def _breakdown(panel: pd.DataFrame, key: str) -> Section:
    name, title, text = BREAKDOWNS[key]
    rates = churn_rates(panel, key)
    figure = bar_chart(
        rates[key],
        rates["churn_rate"],
        title=f"{title} (monthly churn rate)",
        xlabel="customers leaving per month",
        percent=True,
    )
    return Section(title=title, text=text, figures=(figure,), tables=(Table(name, title, rates),))


def churn_report(
    raw: RawData,
    *,
    churn: ChurnConfig,
    features: FeatureConfig,
    config: ReportsConfig,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """The churn report of the latest config.churn_months complete months (`churn_panel`).

    Tables: churn_monthly (`churn_rates` per month, customer_months named
    active_customers), churn_by_satisfaction with surveys, churn_by_resolution and
    churn_by_followup with complaints, seed_lifetimes (`seed_lifetimes`) with segments. The summary pools every customer-month. Raises
    features.build.ChurnDefinitionError when raw cannot be labelled under `churn`.
    """
    check_churn_definition(raw, churn)
    months = report_months(raw, config.churn_months)
    panel = churn_panel(
        raw, months, churn=churn, features=features, config=config, progress=progress
    )
    monthly = churn_rates(panel, "month").rename(columns={"customer_months": "active_customers"})
    period = f"{months[0][0]:%Y-%m} to {months[-1][0]:%Y-%m}"
    total = churn_rates(panel.assign(**{PERIOD: period}), PERIOD).iloc[0]
    annual = float(total["annualised_rate"])
    summary: dict[str, object] = {
        "period": period,
        "months": len(months),
        "definition": churn.definition,
        "customer_months": int(total["customer_months"]),
        "churned": int(total["churned"]),
        "monthly_churn_rate": float(total["churn_rate"]),
        "annual_churn_rate": annual,
        "expected_relationship_years": 1 / annual if annual > 0 else None,
        "value_lost": float(total["value_lost"]),
        "monthly_margin_lost": float(total["monthly_margin_lost"]),
    }
    sections = [
        Section(
            title="Churn per month",
            text=f"Customers active at the start of each month who left during it, under "
            f"the {churn.definition} churn definition; the annualised rate is "
            "1 - (1 - monthly rate)^12. Value lost is the churned customers' customer value "
            "at the month's start (discounted margin over the expected remaining "
            "lifetime); monthly margin lost is the margin per month they brought in the "
            "year before.",
            figures=(
                line_chart(
                    monthly["month"],
                    {"monthly churn rate": monthly["churn_rate"]},
                    title="Churn rate per month",
                    ylabel="customers leaving per month",
                    percent=True,
                ),
                line_chart(
                    monthly["month"],
                    {"value lost": monthly["value_lost"]},
                    title="Customer value lost to churn per month",
                    ylabel="money",
                ),
            ),
            tables=(Table("churn_monthly", "Churn per month", monthly),),
        ),
        *(_breakdown(panel, key) for key in BREAKDOWNS if key in panel),
    ]
    if SEGMENT in panel:
        sections.append(_seed_section(panel, features.value_function))
    return Report(name="churn", title=f"Churn, {period}", summary=summary, sections=tuple(sections))

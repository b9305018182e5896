"""The complaint report: the complaint process per owning department and month (domain.md 2).

Complaints belong to the calendar month they were opened in. Outcomes are as known at the
end of the data (`as_of`), so the latest months' resolution and follow-up figures are
still maturing. A complaint is resolved on time when resolved_at <= due_at.
"""

from __future__ import annotations

import re

import pandas as pd
from matplotlib.figure import Figure

from zerochurn.configs.settings import ReportsConfig
from zerochurn.features.periods import ONE_DAY
from zerochurn.reports.charts import bar_chart, line_chart
from zerochurn.reports.html import Report, Section, Table

ALL_DEPARTMENTS = "all"
"""The department value of the rows that count every department together."""

KEYS = ["month", "department"]
"""The key columns of the monthly complaint tables."""
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def parse_month(text: str) -> pd.Period:
    """The calendar month written as YYYY-MM (e.g. 2025-03)."""
    if not _MONTH.fullmatch(text):
        raise ValueError(f"month {text!r}: expected YYYY-MM such as 2025-03")
    return pd.Period(text, freq="M")


def department_months(complaints: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """The complaint process per calendar month and department, every month of the data.

    Requires complaints[complaint_id, department, opened_at, due_at, resolved_at,
    followed_up_at, followup_score] (NaT / NaN when not done). Rows: every month from the
    first to the last opening month times every department, sorted. Columns: month
    (YYYY-MM), department; of the complaints opened in the month: complaints (count),
    on_time_rate (resolved by due_at, out of those resolved or due before as_of),
    mean_days_to_resolve (of those resolved), followup_rate (share followed up),
    mean_followup_score (25..100, of those scored); and open_backlog, complaints opened
    before the month's end and not resolved by then. Rates and means are NaN without
    complaints to average.
    """
    if complaints.empty:
        raise ValueError("complaints has no rows: expected logged complaints")
    opened = complaints["opened_at"].dt.to_period("M")
    resolved_at = complaints["resolved_at"]
    frame = complaints.assign(
        month=opened,
        on_time=resolved_at <= complaints["due_at"],
        decided=resolved_at.notna() | (complaints["due_at"] < as_of),
        days_to_resolve=(resolved_at - complaints["opened_at"]) / ONE_DAY,
        followed_up=complaints["followed_up_at"].notna(),
    )
    grid = pd.MultiIndex.from_product(
        [
            pd.period_range(opened.min(), opened.max(), freq="M"),
            sorted(frame["department"].unique()),
        ],
        names=KEYS,
    )
    stats = (
        frame.groupby(KEYS, observed=True)
        .agg(
            complaints=("complaint_id", "size"),
            on_time=("on_time", "sum"),
            decided=("decided", "sum"),
            mean_days_to_resolve=("days_to_resolve", "mean"),
            followup_rate=("followed_up", "mean"),
            mean_followup_score=("followup_score", "mean"),
        )
        .reindex(grid)
    )
    resolved = (
        frame.assign(month=resolved_at.dt.to_period("M"))
        .dropna(subset=["month"])
        .groupby(KEYS, observed=True)
        .size()
        .reindex(grid, fill_value=0)
    )
    count = stats["complaints"].fillna(0).astype(int)
    backlog = (
        count.groupby(level="department").cumsum() - resolved.groupby(level="department").cumsum()
    )
    table = stats.assign(
        complaints=count,
        on_time_rate=stats["on_time"] / stats["decided"].where(stats["decided"] > 0),
        open_backlog=backlog.astype(int),
    )
    columns = [
        "complaints",
        "on_time_rate",
        "mean_days_to_resolve",
        "followup_rate",
        "mean_followup_score",
        "open_backlog",
    ]
    return (
        table[columns]
        .reset_index()
        .assign(month=lambda rows: rows["month"].astype(str))
        .astype({"department": str})
    )


def monthly_complaints(complaints: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """`department_months` per department, then rows for ALL_DEPARTMENTS, by month."""
    per_department = department_months(complaints, as_of=as_of)
    overall = department_months(complaints.assign(department=ALL_DEPARTMENTS), as_of=as_of)
    return pd.concat([per_department, overall], ignore_index=True).sort_values(
        "month", kind="stable", ignore_index=True
    )


def month_table(monthly: pd.DataFrame, month: pd.Period, *, highlight: int) -> pd.DataFrame:
    """The rows of `month` from `monthly_complaints`, with changes against the month before.

    Adds on_time_rate_change (fraction points) and open_backlog_change (complaints), NaN
    in the first month, and weakest: true for the `highlight` departments (not
    ALL_DEPARTMENTS) with the lowest on_time_rate.
    """
    current = monthly[monthly["month"] == str(month)].reset_index(drop=True)
    previous = monthly[monthly["month"] == str(month - 1)].set_index("department")
    departments = current["department"]
    rate = current["on_time_rate"].where(departments != ALL_DEPARTMENTS)
    return current.assign(
        on_time_rate_change=current["on_time_rate"] - departments.map(previous["on_time_rate"]),
        open_backlog_change=(
            current["open_backlog"] - departments.map(previous["open_backlog"])
        ).astype("Int64"),
        weakest=rate.rank(method="first") <= highlight,
    )


def _trend(
    monthly: pd.DataFrame, column: str, *, title: str, ylabel: str, percent: bool = False
) -> Figure:
    """`line_chart` of monthly[column] over months, one line per department."""
    wide = monthly.pivot(index="month", columns="department", values=column)
    return line_chart(
        wide.index,
        {department: wide[department] for department in wide.columns},
        title=title,
        ylabel=ylabel,
        percent=percent,
    )


def complaints_report(
    complaints: pd.DataFrame,
    *,
    month: pd.Period | None,
    as_of: pd.Timestamp,
    config: ReportsConfig,
) -> Report:
    """The complaint report of `month` (default: the latest opening month), with trends.

    Requires the complaint columns of `department_months`; outcomes as known at `as_of`.
    Tables: complaints_month (`month_table`) and complaints_monthly (`monthly_complaints`
    up to `month`).
    """
    monthly = monthly_complaints(complaints, as_of=as_of)
    month = pd.Period(monthly["month"].max(), freq="M") if month is None else month
    if not (monthly["month"] == str(month)).any():
        raise ValueError(
            f"no complaints were opened in {month}: expected a month from "
            f"{monthly['month'].min()} to {monthly['month'].max()}"
        )
    monthly = monthly[monthly["month"] <= str(month)].reset_index(drop=True)
    focus = month_table(monthly, month, highlight=config.highlight_groups)
    departments = focus[focus["department"] != ALL_DEPARTMENTS]
    total = focus[focus["department"] == ALL_DEPARTMENTS].iloc[0]
    summary: dict[str, object] = {
        "month": str(month),
        **{
            column: total[column]
            for column in (
                "complaints",
                "on_time_rate",
                "on_time_rate_change",
                "mean_days_to_resolve",
                "followup_rate",
                "mean_followup_score",
                "open_backlog",
                "open_backlog_change",
            )
        },
        "weakest_departments": departments.loc[departments["weakest"]]
        .sort_values("on_time_rate")["department"]
        .tolist(),
        "as_of": f"{as_of:%Y-%m-%d}",
    }
    sections = (
        Section(
            title=f"Departments, {month}",
            text="Complaints opened in the month per owning department: on-time resolution "
            "(resolved by the due date, out of those resolved or already due), days to "
            "resolve, follow-up calls and the customer's follow-up score (25..100), and the "
            f"backlog still open at the month's end. Outcomes as known on {as_of:%Y-%m-%d}; "
            f"the {config.highlight_groups} department(s) with the lowest on-time rate are "
            "highlighted.",
            figures=(
                bar_chart(
                    departments["department"],
                    departments["on_time_rate"],
                    title=f"On-time resolution per department, {month}",
                    xlabel="resolved on time",
                    highlight=departments["weakest"],
                    percent=True,
                ),
            ),
            tables=(Table("complaints_month", f"Departments, {month}", focus, "weakest"),),
        ),
        Section(
            title="Trends",
            text="The same figures for every month; the latest months are still maturing.",
            figures=(
                _trend(monthly, "complaints", title="Complaints opened", ylabel="complaints"),
                _trend(
                    monthly,
                    "on_time_rate",
                    title="On-time resolution",
                    ylabel="resolved on time",
                    percent=True,
                ),
                _trend(monthly, "open_backlog", title="Open backlog at month end", ylabel="open"),
                _trend(
                    monthly,
                    "mean_followup_score",
                    title="Follow-up score",
                    ylabel="mean score (25..100)",
                ),
            ),
            tables=(Table("complaints_monthly", "Per month and department", monthly),),
        ),
    )
    return Report(
        name="complaints",
        title=f"Complaints, {month}",
        summary=summary,
        sections=sections,
    )

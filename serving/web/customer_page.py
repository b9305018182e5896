"""What a customer page shows of the raw rows: survey answers by quarter, complaint
lifecycles, monthly revenue. Pure functions of the customer index's rows."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from zerochurn.contract.schema import GRADE_SCORES, SURVEY_ITEMS
from zerochurn.serving.web.customer_index import MONTH_KEY, UNANSWERED

ITEMS = tuple(SURVEY_ITEMS)


@dataclass(frozen=True)
class Answer:
    """One item's answer: grade A-D and its score on the 25..100 scale."""

    grade: str
    score: int


@dataclass(frozen=True)
class SurveyGrid:
    """The latest questionnaire of each of the last quarters answered.

    quarters: (quarter YYYYQn, date answered, mean score of the answers) per column,
    oldest first; rows: (item, dimension, one Answer or None per column), in
    questionnaire order, items never answered in these quarters left out.
    """

    quarters: tuple[tuple[str, str, float], ...]
    rows: tuple[tuple[str, str, tuple[Answer | None, ...]], ...]


def survey_grid(surveys: pd.DataFrame, quarters: int) -> SurveyGrid:
    """The customer's answers in the last `quarters` quarters, from index rows [date, grades].

    Several questionnaires in one quarter: the latest counts.
    """
    if surveys.empty:
        return SurveyGrid((), ())
    dates = pd.to_datetime(surveys["date"])
    latest = surveys.assign(quarter=dates.dt.to_period("Q").astype(str)).sort_values("date")
    latest = latest.drop_duplicates("quarter", keep="last").tail(quarters)
    columns = []
    answers: list[list[Answer | None]] = []
    for quarter, date, grades in latest[["quarter", "date", "grades"]].itertuples(index=False):
        row = [
            None if grade == UNANSWERED else Answer(grade, GRADE_SCORES[grade]) for grade in grades
        ]
        scores = [answer.score for answer in row if answer is not None]
        columns.append((quarter, str(date), sum(scores) / len(scores) if scores else float("nan")))
        answers.append(row)
    rows = tuple(
        (item, SURVEY_ITEMS[item], tuple(column[position] for column in answers))
        for position, item in enumerate(ITEMS)
        if any(column[position] is not None for column in answers)
    )
    return SurveyGrid(tuple(columns), rows)


@dataclass(frozen=True)
class ComplaintView:
    """One complaint's lifecycle in words: how it was handled and followed up.

    late: resolved after its due date, or open past it (the page highlights it).
    """

    complaint_id: str
    opened: str
    channel: str
    category: str
    department: str
    due: str
    handling: str
    late: bool
    follow_up: str


def _days(later: pd.Timestamp, earlier: pd.Timestamp) -> str:
    days = (later - earlier).days
    return f"{days} day{'' if days == 1 else 's'}"


def _handling(due: pd.Timestamp, resolved: pd.Timestamp, as_of: pd.Timestamp) -> tuple[str, bool]:
    if pd.notna(resolved):
        if resolved <= due:
            return f"resolved on time, {resolved:%Y-%m-%d}", False
        return f"resolved {_days(resolved, due)} late, {resolved:%Y-%m-%d}", True
    if due < as_of:
        return f"open, {_days(as_of, due)} overdue", True
    return f"open, due in {_days(due, as_of)}", False


def complaint_views(complaints: pd.DataFrame, as_of: pd.Timestamp) -> list[ComplaintView]:
    """Index rows of the customer's complaints, newest first, as known at `as_of`."""
    views = []
    grades = {score: grade for grade, score in GRADE_SCORES.items()}
    for row in complaints.iloc[::-1].itertuples(index=False):
        due = pd.Timestamp(row.due_at)
        handling, late = _handling(due, pd.Timestamp(row.resolved_at), as_of)
        if pd.isna(row.followed_up_at):
            follow_up = "no follow-up call"
        elif pd.isna(row.followup_score):
            follow_up = f"called {row.followed_up_at}, not graded"
        else:
            score = int(row.followup_score)
            follow_up = f"called {row.followed_up_at}, grade {grades.get(score, '?')} ({score})"
        views.append(
            ComplaintView(
                complaint_id=row.complaint_id,
                opened=str(row.opened_at),
                channel=str(row.channel),
                category=str(row.category),
                department=str(row.department),
                due=f"{due:%Y-%m-%d}",
                handling=handling,
                late=late,
                follow_up=follow_up,
            )
        )
    return views


def revenue_months(revenue: pd.DataFrame, months: int, last: pd.Period) -> pd.DataFrame:
    """Revenue and margin of the `months` calendar months up to `last`, 0 in a month without
    transactions, from index rows [month (YYYYMM), revenue, margin].

    Columns: month (YYYY-MM), revenue, margin (NaN without costs).
    """
    calendar = pd.period_range(end=last, periods=months, freq="M")
    keys = [period.year * MONTH_KEY + period.month for period in calendar]
    known = revenue.assign(month=revenue["month"].astype(int)).set_index("month")
    has_margin = known["margin"].notna().any()
    table = known.reindex(keys).fillna(
        {"revenue": 0.0, "margin": 0.0 if has_margin else float("nan")}
    )
    return pd.DataFrame(
        {
            "month": calendar.strftime("%Y-%m"),
            "revenue": table["revenue"].to_numpy(dtype=float),
            "margin": table["margin"].to_numpy(dtype=float),
        }
    )

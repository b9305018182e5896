"""The satisfaction report: survey scores per item, per region or segment, quarter over quarter.

Scores are on the 25..100 scale of contract.schema.GRADE_SCORES (A = 100 .. D = 25).
An item or group reaches the satisfied bar when its mean score is at least
FeatureConfig.satisfied_score (75) and is flagged low under ReportsConfig.low_score (70),
as in domain.md section 1. A quarter is a calendar quarter of the answer date (2025Q3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from zerochurn.configs.settings import ReportsConfig, SatisfactionTarget
from zerochurn.contract.schema import SURVEY_DIMENSIONS, SURVEY_ITEMS
from zerochurn.reports.charts import bar_chart, line_chart
from zerochurn.reports.html import Report, Section, Table

FLAG_LOW = "low"
FLAG_UNSATISFIED = "unsatisfied"
FLAG_SATISFIED = "satisfied"
"""The flag of a mean score: under low_score, under the satisfied bar, or at least at it."""

OVERALL = "overall"
"""Column of the quarterly table with the mean of every answer."""

STATUS_MET, STATUS_MISSED, STATUS_OPEN = "met", "missed", "open"
"""A target is met when a quarter within its window reaches it, missed when the whole
window is in the data without that, and open otherwise."""

_QUARTER = re.compile(r"\d{4}Q[1-4]")


def parse_quarter(text: str) -> pd.Period:
    """The quarter written as YYYYQn (e.g. 2025Q3)."""
    if not _QUARTER.fullmatch(text):
        raise ValueError(f"quarter {text!r}: expected YYYYQn such as 2025Q3")
    return pd.Period(text, freq="Q")


def survey_answers(surveys: pd.DataFrame, customers: pd.DataFrame, by: str) -> pd.DataFrame:
    """Survey answers with their quarter and the answering customer's group.

    Requires surveys[customer_id, date, item, dimension, score] and customers[customer_id,
    `by`]. Returns surveys' rows with quarter (pandas Period, freq Q) and `by` added (text;
    a categorical when customers[by] is one, as loaded).
    """
    if surveys.empty:
        raise ValueError("surveys has no rows: expected answers to the satisfaction survey")
    if by not in customers:
        raise ValueError(
            f"customers has no {by} column (customers derived from transactions have none): "
            f"expected a customers table with {by} to group the survey answers by"
        )
    group = customers.set_index("customer_id")[by]
    return surveys.assign(
        quarter=surveys["date"].dt.to_period("Q"), **{by: surveys["customer_id"].map(group)}
    )


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as str: loaded tables hold text as categoricals, reports plain text.

    Also what makes `_schema_order` sort by position rather than by category.
    """
    categorical = [name for name in frame if isinstance(frame[name].dtype, pd.CategoricalDtype)]
    return frame.astype(dict.fromkeys(categorical, "str"))


def score_flags(mean_score: pd.Series, *, satisfied_score: float, low_score: float) -> pd.Series:
    """FLAG_LOW under low_score, FLAG_UNSATISFIED under satisfied_score, else FLAG_SATISFIED."""
    if low_score > satisfied_score:
        raise ValueError(
            f"reports.low_score {low_score} is above the satisfied bar {satisfied_score}: "
            "expected it at or below features.satisfied_score"
        )
    flags = np.select(
        [mean_score < low_score, mean_score < satisfied_score],
        [FLAG_LOW, FLAG_UNSATISFIED],
        FLAG_SATISFIED,
    )
    return pd.Series(flags, index=mean_score.index, dtype=str)


def score_summary(
    answers: pd.DataFrame, keys: list[str], *, satisfied_score: float
) -> pd.DataFrame:
    """Per group of `keys`: respondents, answers, mean_score and satisfied_share.

    Requires answers[customer_id, score, *keys]. respondents counts distinct customers;
    mean_score is on the 25..100 scale; satisfied_share is the fraction of answers scored
    at least satisfied_score. One row per group present, sorted by keys; text keys as str.
    """
    return _as_text(
        answers.assign(satisfied=answers["score"] >= satisfied_score)
        .groupby(keys, sort=True, observed=True)
        .agg(
            respondents=("customer_id", "nunique"),
            answers=("score", "size"),
            mean_score=("score", "mean"),
            satisfied_share=("satisfied", "mean"),
        )
        .reset_index()
    )


def quarter_scores(
    answers: pd.DataFrame,
    keys: list[str],
    quarter: pd.Period,
    *,
    satisfied_score: float,
    low_score: float,
    highlight: int,
) -> pd.DataFrame:
    """`score_summary` of `quarter` per keys, with the change from the quarter before.

    Requires answers[customer_id, score, quarter, *keys]. Adds previous_mean_score (the
    calendar quarter before, NaN where that had no answers), change (points), flag
    (`score_flags`) and weakest (true for the `highlight` lowest mean scores).
    """
    current = score_summary(
        answers[answers["quarter"] == quarter], keys, satisfied_score=satisfied_score
    )
    previous = score_summary(
        answers[answers["quarter"] == quarter - 1], keys, satisfied_score=satisfied_score
    )
    scores = current.merge(
        previous[[*keys, "mean_score"]].rename(columns={"mean_score": "previous_mean_score"}),
        on=keys,
        how="left",
    )
    return scores.assign(
        change=scores["mean_score"] - scores["previous_mean_score"],
        flag=score_flags(
            scores["mean_score"], satisfied_score=satisfied_score, low_score=low_score
        ),
        weakest=scores["mean_score"].rank(method="first") <= highlight,
    )


def _schema_order(frame: pd.DataFrame, column: str, order: Iterable[str]) -> pd.DataFrame:
    """Rows sorted by the position of frame[column] in `order` (as contract/schema.py lists)."""
    position = {name: number for number, name in enumerate(order)}
    return frame.sort_values(column, key=lambda values: values.map(position)).reset_index(drop=True)


def item_scores(
    answers: pd.DataFrame,
    quarter: pd.Period,
    *,
    satisfied_score: float,
    low_score: float,
    highlight: int,
) -> pd.DataFrame:
    """Per survey item answered in `quarter`, in questionnaire order (SURVEY_ITEMS).

    Requires answers[customer_id, item, dimension, score, quarter]. Columns: item,
    dimension, answers, mean_score, satisfied_share, previous_mean_score, change, flag,
    weakest (see `quarter_scores`).
    """
    scores = quarter_scores(
        answers,
        ["item", "dimension"],
        quarter,
        satisfied_score=satisfied_score,
        low_score=low_score,
        highlight=highlight,
    )
    return _schema_order(scores.drop(columns="respondents"), "item", SURVEY_ITEMS)


def group_item_scores(answers: pd.DataFrame, quarter: pd.Period, by: str) -> pd.DataFrame:
    """Mean score of each item in each group in `quarter`: item, dimension, one column per group.

    Requires answers[item, dimension, score, quarter, `by`]. Groups are sorted by name;
    NaN where a group did not answer an item.
    """
    table = (
        answers[answers["quarter"] == quarter]
        .pivot_table(
            index=["item", "dimension"], columns=by, values="score", aggfunc="mean", observed=True
        )
        .rename(columns=str)
        .rename_axis(columns=None)
        .reset_index()
    )
    return _schema_order(_as_text(table), "item", SURVEY_ITEMS)


def quarterly_scores(answers: pd.DataFrame) -> pd.DataFrame:
    """Mean score per quarter: quarter (str), OVERALL, then one column per dimension answered.

    Requires answers[dimension, score, quarter]. Dimensions in SURVEY_DIMENSIONS order.
    """
    by_dimension = answers.pivot_table(
        index="quarter", columns="dimension", values="score", aggfunc="mean", observed=True
    )
    dimensions = [name for name in SURVEY_DIMENSIONS if name in by_dimension.columns]
    overall = answers.groupby("quarter")["score"].mean().rename(OVERALL)
    table = pd.concat([overall, by_dimension[dimensions]], axis=1).sort_index()
    return (
        table.rename_axis(index="quarter", columns=None)
        .reset_index()
        .assign(quarter=lambda frame: frame["quarter"].astype(str))
    )


def target_progress(
    answers: pd.DataFrame, target: SatisfactionTarget, *, last_quarter: pd.Period
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Track `target` against actuals, from its baseline quarter up to `last_quarter`.

    Requires answers[item, dimension, score, quarter] up to last_quarter. The target score
    is the baseline quarter's mean score of the item or dimension plus target.points; its
    window ends target.months calendar months after the baseline quarter. Returns one row
    per quarter answered from the baseline on: quarter, mean_score, change (points since
    the baseline), target_score, within_window (the quarter ends inside the window) and
    reached (mean_score >= target_score); and the status: description, baseline_quarter,
    baseline_score, score (the target score), deadline (last day of the window, ISO date),
    latest_score, status (STATUS_MET, STATUS_MISSED or STATUS_OPEN).
    """
    chosen = answers[answers[target.level] == target.name]
    by_quarter = chosen.groupby("quarter")["score"].mean()
    if by_quarter.empty:
        raise ValueError(
            f"surveys have no answers on {target.level} {target.name!r} up to {last_quarter}: "
            "expected some to track reports.target"
        )
    baseline = (
        by_quarter.index.min()
        if target.baseline_quarter is None
        else parse_quarter(target.baseline_quarter)
    )
    if baseline not in by_quarter.index:
        answered = ", ".join(str(quarter) for quarter in by_quarter.index)
        raise ValueError(
            f"reports.target.baseline_quarter {baseline}: surveys have no answers on "
            f"{target.level} {target.name!r} then; expected one of {answered}"
        )
    target_score = by_quarter[baseline] + target.points
    window_end = (baseline + 1).start_time + pd.DateOffset(months=target.months)
    since = by_quarter[by_quarter.index >= baseline]
    progress = pd.DataFrame(
        {
            "quarter": since.index.astype(str),
            "mean_score": since.to_numpy(),
            "change": (since - by_quarter[baseline]).to_numpy(),
            "target_score": target_score,
            "within_window": [(quarter + 1).start_time <= window_end for quarter in since.index],
            "reached": (since >= target_score).to_numpy(),
        }
    )
    met = (progress["reached"] & progress["within_window"]).iloc[1:].any()
    observed = (last_quarter + 1).start_time >= window_end
    status = STATUS_MET if met else STATUS_MISSED if observed else STATUS_OPEN
    return progress, {
        "description": f"{target.level} {target.name} +{target.points:g} points "
        f"within {target.months} months",
        "baseline_quarter": str(baseline),
        "baseline_score": float(by_quarter[baseline]),
        "score": float(target_score),
        "deadline": f"{window_end - pd.Timedelta(days=1):%Y-%m-%d}",
        "latest_score": float(since.iloc[-1]),
        "status": status,
    }


def _target_section(
    answers: pd.DataFrame, target: SatisfactionTarget, quarter: pd.Period
) -> tuple[Section, dict[str, object]]:
    progress, status = target_progress(answers, target, last_quarter=quarter)
    figure = line_chart(
        progress["quarter"],
        {f"{target.level} {target.name}": progress["mean_score"]},
        title=f"Target: {status['description']}",
        ylabel="mean score (25..100)",
        references={
            f"target {status['score']:.1f}": status["score"],
            f"baseline {status['baseline_score']:.1f}": status["baseline_score"],
        },
    )
    section = Section(
        title="Target",
        text=f"{status['description']}, from {status['baseline_quarter']} "
        f"(deadline {status['deadline']}): {status['status']}.",
        figures=(figure,),
        tables=(Table("satisfaction_target", "Target against actuals", progress),),
    )
    return section, {f"target_{key}": value for key, value in status.items()}


def satisfaction_report(
    surveys: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    quarter: pd.Period | None,
    config: ReportsConfig,
    satisfied_score: float,
) -> Report:
    """The satisfaction report of `quarter` (default: the latest answered), with history.

    Requires surveys[customer_id, date, item, dimension, score] and customers[customer_id,
    config.group_by]. Only answers up to `quarter` are used. Tables: satisfaction_items
    (`item_scores`), satisfaction_groups (`quarter_scores` per group),
    satisfaction_group_items (`group_item_scores`), satisfaction_quarters
    (`quarterly_scores`) and, with config.target, satisfaction_target (`target_progress`).
    """
    by = config.group_by
    answers = survey_answers(surveys, customers, by)
    quarters = answers["quarter"]
    quarter = quarters.max() if quarter is None else quarter
    if not (quarters == quarter).any():
        raise ValueError(
            f"surveys have no answers in {quarter}: expected a quarter from "
            f"{quarters.min()} to {quarters.max()}"
        )
    answers = answers[quarters <= quarter]
    flags = {"satisfied_score": satisfied_score, "low_score": config.low_score}
    items = item_scores(answers, quarter, **flags, highlight=config.highlight_items)
    groups = quarter_scores(answers, [by], quarter, **flags, highlight=config.highlight_groups)
    history = quarterly_scores(answers)
    overall = score_summary(answers, ["quarter"], satisfied_score=satisfied_score).set_index(
        "quarter"
    )
    now = overall.loc[quarter]
    before = overall["mean_score"].get(quarter - 1, np.nan)
    references = {f"satisfied ({satisfied_score:g})": satisfied_score}
    references[f"low ({config.low_score:g})"] = config.low_score

    summary: dict[str, object] = {
        "quarter": str(quarter),
        "group_by": by,
        "respondents": int(now["respondents"]),
        "answers": int(now["answers"]),
        "mean_score": float(now["mean_score"]),
        "mean_score_change": float(now["mean_score"] - before),
        "satisfied_share": float(now["satisfied_share"]),
        "items_answered": len(items),
        "items_satisfied": int((items["flag"] == FLAG_SATISFIED).sum()),
        "items_low": int((items["flag"] == FLAG_LOW).sum()),
        "weakest_items": items.loc[items["weakest"]].sort_values("mean_score")["item"].tolist(),
        "weakest_groups": groups.loc[groups["weakest"]].sort_values("mean_score")[by].tolist(),
    }
    sections = [
        Section(
            title=f"Items, {quarter}",
            text=f"Mean score per item (A = 100, B = 75, C = 50, D = 25). Items under "
            f"{satisfied_score:g} fall short of satisfied, under {config.low_score:g} are "
            f"flagged low; the {config.highlight_items} weakest are highlighted. Change is "
            "in points against the quarter before.",
            figures=(
                bar_chart(
                    items["item"],
                    items["mean_score"],
                    title=f"Mean score per item, {quarter}",
                    xlabel="mean score (25..100)",
                    references=references,
                    highlight=items["weakest"],
                ),
            ),
            tables=(Table("satisfaction_items", "Survey items", items, highlight="weakest"),),
        ),
        Section(
            title=f"By {by}, {quarter}",
            text=f"Mean score of all answers per {by}, and per item; the "
            f"{config.highlight_groups} weakest highlighted.",
            figures=(
                bar_chart(
                    groups[by],
                    groups["mean_score"],
                    title=f"Mean score per {by}, {quarter}",
                    xlabel="mean score (25..100)",
                    references=references,
                    highlight=groups["weakest"],
                ),
            ),
            tables=(
                Table("satisfaction_groups", f"Per {by}", groups, highlight="weakest"),
                Table(
                    "satisfaction_group_items",
                    f"Mean score per item and {by}",
                    group_item_scores(answers, quarter, by),
                ),
            ),
        ),
        Section(
            title="Quarter over quarter",
            text="Mean score of all answers and per dimension, each quarter.",
            figures=(
                line_chart(
                    history["quarter"],
                    {name: history[name] for name in history.columns[1:]},
                    title="Mean score per quarter",
                    ylabel="mean score (25..100)",
                    references=references,
                ),
            ),
            tables=(Table("satisfaction_quarters", "Mean score per quarter", history),),
        ),
    ]
    if config.target is not None:
        section, status = _target_section(answers, config.target, quarter)
        sections.append(section)
        summary |= status
    return Report(
        name="satisfaction",
        title=f"Customer satisfaction, {quarter}",
        summary=summary,
        sections=tuple(sections),
    )

"""The satisfaction report, every figure checked by hand on four customers and two quarters."""

from __future__ import annotations

import pandas as pd
import pytest

from zerochurn.configs.settings import ReportsConfig, SatisfactionTarget
from zerochurn.contract.schema import SURVEY_ITEMS
from zerochurn.reports.satisfaction import (
    FLAG_LOW,
    FLAG_SATISFIED,
    FLAG_UNSATISFIED,
    STATUS_MET,
    STATUS_MISSED,
    STATUS_OPEN,
    parse_quarter,
    satisfaction_report,
    score_flags,
)

SATISFIED = 75
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["a", "b", "c", "d"],
        "region": ["north", "north", "south", "south"],
        "segment": ["chain", "clinic", "chain", "clinic"],
    }
)
# item -> scores of a, b, c, d; d was not surveyed in Q1.
Q1 = {
    "product_quality": [100, 75, 75],
    "price_level": [75, 75, 50],
    "complaint_handling": [25, 25, 50],
}
Q2 = {
    "product_quality": [100, 100, 75, 75],  # 87.5, 4 of 4 satisfied
    "price_level": [100, 75, 75, 50],  # 75.0 exactly: satisfied, 3 of 4
    "complaint_handling": [75, 50, 50, 25],  # 50.0: low, 1 of 4
}


def _answers(date: str, scores: dict[str, list[int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (customer, item, SURVEY_ITEMS[item], score)
            for item, values in scores.items()
            for customer, score in zip("abcd", values, strict=False)
        ],
        columns=["customer_id", "item", "dimension", "score"],
    ).assign(date=pd.Timestamp(date))


SURVEYS = pd.concat([_answers("2025-01-15", Q1), _answers("2025-04-10", Q2)], ignore_index=True)
CONFIG = ReportsConfig(highlight_items=1, highlight_groups=1)


def _report(quarter: str | None = "2025Q2", config: ReportsConfig = CONFIG):
    period = None if quarter is None else parse_quarter(quarter)
    return satisfaction_report(
        SURVEYS, CUSTOMERS, quarter=period, config=config, satisfied_score=SATISFIED
    )


def _table(report, name: str) -> pd.DataFrame:
    return next(table.frame for table in report.tables if table.name == name)


def test_items_by_hand() -> None:
    items = _table(_report(), "satisfaction_items").set_index("item")
    assert list(items.index) == ["product_quality", "price_level", "complaint_handling"]
    assert items["answers"].tolist() == [4, 4, 4]
    assert items["mean_score"].tolist() == pytest.approx([87.5, 75.0, 50.0])
    assert items["satisfied_share"].tolist() == pytest.approx([1.0, 0.75, 0.25])
    # Q1: (100 + 75 + 75) / 3, (75 + 75 + 50) / 3, (25 + 25 + 50) / 3
    assert items["previous_mean_score"].tolist() == pytest.approx([250 / 3, 200 / 3, 100 / 3])
    assert items["change"].tolist() == pytest.approx([87.5 - 250 / 3, 75 - 200 / 3, 50 - 100 / 3])
    assert items["flag"].tolist() == [FLAG_SATISFIED, FLAG_SATISFIED, FLAG_LOW]
    assert items["weakest"].tolist() == [False, False, True]


def test_groups_by_region_and_segment() -> None:
    groups = _table(_report(), "satisfaction_groups").set_index("region")
    # north: a, b answer 100, 100, 100, 75, 75, 50; south: c, d answer 75, 75, 75, 50, 50, 25
    assert groups["respondents"].tolist() == [2, 2]
    assert groups["answers"].tolist() == [6, 6]
    assert groups["mean_score"].tolist() == pytest.approx([500 / 6, 350 / 6])
    assert groups["satisfied_share"].tolist() == pytest.approx([5 / 6, 3 / 6])
    # Q1 north: 100, 75, 75, 75, 25, 25; south: c only, 75, 50, 50
    assert groups["previous_mean_score"].tolist() == pytest.approx([62.5, 175 / 3])
    assert groups["flag"].tolist() == [FLAG_SATISFIED, FLAG_LOW]
    assert groups["weakest"].tolist() == [False, True]

    by_segment = _table(
        _report(config=CONFIG.model_copy(update={"group_by": "segment"})), "satisfaction_groups"
    )
    # chain: a, c = 100, 75, 100, 75, 75, 50; clinic: b, d = 100, 75, 75, 50, 50, 25
    assert by_segment["segment"].tolist() == ["chain", "clinic"]
    assert by_segment["mean_score"].tolist() == pytest.approx([475 / 6, 375 / 6])


def test_group_items_and_quarters() -> None:
    report = _report()
    pivot = _table(report, "satisfaction_group_items").set_index("item")
    assert pivot["north"].tolist() == pytest.approx([100.0, 87.5, 62.5])
    assert pivot["south"].tolist() == pytest.approx([75.0, 62.5, 37.5])
    quarters = _table(report, "satisfaction_quarters")
    assert quarters.columns.tolist() == [
        "quarter",
        "overall",
        "product_quality",
        "price",
        "complaint_handling",
    ]
    assert quarters["quarter"].tolist() == ["2025Q1", "2025Q2"]
    assert quarters["overall"].tolist() == pytest.approx([550 / 9, 850 / 12])
    assert quarters["complaint_handling"].tolist() == pytest.approx([100 / 3, 50.0])


def test_summary_by_hand() -> None:
    summary = _report().summary
    assert summary["quarter"] == "2025Q2"
    assert summary["respondents"] == 4
    assert summary["answers"] == 12
    assert summary["mean_score"] == pytest.approx(850 / 12)
    assert summary["mean_score_change"] == pytest.approx(850 / 12 - 550 / 9)
    assert summary["satisfied_share"] == pytest.approx(8 / 12)
    assert (summary["items_answered"], summary["items_satisfied"], summary["items_low"]) == (
        3,
        2,
        1,
    )
    assert summary["weakest_items"] == ["complaint_handling"]
    assert summary["weakest_groups"] == ["south"]


def test_default_quarter_is_the_latest_and_later_answers_are_ignored() -> None:
    assert _report(None).summary["quarter"] == "2025Q2"
    earlier = _report("2025Q1")
    items = _table(earlier, "satisfaction_items")
    assert items["previous_mean_score"].isna().all()  # no 2024Q4 answers
    assert _table(earlier, "satisfaction_quarters")["quarter"].tolist() == ["2025Q1"]


def test_target_met_within_three_months() -> None:
    report = _report()
    progress = _table(report, "satisfaction_target")
    # baseline 2025Q1: complaint handling 100 / 3; target + 10; window ends 2025-06-30
    assert progress["quarter"].tolist() == ["2025Q1", "2025Q2"]
    assert progress["target_score"].tolist() == pytest.approx([100 / 3 + 10] * 2)
    assert progress["change"].tolist() == pytest.approx([0.0, 50 - 100 / 3])
    assert progress["within_window"].tolist() == [True, True]
    assert progress["reached"].tolist() == [False, True]
    summary = report.summary
    assert summary["target_baseline_quarter"] == "2025Q1"
    assert summary["target_deadline"] == "2025-06-30"
    assert summary["target_latest_score"] == pytest.approx(50.0)
    assert summary["target_status"] == STATUS_MET


def test_target_missed_open_and_on_an_item() -> None:
    harder = CONFIG.model_copy(update={"target": SatisfactionTarget(points=20)})
    assert _report(config=harder).summary["target_status"] == STATUS_MISSED
    assert _report("2025Q1", config=harder).summary["target_status"] == STATUS_OPEN
    item = SatisfactionTarget(level="item", name="price_level", points=5, months=6)
    summary = _report(config=CONFIG.model_copy(update={"target": item})).summary
    assert summary["target_score"] == pytest.approx(200 / 3 + 5)
    assert summary["target_deadline"] == "2025-09-30"
    assert summary["target_status"] == STATUS_MET  # 75 >= 71.7
    none = _report(config=CONFIG.model_copy(update={"target": None}))
    assert "satisfaction_target" not in [table.name for table in none.tables]


def test_flags_at_the_bars() -> None:
    flags = score_flags(pd.Series([69.9, 70.0, 74.9, 75.0]), satisfied_score=75, low_score=70)
    assert flags.tolist() == [FLAG_LOW, FLAG_UNSATISFIED, FLAG_UNSATISFIED, FLAG_SATISFIED]
    with pytest.raises(ValueError, match=r"reports\.low_score 80 is above the satisfied bar 75"):
        score_flags(pd.Series([70.0]), satisfied_score=75, low_score=80)


@pytest.mark.parametrize(
    ("quarter", "config", "message"),
    [
        ("2024Q4", CONFIG, r"no answers in 2024Q4: expected a quarter from 2025Q1 to 2025Q2"),
        (
            "2025Q2",
            CONFIG.model_copy(update={"target": SatisfactionTarget(baseline_quarter="2024Q3")}),
            r"baseline_quarter 2024Q3: .* expected one of 2025Q1, 2025Q2",
        ),
    ],
)
def test_errors_name_what_was_expected(quarter, config, message) -> None:
    with pytest.raises(ValueError, match=message):
        _report(quarter, config)


def test_bad_quarter_text_and_empty_surveys() -> None:
    with pytest.raises(ValueError, match=r"quarter '2025-2': expected YYYYQn"):
        parse_quarter("2025-2")
    with pytest.raises(ValueError, match=r"surveys has no rows"):
        satisfaction_report(
            SURVEYS.iloc[:0], CUSTOMERS, quarter=None, config=CONFIG, satisfied_score=SATISFIED
        )

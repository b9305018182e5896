"""Satisfaction features from surveys, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zerochurn.configs.settings import FeatureConfig
from zerochurn.contract.schema import SURVEY_DIMENSIONS, SURVEY_ITEMS
from zerochurn.features.periods import day_numbers
from zerochurn.features.satisfaction import satisfaction_features, satisfaction_index

AS_OF = pd.Timestamp("2024-07-01")
POPULATION = pd.DataFrame({"customer_id": ["a", "never", "once"]})


def _answers(customer: str, date: str, scores: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": customer,
            "date": pd.Timestamp(date),
            "item": list(scores),
            "dimension": [SURVEY_ITEMS[item] for item in scores],
            "score": list(scores.values()),
        }
    )


SURVEYS = pd.concat(
    [
        _answers(
            "a", "2024-01-10", {"product_quality": 50, "product_shelf_life": 100, "price_level": 25}
        ),
        _answers(
            "a",
            "2024-04-10",
            {
                "product_quality": 100,
                "product_shelf_life": 100,
                "price_level": 50,
                "payment_terms": 75,
                "complaint_handling": 25,
            },
        ),
        _answers("a", "2024-07-01", {"product_quality": 25, "price_level": 25}),  # at T
        _answers("once", "2024-06-01", {"delivery_speed": 75}),
        _answers("stranger", "2024-06-01", {"delivery_speed": 25}),  # not in the population
    ],
    ignore_index=True,
)


def _features(config: FeatureConfig | None = None) -> pd.DataFrame:
    got = satisfaction_features(SURVEYS, POPULATION, as_of=AS_OF, config=config or FeatureConfig())
    return got.set_index(POPULATION["customer_id"])


def test_latest_and_previous_questionnaire_by_hand() -> None:
    a = _features().loc["a"]
    assert a["satisfaction_product_quality"] == 100
    assert a["satisfaction_price"] == 62.5
    assert a["satisfaction_complaint_handling"] == 25
    assert np.isnan(a["satisfaction_logistics"])
    assert a["satisfaction_product_quality_prev"] == 75
    assert a["satisfaction_price_prev"] == 25
    assert np.isnan(a["satisfaction_complaint_handling_prev"])
    assert a["satisfaction_overall"] == 70  # (100 + 100 + 50 + 75 + 25) / 5
    assert a["satisfaction_overall_change"] == pytest.approx(70 - 175 / 3)
    assert a["satisfied_share"] == 3 / 5
    assert a["days_since_survey"] == 82
    # (s - 25) / 75 * 100: quality 100, price 50, complaint handling 0; weights .20 .12 .10
    assert a["satisfaction_index"] == pytest.approx((0.20 * 100 + 0.12 * 50) / 0.42)


def test_never_surveyed_is_missing_and_single_survey_has_no_change() -> None:
    got = _features()
    assert got.loc["never", "survey_answers_24m"] == 0
    assert got.loc["never"].drop("survey_answers_24m").isna().all()
    once = got.loc["once"]
    assert once["satisfaction_logistics"] == 75
    assert once["satisfaction_index"] == pytest.approx(100 * 50 / 75)
    assert np.isnan(once["satisfaction_overall_change"])
    assert np.isnan(once["satisfaction_logistics_prev"])


def test_history_averages_every_questionnaire_in_the_window_by_hand() -> None:
    a = _features().loc["a"]  # 2024-01-10 and 2024-04-10; the one at T does not count
    assert a["survey_answers_24m"] == 8
    assert a["satisfaction_overall_24m"] == (50 + 100 + 25 + 100 + 100 + 50 + 75 + 25) / 8
    # dimension means: quality (50 + 100 + 100 + 100) / 4 = 87.5 -> 83.3, price
    # (25 + 50 + 75) / 3 = 50 -> 33.3, complaint handling 25 -> 0; weights .20 .12 .10
    assert a["satisfaction_index_24m"] == pytest.approx((0.20 * 250 / 3 + 0.12 * 100 / 3) / 0.42)
    once = _features().loc["once"]
    assert once["survey_answers_24m"] == 1
    assert once["satisfaction_overall_24m"] == 75


def test_history_window_comes_from_config() -> None:
    # 4 months before T is 2024-03-01: only a's questionnaire of 2024-04-10 is inside
    got = _features(FeatureConfig(survey_history_months=4))
    assert "satisfaction_overall_24m" not in got
    assert got.loc["a", "survey_answers_4m"] == 5
    assert got.loc["a", "satisfaction_overall_4m"] == (100 + 100 + 50 + 75 + 25) / 5
    assert got.loc["a", "satisfaction_overall"] == 70  # the latest is unaffected
    # 1 month before T is 2024-06-01: "once" answered on that very day, "a" before it
    got = _features(FeatureConfig(survey_history_months=1))
    assert got.loc["a", "survey_answers_1m"] == 0
    assert np.isnan(got.loc["a", "satisfaction_index_1m"])
    assert got.loc["a", "satisfaction_product_quality_prev"] == 75  # slots still filled
    assert got.loc["once", "survey_answers_1m"] == 1


def test_index_weights_are_renormalised_over_answered_dimensions() -> None:
    got = _features(FeatureConfig(satisfaction_index_weights={"price": 1.0}))
    assert got.loc["a", "satisfaction_index"] == 50
    assert np.isnan(got.loc["once", "satisfaction_index"])  # logistics has weight 0


def test_satisfaction_index_scale() -> None:
    scores = np.full((2, len(SURVEY_DIMENSIONS)), np.nan)
    scores[0] = 100
    scores[1] = 25
    np.testing.assert_allclose(
        satisfaction_index(scores, {"price": 1.0, "logistics": 3.0}), [100, 0]
    )


def test_day_numbers_floor_to_the_calendar_day() -> None:
    dates = pd.to_datetime(
        ["1970-01-01", "1970-01-02 23:59", "1969-12-31 12:00", "2024-07-01"], format="ISO8601"
    )
    expected = [0, 1, -1, (pd.Timestamp("2024-07-01") - pd.Timestamp("1970-01-01")).days]
    for unit in ("s", "us", "ns"):
        np.testing.assert_array_equal(day_numbers(dates.as_unit(unit).to_numpy()), expected)


def test_answers_on_one_day_form_one_questionnaire() -> None:
    surveys = pd.concat(
        [
            _answers("once", "2024-06-01 09:00", {"delivery_speed": 25}),
            _answers("once", "2024-06-01 15:00", {"delivery_punctuality": 75}),
        ],
        ignore_index=True,
    )
    got = satisfaction_features(surveys, POPULATION, as_of=AS_OF, config=FeatureConfig())
    assert got.loc[2, "satisfaction_logistics"] == 50
    assert np.isnan(got.loc[2, "satisfaction_logistics_prev"])

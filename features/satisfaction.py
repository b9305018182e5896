"""Satisfaction features from the latest and previous survey questionnaire before T."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zerochurn.configs.settings import FeatureConfig
from zerochurn.contract.schema import GRADE_SCORES, SURVEY_DIMENSIONS
from zerochurn.features.grouping import (
    cells,
    group_count,
    group_max,
    group_sum,
    index_positions,
    mean_of,
    member_rows,
)
from zerochurn.features.periods import day_numbers, days_since_day

SCORE_MIN = min(GRADE_SCORES.values())
SCORE_MAX = max(GRADE_SCORES.values())
INDEX_MAX = 100.0
"""The satisfaction index runs from 0 (all answers SCORE_MIN) to INDEX_MAX (all SCORE_MAX)."""

LATEST, PREVIOUS, OLDER = 0, 1, -1
"""Slots of an answer: in the latest questionnaire, the one before, or an older one."""
SLOTS = 2
"""Questionnaires per customer the features look at: the latest and the previous."""


def satisfaction_index(dimension_scores: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    """Weighted mean of dimension scores mapped from SCORE_MIN..SCORE_MAX to 0..INDEX_MAX.

    dimension_scores: (customers, len(SURVEY_DIMENSIONS)), NaN where a dimension was not
    answered. Weights (by dimension name, missing ones 0) are renormalised over the
    dimensions each customer answered; NaN when none of weight > 0 was.
    """
    weight = np.array([weights.get(dimension, 0.0) for dimension in SURVEY_DIMENSIONS])
    scaled = (dimension_scores - SCORE_MIN) / (SCORE_MAX - SCORE_MIN) * INDEX_MAX
    answered = ~np.isnan(scaled)
    weight_sum = (answered * weight).sum(axis=1)
    weighted = np.where(answered, scaled, 0.0) @ weight
    return np.divide(weighted, weight_sum, out=np.full(len(weighted), np.nan), where=weight_sum > 0)


def _questionnaire_slots(
    positions: np.ndarray, day: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which of its customer's questionnaires each answer belongs to.

    positions: population position of each answer; day: its periods.day_numbers. Returns
    the slot of each answer (int8: LATEST, PREVIOUS or OLDER) and the day of each
    customer's latest questionnaire (NO_DAY if none).
    """
    latest_day = group_max(positions, day, size)
    latest = day == latest_day[positions]
    previous_day = group_max(positions[~latest], day[~latest], size)
    slot = np.full(len(day), OLDER, dtype=np.int8)
    slot[day == previous_day[positions]] = PREVIOUS
    slot[latest] = LATEST
    return slot, latest_day


def _recent_answers(
    surveys: pd.DataFrame, population_ids: pd.Index, as_of: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The answers in each customer's latest and previous questionnaire before `as_of`.

    Returns (cell, score, latest_day): for each such answer its flat index in a
    (customers, SLOTS, dimensions) table and its score; per customer the day of the
    latest questionnaire (periods.day_numbers, NO_DAY if none). Answers whose dimension
    is not in SURVEY_DIMENSIONS are ignored.
    """
    dimension = index_positions(surveys["dimension"], pd.Index(SURVEY_DIMENSIONS)).astype(np.int8)
    keep, positions = member_rows(
        surveys["customer_id"],
        population_ids,
        (surveys["date"] < as_of).to_numpy() & (dimension >= 0),
    )
    dimension = dimension[keep]
    day = day_numbers(surveys["date"].to_numpy())[keep]
    slot, latest_day = _questionnaire_slots(positions, day, len(population_ids))
    recent = slot != OLDER
    answers = keep.copy()
    answers[keep] = recent
    cell = cells(
        positions[recent], (slot[recent], SLOTS), (dimension[recent], len(SURVEY_DIMENSIONS))
    )
    return cell, surveys["score"].to_numpy()[answers].astype(float), latest_day


def satisfaction_features(
    surveys: pd.DataFrame,
    population: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    config: FeatureConfig,
) -> pd.DataFrame:
    """Satisfaction features of each active customer from surveys answered before `as_of`.

    Requires surveys[customer_id, date, dimension, score] (score on the 25..100 scale) and
    population[customer_id]. A questionnaire is a customer's answers on one calendar day;
    answers whose dimension is not in SURVEY_DIMENSIONS are ignored.
    Returns, aligned with population, NaN for customers never surveyed:
    satisfaction_{dimension} and satisfaction_{dimension}_prev, the mean item score of each
    SURVEY_DIMENSIONS entry in the latest and previous questionnaire; satisfaction_overall,
    mean of all latest items; satisfaction_overall_change, latest minus previous overall
    (NaN without a previous questionnaire); satisfied_share, share of latest items scored
    at least config.satisfied_score; days_since_survey, from the day of the latest
    questionnaire; satisfaction_index, 0..100 (`satisfaction_index`).
    """
    size = len(population)
    width = len(SURVEY_DIMENSIONS)
    cell, score, latest_day = _recent_answers(surveys, pd.Index(population["customer_id"]), as_of)
    shape = (size, SLOTS, width)
    sums = group_sum(cell, score, size * SLOTS * width).reshape(shape)
    counts = group_count(cell, size * SLOTS * width).reshape(shape)
    satisfied = group_count(cell[score >= config.satisfied_score], size * SLOTS * width)
    satisfied_share = mean_of(
        satisfied.reshape(shape)[:, LATEST].sum(axis=1), counts[:, LATEST].sum(axis=1)
    )
    dimension_means = mean_of(sums, counts)
    overall = mean_of(sums.sum(axis=2), counts.sum(axis=2))
    latest_dims = dimension_means[:, LATEST]
    previous_dims = dimension_means[:, PREVIOUS]

    columns = {
        "satisfaction_index": satisfaction_index(latest_dims, config.satisfaction_index_weights),
        "satisfaction_overall": overall[:, LATEST],
        "satisfaction_overall_change": overall[:, LATEST] - overall[:, PREVIOUS],
        "satisfied_share": satisfied_share,
        "days_since_survey": days_since_day(as_of, latest_day),
        **{f"satisfaction_{d}": latest_dims[:, i] for i, d in enumerate(SURVEY_DIMENSIONS)},
        **{f"satisfaction_{d}_prev": previous_dims[:, i] for i, d in enumerate(SURVEY_DIMENSIONS)},
    }
    return pd.DataFrame(columns, index=population.index)

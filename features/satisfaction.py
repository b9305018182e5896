"""Satisfaction features from the latest and previous questionnaire before T, and the history.

The history features average every questionnaire of the last survey_history_months: each
questionnaire is a noisy reading of a satisfaction that moves slowly, so their mean tracks
it more closely than the latest questionnaire alone.
"""

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
from zerochurn.features.periods import EPOCH, day_numbers, days_since_day, months_before

SCORE_MIN = min(GRADE_SCORES.values())
SCORE_MAX = max(GRADE_SCORES.values())
INDEX_MAX = 100.0
"""The satisfaction index runs from 0 (all answers SCORE_MIN) to INDEX_MAX (all SCORE_MAX)."""

LATEST, PREVIOUS, EARLIER, OLDER = 0, 1, 2, -1
"""Slots of an answer: in the latest questionnaire, the one before, an earlier one inside the
history window, or one before that window (not used)."""
SLOTS = 3
"""Slots the features aggregate: LATEST, PREVIOUS and EARLIER."""


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
    positions: np.ndarray, day: np.ndarray, size: int, history_start: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which of its customer's questionnaires each answer belongs to.

    positions: population position of each answer; day: its periods.day_numbers;
    history_start: first day number of the history window. Returns the slot of each answer
    (int8: LATEST, PREVIOUS, EARLIER or OLDER) and the day of each customer's latest and
    previous questionnaire (NO_DAY if none).
    """
    latest_day = group_max(positions, day, size)
    latest = day == latest_day[positions]
    previous_day = group_max(positions[~latest], day[~latest], size)
    slot = np.where(day >= history_start, np.int8(EARLIER), np.int8(OLDER))
    slot[day == previous_day[positions]] = PREVIOUS
    slot[latest] = LATEST
    return slot, latest_day, previous_day


def _slotted_answers(
    surveys: pd.DataFrame, population_ids: pd.Index, as_of: pd.Timestamp, history_start: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The answers before `as_of` in a slot: latest, previous or inside the history window.

    history_start: first day number of the history window. Returns (cell, score,
    latest_day, previous_day): for each such answer its flat index in a
    (customers, SLOTS, dimensions) table and its score; per customer the day of the
    latest and previous questionnaire (periods.day_numbers, NO_DAY if none). Answers whose
    dimension is not in SURVEY_DIMENSIONS are ignored.
    """
    dimension = index_positions(surveys["dimension"], pd.Index(SURVEY_DIMENSIONS)).astype(np.int8)
    keep, positions = member_rows(
        surveys["customer_id"],
        population_ids,
        (surveys["date"] < as_of).to_numpy() & (dimension >= 0),
    )
    dimension = dimension[keep]
    day = day_numbers(surveys["date"].to_numpy())[keep]
    slot, latest_day, previous_day = _questionnaire_slots(
        positions, day, len(population_ids), history_start
    )
    used = slot != OLDER
    answers = keep.copy()
    answers[keep] = used
    cell = cells(positions[used], (slot[used], SLOTS), (dimension[used], len(SURVEY_DIMENSIONS)))
    return cell, surveys["score"].to_numpy()[answers].astype(float), latest_day, previous_day


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
    questionnaire; satisfaction_index, 0..100 (`satisfaction_index`). Over every
    questionnaire answered from the day m = config.survey_history_months calendar months
    before as_of: satisfaction_index_{m}m, the index of the dimension means of all those
    answers; satisfaction_overall_{m}m, the mean of all those answers; and
    survey_answers_{m}m, their number (0 when none).
    """
    size = len(population)
    width = len(SURVEY_DIMENSIONS)
    months = config.survey_history_months
    history_start = (months_before(as_of, months) - EPOCH).days
    cell, score, latest_day, previous_day = _slotted_answers(
        surveys, pd.Index(population["customer_id"]), as_of, history_start
    )
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
    # The latest or previous questionnaire may predate the window; EARLIER ones never do.
    in_window = np.column_stack(
        [latest_day >= history_start, previous_day >= history_start, np.ones(size, bool)]
    )[:, :, None]
    history_sums = (sums * in_window).sum(axis=1)
    history_counts = (counts * in_window).sum(axis=1)
    history_dims = mean_of(history_sums, history_counts)

    columns = {
        "satisfaction_index": satisfaction_index(latest_dims, config.satisfaction_index_weights),
        "satisfaction_overall": overall[:, LATEST],
        "satisfaction_overall_change": overall[:, LATEST] - overall[:, PREVIOUS],
        "satisfied_share": satisfied_share,
        "days_since_survey": days_since_day(as_of, latest_day),
        **{f"satisfaction_{d}": latest_dims[:, i] for i, d in enumerate(SURVEY_DIMENSIONS)},
        **{f"satisfaction_{d}_prev": previous_dims[:, i] for i, d in enumerate(SURVEY_DIMENSIONS)},
        f"satisfaction_index_{months}m": satisfaction_index(
            history_dims, config.satisfaction_index_weights
        ),
        f"satisfaction_overall_{months}m": mean_of(
            history_sums.sum(axis=1), history_counts.sum(axis=1)
        ),
        f"survey_answers_{months}m": history_counts.sum(axis=1),
    }
    return pd.DataFrame(columns, index=population.index)

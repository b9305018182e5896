"""The quarterly satisfaction survey: who answers, and the grades they give."""

from __future__ import annotations

import numpy as np

from zerochurn.contract.schema import SURVEY_DIMENSIONS, SURVEY_ITEMS
from zerochurn.synthetic.experience import grade_codes
from zerochurn.synthetic.parameters import WorldParameters

ITEM_DIMENSION = np.array([SURVEY_DIMENSIONS.index(d) for d in SURVEY_ITEMS.values()])
"""Dimension column of each survey item, in SURVEY_ITEMS order."""


def survey_respondents(
    rng: np.random.Generator, log_revenue: np.ndarray, params: WorldParameters
) -> np.ndarray:
    """Which customers answer (bool mask); bigger customers (by log_revenue) answer more."""
    n = len(log_revenue)
    rank = np.empty(n)
    rank[np.argsort(log_revenue, kind="stable")] = np.linspace(0.0, 1.0, n)
    sp = params.surveys
    return rng.random(n) < sp.response_rate * (1 + sp.strategic_tilt * (2 * rank - 1))


def answer_grades(
    rng: np.random.Generator, experience: np.ndarray, params: WorldParameters
) -> np.ndarray:
    """Grade codes (0 = A ... 3 = D) of each respondent on each item, shape (n, 22), int8.

    An answer's latent value is the experience of the item's dimension + the item's offset
    + noise; the grade cutpoints turn it into a grade.
    """
    ep = params.experience
    offsets = np.array([ep.item_offsets.get(item, 0.0) for item in SURVEY_ITEMS], np.float32)
    noise = rng.standard_normal((len(experience), len(SURVEY_ITEMS)), dtype=np.float32)
    latent = experience[:, ITEM_DIMENSION] + offsets + np.float32(ep.answer_noise_sd) * noise
    return grade_codes(latent, ep.grade_cutpoints)

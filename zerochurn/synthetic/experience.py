"""Latent experience per survey dimension, its slow drift, and grades drawn from it.

Experience is held as an array of shape (customers, 9) in SURVEY_DIMENSIONS order, in
latent units (about one SD of the noise of a single survey answer).
"""

from __future__ import annotations

import numpy as np

from zerochurn.contract.schema import GRADE_SCORES, SURVEY_DIMENSIONS
from zerochurn.synthetic.parameters import ExperienceParameters, GroupParameters

GRADES = tuple(GRADE_SCORES)
"""Grade letters, best first; a grade code is an index into this tuple."""


def group_values(groups: dict[str, GroupParameters], attribute: str) -> np.ndarray:
    """`attribute` of each group in the groups' order, float32, to index with group codes."""
    return np.array([getattr(g, attribute) for g in groups.values()], dtype=np.float32)


def dimension_means(params: ExperienceParameters) -> np.ndarray:
    """Population mean per dimension, shape (9,), latent units."""
    return np.array([params.dimensions[d].mean for d in SURVEY_DIMENSIONS], dtype=np.float32)


def satisfaction_weights(params: ExperienceParameters) -> np.ndarray:
    """Weights of the dimensions in overall satisfaction, shape (9,), summing to 1."""
    weights = np.array(
        [params.dimensions[d].satisfaction_weight for d in SURVEY_DIMENSIONS], dtype=np.float32
    )
    return weights / weights.sum()


def baseline_experience(
    rng: np.random.Generator, group_shift: np.ndarray, params: ExperienceParameters
) -> np.ndarray:
    """Each customer's lasting experience level, shape (n, 9), float32.

    group_shift: shape (n,), the summed experience shifts of segment, region and plan.
    Level = dimension mean + group shift + general mood (shared) + own level per dimension.
    """
    n = len(group_shift)
    mood = rng.standard_normal(n, dtype=np.float32) * np.float32(params.person_sd)
    own = rng.standard_normal((n, len(SURVEY_DIMENSIONS)), dtype=np.float32)
    own *= np.float32(params.dimension_sd)
    return dimension_means(params) + (group_shift + mood)[:, None] + own


def stationary_walk(rng: np.random.Generator, n: int, params: ExperienceParameters) -> np.ndarray:
    """Drift components drawn from their stationary distribution, shape (n, 9), float32."""
    sd = params.innovation_sd / np.sqrt(1 - params.persistence**2)
    return rng.standard_normal((n, len(SURVEY_DIMENSIONS)), dtype=np.float32) * np.float32(sd)


def step_walk(
    rng: np.random.Generator, walk: np.ndarray, params: ExperienceParameters
) -> np.ndarray:
    """One month of the AR(1) drift: persistence * walk + innovation; same shape as walk."""
    noise = rng.standard_normal(walk.shape, dtype=np.float32) * np.float32(params.innovation_sd)
    return np.float32(params.persistence) * walk + noise


def overall_satisfaction(experience: np.ndarray, params: ExperienceParameters) -> np.ndarray:
    """Weighted mean of the dimensions, shape (n,), latent units."""
    # einsum, not @: a BLAS call with an inner size of 9 spends its time on threading.
    return np.einsum("ij,j->i", experience, satisfaction_weights(params))


def grade_codes(latent: np.ndarray, cutpoints: tuple[float, float, float]) -> np.ndarray:
    """Grade codes (0 = A ... 3 = D, int8) of latent answers, by the D|C, C|B, B|A cutpoints."""
    below = np.searchsorted(np.asarray(cutpoints, dtype=latent.dtype), latent, side="right")
    return (len(cutpoints) - below).astype(np.int8)

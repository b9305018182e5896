"""BlendScorer: the blend family, a weighted average of its parts' Platt-scaled log-odds.

Each part's raw score s_i is first put on the log-odds scale of its own held-out
predictions (a_i s_i + b_i, Platt), then averaged with weights w_i (summing to 1):

    log-odds = sum_i w_i (a_i s_i + b_i)

so contributions are sum_i w_i a_i c_i and expected_value_ is sum_i w_i (a_i e_i + b_i),
both exact when each part's are. Averaging log-odds keeps a calibrated scale, where
averaging ranks was measured to worsen calibration 1.5-3 times (docs/training.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

from zerochurn.model.calibration import PlattCalibrator
from zerochurn.model.scorer import Family, Scorer, TreeContributions


@dataclass(frozen=True)
class BlendWeights:
    """Per part: Platt slope and intercept onto log-odds, and its weight (weights sum to 1)."""

    slopes: np.ndarray
    intercepts: np.ndarray
    weights: np.ndarray

    def blend(self, scores: np.ndarray) -> np.ndarray:
        """(n,) blended log-odds of (n, parts) raw part scores (a row-wise sum, not BLAS,
        so a row's blend does not depend on the rows scored with it)."""
        return ((scores * self.slopes + self.intercepts) * self.weights).sum(axis=-1)


def fit_blend(scores: np.ndarray, y: np.ndarray, steps: int) -> BlendWeights:
    """Platt maps of each of two parts' (n, 2) held-out raw scores, and the weight of the
    first on a grid of steps + 1 values in [0, 1] with the highest ROC-AUC (ties: the
    lowest weight)."""
    if scores.shape[1] != 2:
        raise ValueError(f"a blend has two parts: got scores of shape {scores.shape}")
    maps = [PlattCalibrator().fit(scores[:, i], y) for i in range(2)]
    slopes = np.array([m.slope_ for m in maps])
    intercepts = np.array([m.intercept_ for m in maps])
    logits = scores * slopes + intercepts
    grid = np.linspace(0.0, 1.0, steps + 1)
    aucs = [roc_auc_score(y, w * logits[:, 0] + (1 - w) * logits[:, 1]) for w in grid]
    first = float(grid[int(np.argmax(aucs))])
    return BlendWeights(slopes, intercepts, np.array([first, 1.0 - first]))


class BlendScorer(BaseEstimator):
    """Weighted average of two fitted scorers' Platt-scaled log-odds.

    Parameters
    ----------
    parts : two fitted scorers of the same encoded matrix (e.g. LightGBM and logistic)
    weight_steps : the first part's weight is chosen among steps + 1 values in [0, 1]
    """

    family: Family = "blend"

    def __init__(self, parts: Sequence[Scorer] = (), weight_steps: int = 10) -> None:
        self.parts = parts
        self.weight_steps = weight_steps

    def fit(self, scores: np.ndarray, y: np.ndarray) -> BlendScorer:
        """Learn the maps and weights from the parts' (n, 2) held-out raw scores and labels."""
        if len(self.parts) != scores.shape[1]:
            raise ValueError(f"{len(self.parts)} parts but scores of shape {scores.shape}")
        self.weights_ = fit_blend(scores, y, self.weight_steps)
        w = self.weights_
        values = np.array([part.expected_value_ for part in self.parts])
        self.expected_value_ = float(w.blend(values[None, :])[0])
        return self

    def raw_score(self, matrix: np.ndarray) -> np.ndarray:
        """(n,) blended log-odds of churn before calibration."""
        check_is_fitted(self, "weights_")
        scores = np.column_stack([part.raw_score(matrix) for part in self.parts])
        return self.weights_.blend(scores)

    def contributions(
        self, matrix: np.ndarray, tree_contributions: TreeContributions | None = None
    ) -> np.ndarray:
        """(n, features) sum of the parts' contributions, each times weight x Platt slope."""
        check_is_fitted(self, "weights_")
        w = self.weights_
        scale = w.weights * w.slopes
        return sum(
            factor * part.contributions(matrix, tree_contributions)
            for factor, part in zip(scale, self.parts, strict=True)
        )

    @property
    def boosters(self) -> tuple[lgb.Booster, ...]:
        """The boosters of the parts."""
        return tuple(booster for part in self.parts for booster in part.boosters)

    def describe(self) -> dict[str, Any]:
        """Each part's weight and what it learned, keyed by family."""
        check_is_fitted(self, "weights_")
        described: dict[str, Any] = {}
        for part, weight in zip(self.parts, self.weights_.weights, strict=True):
            described[f"weight_{part.family}"] = float(weight)
            described |= {f"{part.family}_{k}": v for k, v in part.describe().items()}
        return described

"""Probability calibrators on the booster's raw score, and the measured choice between them."""

from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from zerochurn.training.metrics import expected_calibration_error

CalibrationMethod = Literal["platt", "isotonic"]


class PlattCalibrator:
    """p = 1 / (1 + exp(-(a * s + b))) fitted by logistic regression on raw scores s."""

    def fit(self, raw_score: np.ndarray, y: np.ndarray) -> PlattCalibrator:
        """Fit a and b on (n,) raw scores and (n,) 0/1 labels."""
        model = LogisticRegression(C=1e6).fit(raw_score.reshape(-1, 1), y)
        self.slope_ = float(model.coef_[0, 0])
        self.intercept_ = float(model.intercept_[0])
        return self

    def transform(self, raw_score: np.ndarray) -> np.ndarray:
        """(n,) probabilities for (n,) raw scores."""
        return 1.0 / (1.0 + np.exp(-(self.slope_ * raw_score + self.intercept_)))


class IsotonicCalibrator:
    """Monotone step function from raw score to probability, clipped outside the fit range."""

    def fit(self, raw_score: np.ndarray, y: np.ndarray) -> IsotonicCalibrator:
        """Fit on (n,) raw scores and (n,) 0/1 labels."""
        model = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        model.fit(raw_score, y)
        self.x_ = np.asarray(model.X_thresholds_, dtype=np.float64)
        self.y_ = np.asarray(model.y_thresholds_, dtype=np.float64)
        return self

    def transform(self, raw_score: np.ndarray) -> np.ndarray:
        """(n,) probabilities for (n,) raw scores (linear between thresholds)."""
        return np.interp(raw_score, self.x_, self.y_)


CALIBRATORS: dict[str, type[PlattCalibrator] | type[IsotonicCalibrator]] = {
    "platt": PlattCalibrator,
    "isotonic": IsotonicCalibrator,
}


def choose_calibration(
    raw_score: np.ndarray, y: np.ndarray, *, folds: int, random_state: int
) -> tuple[CalibrationMethod, dict[str, float]]:
    """Pick the method with the lower cross-validated expected calibration error.

    Returns the method and the mean out-of-fold ECE of each method, for the run log.
    """
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    scores: dict[str, list[float]] = {name: [] for name in CALIBRATORS}
    for fit_idx, eval_idx in splitter.split(raw_score, y):
        for name, calibrator in CALIBRATORS.items():
            fitted = calibrator().fit(raw_score[fit_idx], y[fit_idx])
            probability = fitted.transform(raw_score[eval_idx])
            scores[name].append(expected_calibration_error(y[eval_idx], probability))
    means = {name: float(np.mean(values)) for name, values in scores.items()}
    best = min(means, key=means.__getitem__)
    return best, means  # type: ignore[return-value]

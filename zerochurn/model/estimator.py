"""ChurnModel: encoder + scorer of one model family + calibrator, logged and served as one object."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from zerochurn.model.calibration import IsotonicCalibrator, PlattCalibrator
from zerochurn.model.encoding import FeatureEncoder
from zerochurn.model.scorer import Family, Scorer, TreeContributions
from zerochurn.model.trees import TreeScorer


class ChurnModel:
    """Calibrated churn probability and per-feature contributions from raw feature rows.

    A composite of fitted typed parts, built by training (training/families.py) and
    used whole by every stage:

    - encoder: raw feature rows -> the (n, features) float64 matrix (model/encoding.py);
    - scorer: that matrix -> raw log-odds and per-feature contributions; one of the
      families of model/scorer.py (LightGBM, logistic, or their blend);
    - calibrator: raw log-odds -> probability (model/calibration.py), fitted on
      held-out scores.

    calibration_method names the calibrator ("platt" or "isotonic");
    calibration_scores holds the cross-validated ECE of each method when it was chosen
    by ECE (empty otherwise), for the run log.
    """

    classes_ = np.array([0, 1])

    def __init__(
        self,
        encoder: FeatureEncoder,
        scorer: Scorer,
        calibrator: PlattCalibrator | IsotonicCalibrator,
        *,
        calibration_method: str,
        calibration_scores: dict[str, float] | None = None,
    ) -> None:
        self.encoder = encoder
        self.scorer = scorer
        self.calibrator = calibrator
        self.calibration_method = calibration_method
        self.calibration_scores = dict(calibration_scores or {})

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, reading a model logged before model families (#15): then a
        scikit-learn estimator holding encoder_, booster_ and calibrator_."""
        if "scorer" not in state:
            state = {
                "encoder": state["encoder_"],
                "scorer": TreeScorer.from_booster(state["booster_"]),
                "calibrator": state["calibrator_"],
                "calibration_method": state["calibration_method_"],
                "calibration_scores": dict(state["calibration_scores_"]),
            }
        self.__dict__.update(state)

    @property
    def family(self) -> Family:
        """The model family: "lightgbm", "logistic" or "blend"."""
        return self.scorer.family

    @property
    def numeric(self) -> tuple[str, ...]:
        """Numeric feature columns, in model order."""
        return tuple(self.encoder.numeric)

    @property
    def categorical(self) -> tuple[str, ...]:
        """Categorical feature columns, after the numeric ones."""
        return tuple(self.encoder.categorical)

    @property
    def feature_names_(self) -> list[str]:
        """Feature columns in model order."""
        return list(self.encoder.columns_)

    @property
    def boosters(self) -> tuple[lgb.Booster, ...]:
        """The LightGBM boosters of the scorer (none for a logistic model)."""
        return self.scorer.boosters

    @property
    def expected_value(self) -> float:
        """Log-odds base of the contributions: expected_value + their row sum = raw_score."""
        return self.scorer.expected_value_

    def encode(self, X: pd.DataFrame) -> np.ndarray:
        """(n, features) float64 matrix of raw feature rows, as the scorer reads it."""
        return self.encoder.transform(X)

    def raw_score(self, X: pd.DataFrame) -> np.ndarray:
        """(n,) uncalibrated log-odds of churn."""
        return self.scorer.raw_score(self.encode(X))

    def probability_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """(n,) calibrated churn probability of an already encoded matrix: the serving fast path."""
        return self.calibrator.transform(self.scorer.raw_score(matrix))

    def predict_churn(self, X: pd.DataFrame) -> np.ndarray:
        """(n,) calibrated probability of churn within the horizon."""
        return self.probability_from_matrix(self.encode(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """(n, 2) probabilities of [stay, churn], as scikit-learn expects."""
        churn = self.predict_churn(X)
        return np.column_stack([1.0 - churn, churn])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """(n,) 0/1 churn at probability 0.5; ranking by predict_churn is the usual use."""
        return (self.predict_churn(X) >= 0.5).astype(np.int64)

    def contributions_from_matrix(
        self, matrix: np.ndarray, tree_contributions: TreeContributions | None = None
    ) -> np.ndarray:
        """(n, features) log-odds contribution of each feature to the raw score.

        tree_contributions: a faster equal of LightGBM's pred_contrib for the boosters
        (serving's TreeShapTables), when there is one.
        """
        return self.scorer.contributions(matrix, tree_contributions)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-feature log-odds contributions to each row's raw score, as a frame."""
        values = self.contributions_from_matrix(self.encode(X))
        return pd.DataFrame(values, columns=self.feature_names_, index=X.index)

    def describe(self) -> dict[str, Any]:
        """The family, what its scorer learned and the calibration method, for the run log."""
        return {
            "family": self.family,
            **self.scorer.describe(),
            "calibration_method": self.calibration_method,
        }

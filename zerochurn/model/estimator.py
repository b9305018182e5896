"""ChurnModel: encoder + LightGBM booster + calibrator, fitted, logged and served as one object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GroupShuffleSplit
from sklearn.utils.validation import check_is_fitted

from zerochurn.contract.cells import FEW_ROWS
from zerochurn.model.calibration import CALIBRATORS, choose_calibration
from zerochurn.model.encoding import FeatureEncoder


class ChurnModel(ClassifierMixin, BaseEstimator):
    """Calibrated churn probability and per-feature contributions from raw feature rows.

    Parameters
    ----------
    numeric, categorical : sequence of str
        Feature columns; categoricals use LightGBM's native categorical splits.
    params : mapping
        LightGBM booster parameters (objective and seed are set here).
    num_boost_round : int
        Upper bound of boosting rounds; early stopping picks the number actually kept.
    early_stopping_rounds : int
        Rounds without improvement of the validation log loss before stopping.
    validation_fraction : float
        Share of training customers held out (whole customers) for early stopping.
    calibration : {"auto", "platt", "isotonic"}
        "auto" picks the method with the lower cross-validated ECE on the calibration set.
    calibration_folds : int
        Folds of that cross-validation.
    random_state : int
        Seed of the booster and of the splits.
    """

    def __init__(
        self,
        numeric: Sequence[str] = (),
        categorical: Sequence[str] = (),
        params: Mapping[str, Any] | None = None,
        num_boost_round: int = 1000,
        early_stopping_rounds: int = 50,
        validation_fraction: float = 0.15,
        calibration: str = "auto",
        calibration_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.numeric = numeric
        self.categorical = categorical
        self.params = params
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        *,
        groups: np.ndarray,
        X_calibration: pd.DataFrame,
        y_calibration: np.ndarray,
    ) -> ChurnModel:
        """Fit the booster on X (early stopping on held-out customers), then the calibrator.

        Parameters
        ----------
        X : (n, features) frame of training rows; y : (n,) 0/1 labels
        groups : (n,) customer ids, so one customer's snapshots stay on one side of a split
        X_calibration, y_calibration : a later, time-separated slice used only to calibrate
        """
        if self.calibration not in ("auto", *CALIBRATORS):
            raise ValueError(f"calibration={self.calibration!r}: expected auto, platt or isotonic")
        y = np.asarray(y, dtype=np.int64)
        y_calibration = np.asarray(y_calibration, dtype=np.int64)
        for name, labels in (("y", y), ("y_calibration", y_calibration)):
            if set(np.unique(labels)) != {0, 1}:
                raise ValueError(f"{name} must contain both 0 and 1 labels")
        self.encoder_ = FeatureEncoder(self.numeric, self.categorical).fit(X)
        matrix = self.encoder_.transform(X)
        splitter = GroupShuffleSplit(
            n_splits=1, test_size=self.validation_fraction, random_state=self.random_state
        )
        fit_idx, valid_idx = next(splitter.split(matrix, y, groups))
        categorical_idx = list(range(len(self.numeric), len(self.encoder_.columns_)))
        # LightGBM refuses some characters in feature names (a table's "Total, USD"): the
        # booster gets positional names; feature_names_ keeps the real ones.
        names = [f"f{index}" for index in range(len(self.encoder_.columns_))]

        def dataset(rows: np.ndarray, reference: lgb.Dataset | None = None) -> lgb.Dataset:
            return lgb.Dataset(
                matrix[rows],
                label=y[rows],
                feature_name=names,
                categorical_feature=categorical_idx,
                reference=reference,
                free_raw_data=True,
            )

        train_set = dataset(fit_idx)
        params = {
            **dict(self.params or {}),
            "objective": "binary",
            "metric": "binary_logloss",
            "seed": self.random_state,
            "verbosity": -1,
        }
        self.booster_ = lgb.train(
            params,
            train_set,
            num_boost_round=self.num_boost_round,
            valid_sets=[dataset(valid_idx, train_set)],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        raw_calibration = self.raw_score(X_calibration)
        if self.calibration == "auto":
            self.calibration_method_, self.calibration_scores_ = choose_calibration(
                raw_calibration,
                y_calibration,
                folds=self.calibration_folds,
                random_state=self.random_state,
            )
        else:
            self.calibration_method_, self.calibration_scores_ = self.calibration, {}
        self.calibrator_ = CALIBRATORS[self.calibration_method_]().fit(
            raw_calibration, y_calibration
        )
        self.classes_ = np.array([0, 1])
        return self

    @property
    def feature_names_(self) -> list[str]:
        """Feature columns in model order."""
        check_is_fitted(self, "encoder_")
        return list(self.encoder_.columns_)

    def encode(self, X: pd.DataFrame) -> np.ndarray:
        """(n, features) float64 matrix of raw feature rows, as the booster reads it."""
        check_is_fitted(self, "booster_")
        return self.encoder_.transform(X)

    def raw_score(self, X: pd.DataFrame) -> np.ndarray:
        """(n,) uncalibrated log-odds of churn."""
        return self._booster_predict(self.encode(X), raw_score=True)

    def probability_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """(n,) calibrated churn probability of an already encoded matrix: the serving fast path."""
        return self.calibrator_.transform(self._booster_predict(matrix, raw_score=True))

    def _booster_predict(self, matrix: np.ndarray, **kind: bool) -> np.ndarray:
        """booster_.predict; a few rows on one thread, as waking the OpenMP threads for
        them costs more than the trees (1.6 ms against 34 us for one row and 600 trees)."""
        threads = {"num_threads": 1} if len(matrix) <= FEW_ROWS else {}
        return self.booster_.predict(matrix, **kind, **threads)

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

    def contributions_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """(n, features) log-odds contribution of each feature (TreeSHAP, bias column dropped)."""
        return self._booster_predict(matrix, pred_contrib=True)[:, :-1]

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-feature log-odds contributions to each row's raw score, as a frame."""
        values = self.contributions_from_matrix(self.encode(X))
        return pd.DataFrame(values, columns=self.feature_names_, index=X.index)

    def feature_importance(self) -> pd.Series:
        """Total gain of each feature, largest first."""
        gains = self.booster_.feature_importance(importance_type="gain")
        return pd.Series(gains, index=self.feature_names_).sort_values(ascending=False)

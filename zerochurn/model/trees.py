"""TreeScorer: the LightGBM family, a booster on the encoded matrix with TreeSHAP reasons."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from zerochurn.contract.cells import FEW_ROWS
from zerochurn.model.scorer import Family, TreeContributions


def booster_params(params: Mapping[str, Any] | None, random_state: int) -> dict[str, Any]:
    """LightGBM parameters of a churn booster: binary log loss, seeded, quiet."""
    return {
        **dict(params or {}),
        "objective": "binary",
        "metric": "binary_logloss",
        "seed": random_state,
        "verbosity": -1,
    }


def tree_dataset(
    matrix: np.ndarray,
    y: np.ndarray,
    categorical: Sequence[int],
    reference: lgb.Dataset | None = None,
    free_raw_data: bool = True,
    init_score: np.ndarray | None = None,
) -> lgb.Dataset:
    """A LightGBM dataset of encoded rows, `categorical` column positions split natively,
    boosting from (n,) starting log-odds `init_score` when given.

    LightGBM refuses some characters in feature names (a table's "Total, USD"): the
    booster gets positional names f0, f1, ...; the model keeps the real ones.
    """
    return lgb.Dataset(
        matrix,
        label=y,
        init_score=init_score,
        feature_name=[f"f{index}" for index in range(matrix.shape[1])],
        categorical_feature=list(categorical),
        reference=reference,
        free_raw_data=free_raw_data,
    )


class TreeScorer(BaseEstimator):
    """LightGBM booster: raw log-odds and TreeSHAP contributions of encoded rows.

    Parameters
    ----------
    params : mapping
        LightGBM booster parameters (objective, metric and seed are set here).
    num_boost_round : int
        Rounds to train; with validation rows in `fit`, the most rounds before early stopping.
    early_stopping_rounds : int
        Rounds without improvement of the validation log loss before stopping.
    categorical : sequence of int
        Positions of the category-code columns (FeatureEncoder puts them last).
    random_state : int
        Seed of the booster.
    """

    family: Family = "lightgbm"

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        num_boost_round: int = 1000,
        early_stopping_rounds: int = 50,
        categorical: Sequence[int] = (),
        random_state: int = 0,
    ) -> None:
        self.params = params
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.categorical = categorical
        self.random_state = random_state

    def fit(
        self,
        matrix: np.ndarray,
        y: np.ndarray,
        *,
        fit_rows: np.ndarray | None = None,
        valid_rows: np.ndarray | None = None,
        callbacks: Sequence[Callable[[lgb.callback.CallbackEnv], None]] = (),
    ) -> TreeScorer:
        """Train on (n, features) encoded rows and (n,) 0/1 labels.

        With valid_rows, train on fit_rows and stop early on the validation rows' log
        loss, calling `callbacks` too after each round; without, train num_boost_round
        rounds on every row.
        """
        params = booster_params(self.params, self.random_state)
        if valid_rows is None:
            train_set = tree_dataset(matrix, y, self.categorical)
            self.booster_ = lgb.train(params, train_set, num_boost_round=self.num_boost_round)
        else:
            rows = np.arange(len(y)) if fit_rows is None else fit_rows
            train_set = tree_dataset(matrix[rows], y[rows], self.categorical)
            valid_set = tree_dataset(matrix[valid_rows], y[valid_rows], self.categorical, train_set)
            self.booster_ = lgb.train(
                params,
                train_set,
                num_boost_round=self.num_boost_round,
                valid_sets=[valid_set],
                callbacks=[
                    lgb.early_stopping(self.early_stopping_rounds, verbose=False),
                    *callbacks,
                ],
            )
        self.expected_value_ = _expected_value(self.booster_)
        return self

    @classmethod
    def from_booster(cls, booster: lgb.Booster) -> TreeScorer:
        """A scorer around a booster trained elsewhere (a model logged before #15)."""
        scorer = cls()
        scorer.booster_ = booster
        scorer.expected_value_ = _expected_value(booster)
        return scorer

    def _predict(self, matrix: np.ndarray, **kind: bool) -> np.ndarray:
        """booster_.predict; a few rows on one thread, as waking the OpenMP threads for
        them costs more than the trees (1.6 ms against 34 us for one row and 600 trees)."""
        check_is_fitted(self, "booster_")
        threads = {"num_threads": 1} if len(matrix) <= FEW_ROWS else {}
        return self.booster_.predict(matrix, **kind, **threads)

    def raw_score(self, matrix: np.ndarray) -> np.ndarray:
        """(n,) log-odds of churn before calibration."""
        return self._predict(matrix, raw_score=True)

    def contributions(
        self, matrix: np.ndarray, tree_contributions: TreeContributions | None = None
    ) -> np.ndarray:
        """(n, features) TreeSHAP log-odds contributions (the bias column dropped)."""
        if tree_contributions is not None:
            fast = tree_contributions(self.booster_, matrix)
            if fast is not None:
                return fast
        return self._predict(matrix, pred_contrib=True)[:, :-1]

    @property
    def boosters(self) -> tuple[lgb.Booster, ...]:
        """The booster."""
        check_is_fitted(self, "booster_")
        return (self.booster_,)

    def describe(self) -> dict[str, Any]:
        """Boosting rounds kept."""
        check_is_fitted(self, "booster_")
        return {"rounds": self.booster_.best_iteration or self.booster_.current_iteration()}


def _expected_value(booster: lgb.Booster) -> float:
    """The TreeSHAP base value: the same for every row (the bias column of pred_contrib)."""
    row = np.full((1, booster.num_feature()), np.nan)
    return float(booster.predict(row, pred_contrib=True, num_threads=1)[0, -1])

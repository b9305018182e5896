"""SurvivalModel: a discrete-time hazard model of the months until a customer churns.

Each training row is a customer at an as-of date T with its time to churn in calendar
months after T (features.build.build_time_to_churn), right-censored. The row is expanded
into one customer-month row per month m it was at risk; the monthly hazard is

    logit h(m | x) = A[m] + B[m] * f(x) + C[m, band(tenure at T)]

- f is a LightGBM booster fitted on the customer-month rows with the hazard of month m
  (quadratic in log m, fitted on all rows) as its starting score, so it learns what each
  customer's features do to the hazard over all months;
- A, B and C are a logistic regression on customer-month rows of customers the booster
  never saw: a level (quadratic in log m), one slope of f, and a shift per tenure band
  (new customers settle) linear in log m. That regression is the calibration. Smooth
  terms keep the few customers followed longest from making the last months noisy; past
  the longest follow-up seen, A and C stay at their last values.
  A slope of f that changes with m was measured too (docs/training.md): fitted on the
  default world's 2024 follow-up it grew with m, and its curves over-predicted the
  riskiest decile's churn by 0.09 at 12 months out of time, against 0.02 with one slope.

Scoring needs one booster call per customer, not one per customer-month: for a
million customers the curve costs a (n, months) array of sums instead of 24 million
tree traversals. S(t) = prod_{m <= t} (1 - h(m | x)).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit
from sklearn.utils.validation import check_is_fitted

from zerochurn.contract.cells import FEW_ROWS
from zerochurn.features.periods import DAYS_PER_MONTH
from zerochurn.model.encoding import FeatureEncoder
from zerochurn.model.trees import booster_params, tree_dataset

TENURE_COLUMN = "tenure_days"
"""Feature holding the tenure at T; without it every customer is in one tenure band."""
BASIS = 3
"""Columns of month_basis: 1, log(m), log(m)^2."""
HAZARD_CLIP = 1e-6
"""Hazards are kept in [HAZARD_CLIP, 1 - HAZARD_CLIP] so log-odds stay finite."""


def person_months(
    follow_up: np.ndarray, event: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customer-month rows of (n,) follow-up months (>= 1) and (n,) churn flags.

    Returns (row, month, churned): for each customer-month, the customer's row index,
    the month m = 1..follow_up and whether the customer churned in that month (only its
    last month, and only for a churner).
    """
    follow_up = np.asarray(follow_up, dtype=np.int64)
    row = np.repeat(np.arange(len(follow_up)), follow_up)
    ends = np.cumsum(follow_up)
    month = np.arange(len(row)) - np.repeat(ends - follow_up, follow_up) + 1
    churned = np.zeros(len(row), dtype=bool)
    churned[ends[follow_up > 0] - 1] = np.asarray(event, dtype=bool)[follow_up > 0]
    return row, month, churned


def month_basis(month: np.ndarray) -> np.ndarray:
    """(n, BASIS) columns 1, log(m), log(m)^2 of months m >= 1: a smooth level over months."""
    log_month = np.log(np.asarray(month, dtype=np.float64))
    return np.column_stack([np.ones(len(log_month)), log_month, log_month**2])


def _logistic(design: np.ndarray, churned: np.ndarray) -> np.ndarray:
    """Coefficients of a (nearly unpenalised) logistic regression without intercept."""
    regression = LogisticRegression(C=1e4, fit_intercept=False, max_iter=2000)
    return regression.fit(design, churned.astype(np.int64)).coef_[0]


class SurvivalModel(BaseEstimator):
    """Monthly churn hazard, survival curve S(t) for t = 1..months, from raw feature rows.

    Parameters
    ----------
    numeric, categorical : sequence of str
        Feature columns, as for ChurnModel.
    months : int
        Length of the survival curve.
    tenure_edges_months : sequence of float
        Edges of the tenure bands of the per-month terms C (months at T).
    params : mapping
        LightGBM booster parameters (objective and seed are set here).
    num_boost_round, early_stopping_rounds : int
        Boosting rounds at most, and rounds without gain before stopping.
    validation_fraction : float
        Share of customers held out: early stopping and the per-month regression.
    random_state : int
        Seed of the booster and of the customer split.
    """

    def __init__(
        self,
        numeric: Sequence[str] = (),
        categorical: Sequence[str] = (),
        months: int = 24,
        tenure_edges_months: Sequence[float] = (3.0, 6.0, 12.0, 24.0),
        params: Mapping[str, Any] | None = None,
        num_boost_round: int = 1000,
        early_stopping_rounds: int = 50,
        validation_fraction: float = 0.2,
        random_state: int = 0,
    ) -> None:
        self.numeric = numeric
        self.categorical = categorical
        self.months = months
        self.tenure_edges_months = tenure_edges_months
        self.params = params
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(
        self,
        X: pd.DataFrame,
        follow_up: np.ndarray,
        event: np.ndarray,
        *,
        groups: np.ndarray,
        encoder: FeatureEncoder | None = None,
    ) -> SurvivalModel:
        """Fit the booster and the per-month terms.

        Parameters
        ----------
        X : (n, features) frame, one row per customer and as-of date
        follow_up : (n,) months observed: the month of the churn, else whole months seen (>= 1)
        event : (n,) whether the customer churned in its last observed month
        groups : (n,) customer ids, so a customer's rows stay on one side of the split
        encoder : a fitted FeatureEncoder of the same columns to share (the churn model's),
            so a scored row is encoded once for both models; None fits one on X
        """
        follow_up = np.asarray(follow_up, dtype=np.int64)
        event = np.asarray(event, dtype=bool)
        if len(follow_up) != len(X) or len(event) != len(X):
            raise ValueError(
                f"follow_up ({len(follow_up)}) and event ({len(event)}) must have one entry "
                f"per row of X ({len(X)})"
            )
        if (follow_up < 1).any():
            raise ValueError("follow_up must be >= 1 month on every row")
        if not event.any():
            raise ValueError("no row churned: a hazard model needs churners")
        if encoder is None:
            encoder = FeatureEncoder(self.numeric, self.categorical).fit(X)
        elif list(encoder.columns_) != [*self.numeric, *self.categorical]:
            raise ValueError(
                f"the shared encoder reads {list(encoder.columns_)}: expected "
                f"{[*self.numeric, *self.categorical]}"
            )
        self.encoder_ = encoder
        matrix = self.encoder_.transform(X)
        row, month, churned = person_months(follow_up, event)
        self.seen_months_ = int(min(month.max(), self.months))
        month = np.minimum(month, self.seen_months_)
        base = _logistic(month_basis(month), churned)
        self.base_log_odds_ = month_basis(np.arange(1, self.seen_months_ + 1)) @ base
        splitter = GroupShuffleSplit(
            n_splits=1, test_size=self.validation_fraction, random_state=self.random_state
        )
        fit_rows, held_rows = next(splitter.split(matrix, groups=groups))
        held = np.zeros(len(X), dtype=bool)
        held[held_rows] = True
        in_fit = ~held[row]
        compact = matrix.astype(np.float32)  # repeated per month: half the memory of float64
        init = self.base_log_odds_[month - 1]
        categorical = range(len(self.numeric), len(self.encoder_.columns_))
        train_set = tree_dataset(
            compact[row[in_fit]], churned[in_fit], categorical, init_score=init[in_fit]
        )
        valid_set = tree_dataset(
            compact[row[~in_fit]],
            churned[~in_fit],
            categorical,
            train_set,
            init_score=init[~in_fit],
        )
        self.booster_ = lgb.train(
            booster_params(self.params, self.random_state),
            train_set,
            num_boost_round=self.num_boost_round,
            valid_sets=[valid_set],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        score = self._booster_predict(matrix[held_rows])
        band = self._tenure_band(matrix[held_rows])
        positions = np.full(len(X), -1)
        positions[held_rows] = np.arange(len(held_rows))
        held_month = ~in_fit
        self._fit_terms(
            month[held_month],
            score[positions[row[held_month]]],
            band[positions[row[held_month]]],
            churned[held_month],
        )
        return self

    @property
    def bands_(self) -> int:
        """Number of tenure bands."""
        return len(self.tenure_edges_months) + 1

    def _tenure_band(self, matrix: np.ndarray) -> np.ndarray:
        """(n,) tenure band of each encoded row (unknown tenure: the last band)."""
        if TENURE_COLUMN not in self.encoder_.columns_:
            return np.zeros(len(matrix), dtype=np.intp)
        tenure = matrix[:, list(self.encoder_.columns_).index(TENURE_COLUMN)] / DAYS_PER_MONTH
        edges = np.asarray(self.tenure_edges_months, dtype=np.float64)
        return np.searchsorted(edges, tenure, side="right")

    def _design(self, month: np.ndarray, score: np.ndarray, band: np.ndarray) -> np.ndarray:
        """Columns of the terms regression: the level's basis (month_basis), the score, and
        each tenure band but the first alone and times log(month)."""
        log_month = np.log(month)[:, None]
        dummies = (band[:, None] == np.arange(1, self.bands_)[None, :]).astype(np.float64)
        return np.hstack([month_basis(month), score[:, None], dummies, dummies * log_month])

    def _fit_terms(
        self, month: np.ndarray, score: np.ndarray, band: np.ndarray, churned: np.ndarray
    ) -> None:
        """Fit A, B and C on held-out customer-months: A quadratic and C linear in
        log(month), B one number, so few parameters are fitted on the held-out customers.
        Past the months seen, A and C stay at their last values."""
        coef = _logistic(self._design(month, score, band), churned)
        shifts = self.bands_ - 1
        log_month = np.log(np.minimum(np.arange(1, self.months + 1), self.seen_months_))
        self.level_ = month_basis(np.exp(log_month)) @ coef[:BASIS]
        self.slope_ = float(coef[BASIS])
        band_level = coef[BASIS + 1 : BASIS + 1 + shifts]
        band_trend = coef[BASIS + 1 + shifts :]
        self.band_shift_ = np.column_stack(
            [np.zeros(self.months), band_level[None, :] + band_trend[None, :] * log_month[:, None]]
        )

    def _booster_predict(self, matrix: np.ndarray) -> np.ndarray:
        """(n,) booster log-odds shift f(x); a few rows on one thread (see TreeScorer)."""
        threads = {"num_threads": 1} if len(matrix) <= FEW_ROWS else {}
        return self.booster_.predict(matrix, raw_score=True, **threads)

    def encode(self, X: pd.DataFrame) -> np.ndarray:
        """(n, features) float64 matrix of raw feature rows, as the booster reads it."""
        check_is_fitted(self, "booster_")
        return self.encoder_.transform(X)

    def hazard_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """(n, months) monthly churn hazard h(m | x) of an encoded matrix, m = 1..months."""
        check_is_fitted(self, "level_")
        score = self._booster_predict(matrix)
        band = self._tenure_band(matrix)
        log_odds = self.level_[None, :] + self.slope_ * score[:, None] + self.band_shift_[:, band].T
        return np.clip(expit(log_odds), HAZARD_CLIP, 1 - HAZARD_CLIP)

    def survival_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """(n, months) S(t) = P(still a customer after month t), t = 1..months."""
        return np.cumprod(1.0 - self.hazard_from_matrix(matrix), axis=1)

    def survival(self, X: pd.DataFrame) -> np.ndarray:
        """(n, months) survival curve of raw feature rows."""
        return self.survival_from_matrix(self.encode(X))

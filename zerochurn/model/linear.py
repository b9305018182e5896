"""LinearScorer: the logistic family, L2 logistic regression on the per-column spline basis.

Its reasons are exact: with basis z (model/basis.py), coefficients b and intercept b0,

    log-odds(x) = [b0 + b . mean(z)] + sum over input columns c of sum_{j in c} b_j (z_j(x) - mean(z_j))

where mean(z) is the training mean. The bracket is expected_value_ (the log-odds of the
encoded-average customer); each column's part is its pull away from that average, and
averages 0 over training rows: the exact SHAP value of a linear model with independent inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from zerochurn.model.basis import SplineBasis
from zerochurn.model.scorer import Family, TreeContributions

CHUNK_CELLS = 1 << 22
"""Rows are scored in chunks of about this many basis cells (32 MiB of float64)."""


def logistic_regression(c: float, *, max_iter: int, warm_start: bool = False) -> LogisticRegression:
    """The L2 logistic regression of the family (lbfgs), inverse strength c."""
    return LogisticRegression(C=c, max_iter=max_iter, warm_start=warm_start)


class LinearScorer(BaseEstimator):
    """L2 logistic regression on SplineBasis columns, with exact per-column contributions.

    Parameters
    ----------
    n_numeric, categories, knots : the SplineBasis settings (see model/basis.py)
    c : float
        Inverse L2 regularisation strength.
    max_iter : int
        Most lbfgs iterations.
    """

    family: Family = "logistic"

    def __init__(
        self,
        n_numeric: int = 0,
        categories: Sequence[int] = (),
        knots: int = 5,
        c: float = 1.0,
        max_iter: int = 2000,
    ) -> None:
        self.n_numeric = n_numeric
        self.categories = categories
        self.knots = knots
        self.c = c
        self.max_iter = max_iter

    def fit(self, matrix: np.ndarray, y: np.ndarray) -> LinearScorer:
        """Learn the basis and the coefficients from (n, features) rows and (n,) 0/1 labels."""
        self.basis_ = SplineBasis(self.n_numeric, self.categories, self.knots).fit(matrix)
        z = self.basis_.transform(matrix)
        model = logistic_regression(self.c, max_iter=self.max_iter).fit(z, y)
        return self._set(z.mean(axis=0), model.coef_[0], float(model.intercept_[0]))

    def _set(self, mean: np.ndarray, coef: np.ndarray, intercept: float) -> LinearScorer:
        self.mean_ = mean
        self.coef_ = coef
        self.intercept_ = intercept
        self.expected_value_ = float(intercept + coef @ mean)
        return self

    def _by_chunks(self, matrix: np.ndarray, score: Callable[[np.ndarray], np.ndarray]):
        """score(basis of a chunk of rows) over row chunks of about CHUNK_CELLS basis
        cells, concatenated: a million customers' basis would not fit in memory at once."""
        check_is_fitted(self, "coef_")
        rows = max(1, CHUNK_CELLS // self.basis_.n_output_)
        starts = range(0, max(len(matrix), 1), rows)  # no rows: one empty chunk
        return np.concatenate([score(self.basis_.transform(matrix[s : s + rows])) for s in starts])

    def raw_score(self, matrix: np.ndarray) -> np.ndarray:
        """(n,) log-odds of churn before calibration."""
        # a row-wise sum, not BLAS: a customer's score must not depend on how many rows
        # are scored with it (the service's few rows equal the batch's bit for bit)
        return self._by_chunks(matrix, lambda z: (z * self.coef_).sum(axis=1) + self.intercept_)

    def contributions(
        self, matrix: np.ndarray, tree_contributions: TreeContributions | None = None
    ) -> np.ndarray:
        """(n, features) exact log-odds parts of each input column (see the module docstring)."""

        def parts(z: np.ndarray) -> np.ndarray:
            terms = (z - self.mean_) * self.coef_
            return np.stack([terms[:, group].sum(axis=1) for group in self.basis_.groups_], 1)

        return self._by_chunks(matrix, parts)

    @property
    def boosters(self) -> tuple[lgb.Booster, ...]:
        """None: a linear model."""
        return ()

    def describe(self) -> dict[str, Any]:
        """Regularisation and basis size."""
        check_is_fitted(self, "coef_")
        return {"c": self.c, "basis_columns": self.basis_.n_output_, "knots": self.knots}

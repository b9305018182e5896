"""SplineBasis: the encoded feature matrix expanded column by column for a linear model.

Each input column becomes a group of basis columns, so a linear model's log-odds split
exactly back into one part per input column (model/linear.py):

- a number: cubic B-splines on knots at its training quantiles (a smooth, bendable
  effect), or one standardised column when it has fewer than three distinct knots;
  beyond the training range it stays at the edge's value. Missing values take the
  training median, and a column that had missing values in training gets a flag.
- a category: one column per training category (FeatureEncoder's integer codes), and a
  "missing" column when training had missing values; an unseen or missing category
  lights none but that.

The splines are evaluated as cubic polynomials per knot interval (coefficients fitted
once, in `fit`), so a single row costs microseconds per column: the service scores one
customer with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import BSpline
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

DEGREE = 3
"""Cubic splines."""
MIN_SPLINE_KNOTS = 3
"""Fewer distinct values or knots than this (e.g. a 0/1 number) give one standardised column."""
_INTERVAL_POINTS = np.linspace(0.0, 1.0, DEGREE + 1)
"""Where each knot interval is sampled to find its cubic's coefficients (exact for cubics)."""


@dataclass(frozen=True)
class _Number:
    """How one numeric input column is expanded (learned by SplineBasis.fit).

    knots: (K,) sorted distinct knots; spline: (K-1, DEGREE+1, K+DEGREE-1) coefficients of
    each basis function in each knot interval, in powers of the interval's relative
    position u in [0, 1] (None: one standardised column, (value - centre) / scale).
    """

    median: float
    flag_missing: bool
    knots: np.ndarray
    spline: np.ndarray | None
    centre: float
    scale: float

    @property
    def width(self) -> int:
        values = 1 if self.spline is None else self.spline.shape[2]
        return values + int(self.flag_missing)

    def expand(self, values: np.ndarray, out: np.ndarray) -> None:
        """Write the (n, width) basis of (n,) values into out."""
        missing = np.isnan(values)
        values = np.where(missing, self.median, values)
        if self.spline is None:
            out[:, 0] = (values - self.centre) / self.scale
        else:
            knots = self.knots
            inside = np.clip(values, knots[0], knots[-1])
            interval = np.clip(np.searchsorted(knots, inside, side="right") - 1, 0, len(knots) - 2)
            u = (inside - knots[interval]) / (knots[interval + 1] - knots[interval])
            coefficients = self.spline[interval]  # (n, DEGREE+1, basis)
            basis = coefficients[:, DEGREE]
            for power in range(DEGREE - 1, -1, -1):  # Horner
                basis = basis * u[:, None] + coefficients[:, power]
            out[:, : self.spline.shape[2]] = basis
        if self.flag_missing:
            out[:, -1] = missing


def _spline_coefficients(knots: np.ndarray) -> np.ndarray:
    """(K-1, DEGREE+1, K+DEGREE-1) polynomial coefficients of clamped cubic B-splines.

    Within interval i, basis function b equals sum_p c[i, p, b] * u**p with
    u = (x - knots[i]) / (knots[i+1] - knots[i]); the basis sums to 1 on [knots[0], knots[-1]].
    """
    clamped = np.r_[[knots[0]] * DEGREE, knots, [knots[-1]] * DEGREE]
    vandermonde = _INTERVAL_POINTS[:, None] ** np.arange(DEGREE + 1)
    coefficients = []
    for low, high in zip(knots[:-1], knots[1:], strict=True):
        x = np.clip(low + _INTERVAL_POINTS * (high - low), low, high)  # rounding past high
        values = BSpline.design_matrix(x, clamped, DEGREE).toarray()  # (DEGREE+1, basis)
        coefficients.append(np.linalg.solve(vandermonde, values))
    return np.stack(coefficients)


def _number(values: np.ndarray, knots: int) -> _Number:
    """How to expand one numeric column, learned from its (n,) training values."""
    missing = np.isnan(values)
    present = values[~missing]
    median = float(np.median(present)) if len(present) else 0.0
    filled = np.where(missing, median, values)
    centre, scale = float(filled.mean()), float(filled.std())
    points = np.unique(np.quantile(filled, np.linspace(0.0, 1.0, knots)))
    few_values = len(np.unique(filled)) < MIN_SPLINE_KNOTS  # a 0/1 flag is a line
    spline = None if few_values or len(points) < MIN_SPLINE_KNOTS else _spline_coefficients(points)
    return _Number(median, bool(missing.any()), points, spline, centre, scale or 1.0)


class SplineBasis(TransformerMixin, BaseEstimator):
    """Per-column basis of FeatureEncoder's matrix: splines of numbers, one-hot categories.

    Parameters
    ----------
    n_numeric : int
        The matrix's first n_numeric columns are numbers, the rest category codes.
    categories : sequence of int
        Number of training categories of each categorical column (codes 0 .. count-1).
    knots : int
        Knots per number at evenly spaced training quantiles (fewer when values repeat).
    """

    def __init__(self, n_numeric: int = 0, categories: Sequence[int] = (), knots: int = 5) -> None:
        self.n_numeric = n_numeric
        self.categories = categories
        self.knots = knots

    def fit(self, matrix: np.ndarray, y: object = None) -> SplineBasis:
        """Learn knots, medians and missing flags from an (n, features) training matrix."""
        matrix = np.asarray(matrix, dtype=np.float64)
        if matrix.shape[1] != self.n_numeric + len(self.categories):
            raise ValueError(
                f"matrix has {matrix.shape[1]} columns: expected {self.n_numeric} numbers "
                f"and {len(self.categories)} categories"
            )
        if self.knots < 2:
            raise ValueError(f"knots={self.knots}: expected at least 2")
        self.numbers_ = [_number(matrix[:, j], self.knots) for j in range(self.n_numeric)]
        self.category_missing_ = [
            bool(np.isnan(matrix[:, self.n_numeric + j]).any()) for j in range(len(self.categories))
        ]
        widths = [number.width for number in self.numbers_] + [
            count + int(missing)
            for count, missing in zip(self.categories, self.category_missing_, strict=True)
        ]
        edges = np.cumsum([0, *widths])
        self.groups_ = [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
        self.n_output_ = int(edges[-1])
        return self

    def transform(self, matrix: np.ndarray) -> np.ndarray:
        """(n, n_output_) float64 basis of an (n, features) encoded matrix."""
        check_is_fitted(self, "groups_")
        matrix = np.asarray(matrix, dtype=np.float64)
        out = np.zeros((len(matrix), self.n_output_))
        for j, number in enumerate(self.numbers_):
            number.expand(matrix[:, j], out[:, self.groups_[j]])
        rows = np.arange(len(matrix))
        for j, (count, missing) in enumerate(
            zip(self.categories, self.category_missing_, strict=True)
        ):
            group = self.groups_[self.n_numeric + j]
            codes = matrix[:, self.n_numeric + j]
            known = (codes >= 0) & (codes < count)  # False for NaN
            position = np.where(known, codes, count).astype(np.intp)
            lit = known | missing  # NaN lights the "missing" column when training had one
            out[rows[lit], group.start + position[lit]] = 1.0
        return out

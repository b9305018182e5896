"""FeatureEncoder: raw feature rows -> the float64 matrix LightGBM scores, fitted once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from zerochurn.contract.cells import (
    FEW_ROWS,
    is_missing_cell,
    is_number_dtype,
    plain_numbers,
    to_categories,
    to_numbers,
)


class FeatureEncoder(TransformerMixin, BaseEstimator):
    """Fixed column order, numbers as float64, categories as integer codes.

    Categories are learned in `fit` (sorted); an unseen or missing category becomes
    NaN, which LightGBM routes like a missing value. Missing optional numeric columns
    are NaN too, so a record without survey data still scores. Values are read as
    contract/cells.py reads a flat table: numbers stored as text are numbers, blanks
    are missing.

    Parameters
    ----------
    numeric : sequence of str
        Numeric feature columns, in model order.
    categorical : sequence of str
        Categorical feature columns, after the numeric ones.
    """

    def __init__(self, numeric: Sequence[str] = (), categorical: Sequence[str] = ()) -> None:
        self.numeric = numeric
        self.categorical = categorical

    def fit(self, X: pd.DataFrame, y: object = None) -> FeatureEncoder:
        """Learn the categories of each categorical column; X has one row per customer."""
        missing = [c for c in [*self.numeric, *self.categorical] if c not in X.columns]
        if missing:
            raise ValueError(f"feature frame lacks columns {missing}")
        self.columns_ = [*self.numeric, *self.categorical]
        self.categories_ = {
            column: sorted(to_categories(X[column]).dropna().unique())
            for column in self.categorical
        }
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Return an (n_rows, n_features) float64 array in `columns_` order."""
        check_is_fitted(self, "columns_")
        out = np.full((len(X), len(self.columns_)), np.nan, dtype=np.float64)
        few = len(X) <= FEW_ROWS  # a service request: per-column overhead dominates
        present = [j for j, column in enumerate(self.numeric) if column in X.columns]
        if few:
            present = self._read_few_numbers(X, present, out)
        for j in present:
            out[:, j] = to_numbers(X[self.numeric[j]], self.numeric[j])
        offset = len(self.numeric)
        for j, column in enumerate(self.categorical, start=offset):
            if column not in X.columns:
                continue
            labels = to_categories(X[column])
            if few:
                code = {category: i for i, category in enumerate(self.categories_[column])}
                out[:, j] = [code.get(label, np.nan) for label in labels.tolist()]
            else:
                codes = pd.Index(self.categories_[column]).get_indexer(labels)
                out[:, j] = np.where(codes >= 0, codes, np.nan)
        return out

    def _read_few_numbers(self, X: pd.DataFrame, present: list[int], out: np.ndarray) -> list[int]:
        """Fill the numeric columns `present` of a few rows into `out` from one object matrix
        (selecting columns by name would cost more than reading them). Number columns are
        cast, others read cell by cell; returns the columns left for to_numbers' full reader
        (text that is not a plain number).
        """
        matrix = X.to_numpy(dtype=object)
        position = {name: i for i, name in enumerate(X.columns)}
        dtypes = list(X.dtypes)
        numeric = {id(dtype): is_number_dtype(dtype) for dtype in dtypes}
        left = []
        for j in present:
            p = position[self.numeric[j]]
            cells = matrix[:, p]
            if numeric[id(dtypes[p])]:
                out[:, j] = [np.nan if is_missing_cell(cell) else float(cell) for cell in cells]
            elif (numbers := plain_numbers(cells)) is not None:
                out[:, j] = numbers
            else:
                left.append(j)
        return left

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the output columns, in order."""
        check_is_fitted(self, "columns_")
        return np.asarray(self.columns_, dtype=object)

"""The scikit-learn baseline every LightGBM model must beat: regularised logistic regression."""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

BASELINE_MAX_ITER = 2000


def make_baseline(
    numeric: Sequence[str], categorical: Sequence[str], *, c: float, random_state: int
) -> Pipeline:
    """Median-imputed (with missing flags) and scaled numbers, one-hot categories, L2 logit."""
    numeric_steps = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    categorical_steps = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing", keep_empty_features=True),
        OneHotEncoder(handle_unknown="ignore"),
    )
    columns = ColumnTransformer(
        [
            ("numeric", numeric_steps, list(numeric)),
            ("categorical", categorical_steps, list(categorical)),
        ]
    )
    model = LogisticRegression(C=c, max_iter=BASELINE_MAX_ITER, random_state=random_state)
    return Pipeline([("columns", columns), ("model", model)])

"""Point-in-time features: one row per customer active at an as-of date, from earlier data.

The public API; features/catalog.py documents every column, docs/features.md the design.
"""

from zerochurn.features.build import (
    LABEL_COLUMN,
    build_features,
    build_labels,
    build_training_frame,
    monthly_as_of_dates,
)
from zerochurn.features.catalog import (
    Feature,
    column_spec,
    feature_catalog,
    feature_columns,
    feature_roles,
    feature_spec,
    reason_text,
)
from zerochurn.features.population import label_window_days
from zerochurn.features.value_function import customer_value, monthly_retention_from_churn

__all__ = [
    "LABEL_COLUMN",
    "Feature",
    "build_features",
    "build_labels",
    "build_training_frame",
    "column_spec",
    "customer_value",
    "feature_catalog",
    "feature_columns",
    "feature_roles",
    "feature_spec",
    "label_window_days",
    "monthly_as_of_dates",
    "monthly_retention_from_churn",
    "reason_text",
]

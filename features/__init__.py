"""Point-in-time features: one row per customer active at an as-of date, from earlier data.

The public API below is imported from its module on first use (PEP 562), not with the
package: importing zerochurn.features.catalog alone (the service does) no longer loads
the whole pipeline. Code of this project imports from the modules themselves.
features/catalog.py documents every column, docs/features.md the design.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_MODULES = {
    "LABEL_COLUMN": "build",
    "build_features": "build",
    "build_labels": "build",
    "build_training_frame": "build",
    "monthly_as_of_dates": "build",
    "Feature": "catalog",
    "column_spec": "catalog",
    "feature_catalog": "catalog",
    "feature_columns": "catalog",
    "feature_roles": "catalog",
    "feature_spec": "catalog",
    "reason_text": "catalog",
    "label_window_days": "population",
    "customer_value": "value_function",
    "monthly_retention_from_churn": "value_function",
}
"""Each public name and the module of this package it comes from."""

__all__ = [
    "Feature",
    "LABEL_COLUMN",
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


def __getattr__(name: str) -> Any:
    """The public `name`, imported from its module when first asked for."""
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    globals()[name] = value  # asked once: later lookups find it without this function
    return value

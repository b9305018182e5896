"""The feature catalog: names, templates and reason texts."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zerochurn.configs.settings import FeatureConfig
from zerochurn.contract.schema import SURVEY_DIMENSIONS
from zerochurn.features import (
    feature_catalog,
    feature_columns,
    feature_roles,
    feature_spec,
    reason_text,
)


def test_per_dimension_features_come_from_survey_dimensions() -> None:
    catalog = feature_catalog(FeatureConfig())
    for dimension in SURVEY_DIMENSIONS:
        assert catalog[f"satisfaction_{dimension}"].group == "satisfaction"
        assert catalog[f"satisfaction_{dimension}_prev"].unit == "score 25..100"


def test_windowed_names_follow_the_config() -> None:
    catalog = feature_catalog(FeatureConfig(revenue_windows_months=(2,)))
    assert [name for name in catalog if name.startswith("revenue_")] == [
        "revenue_2m",
        "revenue_trend",
    ]


def test_any_concrete_name_resolves() -> None:
    spec = feature_spec("revenue_24m")
    assert spec.description == "Revenue in the 24 calendar months before the as-of date."
    assert feature_spec("satisfaction_staff_attitude_prev").description.startswith(
        "Mean score of the staff attitude items"
    )
    with pytest.raises(KeyError, match="'satisfaction_weather' is not a feature column"):
        feature_spec("satisfaction_weather")


def test_reason_texts() -> None:
    assert (
        reason_text("complaints_open_over_30d", 2.0) == "2 complaints unresolved for over 30 days"
    )
    assert reason_text("satisfaction_index", 41.6) == "Satisfaction index 42 of 100"
    assert reason_text("satisfaction_price", 50.0).startswith("Satisfaction with price 50")
    assert reason_text("segment", "key") == "Segment key"
    assert reason_text("satisfaction_index", np.nan) == "Never surveyed"
    assert reason_text("days_since_complaint", None) == "No complaints"
    assert reason_text("tenure_days", None) == "Tenure days not known"  # a missing input
    # One of a kind reads singular, whatever the number type; 0 and 1.6 read plural.
    assert reason_text("complaints_open", 1.0) == "1 complaint open"
    assert reason_text("complaints_open", np.int64(1)) == "1 complaint open"
    assert reason_text("complaints_open", 0) == "0 complaints open"
    assert reason_text("complaints_open", 1.6) == "2 complaints open"
    assert reason_text("tenure_days", 1) == "Customer for 1 day"
    assert reason_text("satisfaction_overall_change", -1.2) == (
        "Survey score changed -1 point since the previous survey"
    )


def test_every_feature_has_a_usable_reason() -> None:
    for spec in feature_catalog(FeatureConfig()).values():
        value = "x" if spec.kind == "categorical" else 0.5
        assert reason_text(spec.name, value)
        assert reason_text(spec.name, np.nan) == spec.missing
        assert spec.description and spec.group in {"profile", "value", "satisfaction", "complaints"}


def test_feature_columns_skip_keys_and_labels() -> None:
    frame = pd.DataFrame(columns=["customer_id", "as_of", "tenure_days", "churned", "region"])
    assert feature_columns(frame) == ["tenure_days", "region"]


def test_feature_roles_split_numeric_and_categorical() -> None:
    frame = pd.DataFrame(columns=["customer_id", "segment", "tenure_days", "plan", "churned"])
    assert feature_roles(frame) == (["tenure_days"], ["segment", "plan"])


def test_docs_list_every_feature() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "features.md").read_text()
    dimensions = "|".join(SURVEY_DIMENSIONS)
    for name in feature_catalog(FeatureConfig()):
        generic = re.sub(f"^satisfaction_({dimensions})", "satisfaction_{dimension}", name)
        assert f"`{name}`" in text or f"`{generic}`" in text, name

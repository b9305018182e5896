"""ScoringRuntime without a server: reloads swap models or keep the old one; formatting."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from zerochurn.configs import load_settings
from zerochurn.model.champion import ModelUnavailableError
from zerochurn.serving.runtime import ScoringRuntime, customer_scores


@dataclass
class _Model:
    version: str

    def info(self) -> dict:
        return {
            "version": self.version,
            "alias": "champion",
            "source": "test",
            "loaded_at": "now",
            "trained_at": "then",
            "horizon_days": 90,
            "reference_churn_rate": 0.1,
            "churn_definition": "cancellation",
            "train_as_of": [],
            "test_as_of": [],
            "metrics": {},
        }


@pytest.fixture
def settings(tmp_path):
    return load_settings(overrides={"workspace": str(tmp_path)}, environ={})


def test_reload_swaps_to_the_new_champion(settings):
    versions = iter(["1", "2"])
    runtime = ScoringRuntime(settings, loader=lambda s: _Model(next(versions)))
    answer = runtime.reload()
    assert (answer.previous_version, answer.version, answer.changed) == ("1", "2", True)
    assert runtime.model_info().version == "2"


def test_failed_reload_keeps_serving_the_old_model(settings):
    def loader(_):
        if loader.calls:
            raise OSError("registry unreachable")
        loader.calls += 1
        return _Model("1")

    loader.calls = 0
    runtime = ScoringRuntime(settings, loader=loader)
    with pytest.raises(ModelUnavailableError, match="still serving version 1: registry"):
        runtime.reload()
    assert runtime.model.version == "1"


def test_without_batch_scores_ids_get_errors_and_lists_say_what_to_run(settings):
    runtime = ScoringRuntime(settings, loader=lambda s: _Model("1"))
    answer = runtime.score_customers(["a", "b"])
    assert answer.scores == [] and [e.customer_id for e in answer.errors] == ["a", "b"]
    assert "run zerochurn score" in answer.errors[0].error


def test_customer_scores_format_missing_values_and_reason_values():
    scores = {
        "customer_id": np.array(["a", "b"], dtype=object),
        "region": np.array(["north", None], dtype=object),
        "churn_probability": np.array([0.2, 0.1]),
        "churn_index": np.array([200, 100]),
        "risk_tier": np.array(["high", "medium"], dtype=object),
        "customer_value": np.array([10.0, np.nan]),
        "value_at_risk": np.array([2.0, np.nan]),
        "reason_1_feature": np.array(["region", "revenue_3m"], dtype=object),
        "reason_1_text": np.array(["Region north", "Revenue 5 in the last 3 months"], dtype=object),
        "reason_1_contribution": np.array([0.3, 0.1]),
        "reason_2_feature": np.array([None, None], dtype=object),
        "reason_2_text": np.array([None, None], dtype=object),
        "reason_2_contribution": np.array([np.nan, np.nan]),
        "model_version": np.array(["1", "1"], dtype=object),
        "scored_at": np.array(["t", "t"], dtype=object),
    }
    features = pd.DataFrame({"region": ["north", None], "revenue_3m": [np.nan, 5.0]})
    first, second = customer_scores(scores, features, top_reasons=2)
    assert first.top_reasons[0].value == "north" and len(first.top_reasons) == 1
    assert second.region is None and second.customer_value is None
    assert second.top_reasons[0].value == 5.0
    # scores made before reasons had drivers: the catalog's driver of the feature
    assert [first.top_reasons[0].driver, second.top_reasons[0].driver] == ["region", "buying"]

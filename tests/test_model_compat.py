"""A model logged before zerochurn.model existed still loads, and scores exactly as it did.

tests/fixtures/model_before_14.pkl is the pickled pyfunc object of a small model as
MLflow stored it with the code of cf9fc0f: classes under zerochurn.training.* and the
card's costs as a dict (tests/fixtures/make_model_before_14.py made it).
"""

from __future__ import annotations

from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd

from zerochurn.configs.settings import CostConfig
from zerochurn.model.card import ModelCard
from zerochurn.model.estimator import ChurnModel
from zerochurn.model.pyfunc import ChurnPyfunc

FIXTURES = Path(__file__).parent / "fixtures"


def load_old_pyfunc() -> ChurnPyfunc:
    return cloudpickle.loads((FIXTURES / "model_before_14.pkl").read_bytes())


def test_an_old_model_loads_as_todays_classes():
    pyfunc = load_old_pyfunc()
    assert isinstance(pyfunc, ChurnPyfunc)
    assert isinstance(pyfunc.model, ChurnModel)
    assert isinstance(pyfunc.card, ModelCard)
    assert pyfunc.survival is None  # logged before the time-to-churn model existed


def test_an_old_cards_costs_read_as_the_cost_config():
    card = load_old_pyfunc().card
    expected = CostConfig(missed_churner=300.0, retention_offer=20.0, offer_success_rate=0.5)
    assert card.costs == expected
    assert card.to_json()["costs"] == expected.model_dump(mode="json")
    assert card.decision_threshold == 0.2 and card.data_kind == "contract"


def test_an_old_model_scores_bit_for_bit_as_before():
    expected = pd.read_parquet(FIXTURES / "model_before_14_scores.parquet")
    rows = expected.drop(columns="churn_probability")
    probability = load_old_pyfunc().model.predict_churn(rows)
    np.testing.assert_array_equal(probability, expected["churn_probability"].to_numpy())

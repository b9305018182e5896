"""The MLflow model: one artifact that scores raw feature rows end to end.

It wraps a fitted ChurnModel (encoder + booster + calibrator) with its ModelCard: what
serving needs to interpret a probability, such as the churn horizon and the training
population's churn rate. `mlflow.pyfunc.load_model(uri).predict(rows)` gives
probabilities (and contributions on request); model/registry.py unwraps the same object
so serving and monitoring call ChurnModel directly, for speed. UpliftPyfunc does the same
for the uplift model of retention campaigns (model/uplift.py).
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

from zerochurn.model.card import ModelCard
from zerochurn.model.estimator import ChurnModel
from zerochurn.model.outputs import CONTRIBUTION_PREFIX, PROBABILITY_COLUMN
from zerochurn.model.uplift import UPLIFT_COLUMN, UpliftModel


class ChurnPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc around a ChurnModel and its ModelCard."""

    def __init__(self, model: ChurnModel, card: ModelCard) -> None:
        self.model = model
        self.card = card

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Churn probability per row; with params={"contributions": True} also per-feature
        log-odds contributions as ``contribution__<feature>`` columns."""
        frame = pd.DataFrame(
            {PROBABILITY_COLUMN: self.model.predict_churn(model_input)}, index=model_input.index
        )
        if params and params.get("contributions"):
            contributions = self.model.contributions(model_input).add_prefix(CONTRIBUTION_PREFIX)
            frame = frame.join(contributions)
        return frame


class UpliftPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc around an UpliftModel and what it was trained and judged on.

    predict takes feature rows with a churn_probability column (the churn model's) and
    gives the expected drop in churn probability if the customer is treated.
    """

    def __init__(self, model: UpliftModel, card: dict[str, Any]) -> None:
        self.model = model
        self.card = card

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """The uplift of each row, as an "uplift" column."""
        uplift = self.model.predict(model_input, model_input[PROBABILITY_COLUMN].to_numpy())
        return pd.DataFrame({UPLIFT_COLUMN: uplift}, index=model_input.index)

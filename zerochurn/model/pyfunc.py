"""The MLflow model: one artifact that scores raw feature rows end to end.

It wraps a fitted ChurnModel (encoder + scorer + calibrator) with its ModelCard: what
serving needs to interpret a probability, such as the churn horizon and the training
population's churn rate, and the time-to-churn SurvivalModel when one was fitted (None
for a flat table, and in models logged before it existed).
`mlflow.pyfunc.load_model(uri).predict(rows)` gives probabilities (and contributions, or
the survival curve anchored to the probability, on request); model/registry.py unwraps
the same object so serving and monitoring call the models directly, for speed.
UpliftPyfunc does the same for the uplift model of retention campaigns (model/uplift.py).
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from zerochurn.model.card import ModelCard
from zerochurn.model.estimator import ChurnModel
from zerochurn.model.lifetime import anchor_to_horizon, horizon_months, monthly_churn
from zerochurn.model.outputs import (
    CONTRIBUTION_PREFIX,
    PROBABILITY_COLUMN,
    monthly_churn_column,
    survival_column,
)
from zerochurn.model.survival import SurvivalModel
from zerochurn.model.uplift import UPLIFT_COLUMN, UpliftModel


class ChurnPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc around a ChurnModel, its ModelCard and its SurvivalModel (or None)."""

    survival: SurvivalModel | None = None
    """Class default: models pickled before #19 have no survival attribute of their own."""

    def __init__(
        self, model: ChurnModel, card: ModelCard, survival: SurvivalModel | None = None
    ) -> None:
        self.model = model
        self.card = card
        self.survival = survival

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Churn probability per row; with params={"contributions": True} also per-feature
        log-odds contributions as ``contribution__<feature>`` columns; with
        params={"survival": True} (and a survival model) S(t) as ``survival_<t>m`` columns,
        t = 1..months, anchored so that 1 - S(horizon) is the churn probability, and the
        month-by-month churn probability S(t - 1) - S(t) as ``churn_month_<t>`` columns."""
        probability = self.model.predict_churn(model_input)
        frame = pd.DataFrame({PROBABILITY_COLUMN: probability}, index=model_input.index)
        if params and params.get("contributions"):
            contributions = self.model.contributions(model_input).add_prefix(CONTRIBUTION_PREFIX)
            frame = frame.join(contributions)
        if params and params.get("survival") and self.survival is not None:
            curve = anchor_to_horizon(
                self.survival.survival(model_input),
                probability,
                horizon_months(self.card.horizon_days),
            )
            months = range(1, curve.shape[1] + 1)
            frame = frame.join(
                pd.DataFrame(
                    np.hstack([curve, monthly_churn(curve)]),
                    columns=[
                        *(survival_column(t) for t in months),
                        *(monthly_churn_column(t) for t in months),
                    ],
                    index=model_input.index,
                )
            )
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

"""The MLflow model: one artifact that scores raw feature rows end to end.

It wraps a fitted ChurnModel (encoder + booster + calibrator) with what serving needs to
interpret a probability: the churn horizon and the training population's churn rate.
`mlflow.pyfunc.load_model(uri).predict(rows)` gives probabilities (and contributions on
request); serving unwraps the same object and calls ChurnModel directly for speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mlflow.pyfunc
import pandas as pd

from zerochurn.training.model import ChurnModel

PROBABILITY_COLUMN = "churn_probability"
CONTRIBUTION_PREFIX = "contribution__"


@dataclass(frozen=True)
class ModelCard:
    """Facts about the population a model was trained on, needed to read its scores."""

    horizon_days: int
    reference_churn_rate: float
    churn_definition: str
    trained_at: str
    train_as_of: tuple[str, ...]
    test_as_of: tuple[str, ...]


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

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
from zerochurn.training.outputs import CONTRIBUTION_PREFIX, PROBABILITY_COLUMN


@dataclass(frozen=True)
class ModelCard:
    """Facts about the population a model was trained on, needed to read its scores.

    data_kind says what it reads: "contract" feature rows built from the raw tables
    (churn_definition and inactivity_days say who counts as a customer), or "table" rows
    of a flat customer table whose ids are in id_column (target_column is ignored when
    scoring; margin_column holds the monthly margin behind customer_value). train_as_of and test_as_of are empty for a table, which has no time axis.
    With costs configured at training (costs: the CostConfig as a dict), a customer is
    worth contacting when churn_probability >= decision_threshold (inf: contact nobody).
    """

    horizon_days: int
    reference_churn_rate: float
    churn_definition: str
    trained_at: str
    train_as_of: tuple[str, ...]
    test_as_of: tuple[str, ...]
    inactivity_days: int | None = None
    data_kind: str = "contract"
    id_column: str = "customer_id"
    target_column: str | None = None
    margin_column: str = "monthly_margin"
    decision_threshold: float | None = None
    costs: dict[str, Any] | None = None


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

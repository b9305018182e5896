"""ModelCard: the facts about a model's training population that reading its scores needs.

It travels inside the logged model (model/pyfunc.py) and is logged beside it as
model_card.json (`to_json`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from zerochurn.configs.settings import CostConfig

ChurnDefinition = Literal["cancellation", "inactivity"]
"""configs ChurnConfig.definition: who counts as churned."""
DataKind = Literal["contract", "table"]
"""contract: feature rows built from the raw tables of docs/data-contract.md; table: rows
of one flat customer table."""


@dataclass(frozen=True)
class ModelCard:
    """Facts about the population a model was trained on, needed to read its scores.

    data_kind says what it reads: "contract" feature rows built from the raw tables
    (churn_definition and inactivity_days say who counts as a customer), or "table" rows
    of a flat customer table whose ids are in id_column (target_column is ignored when
    scoring; margin_column holds the monthly margin behind customer_value).
    train_as_of and test_as_of are empty for a table, which has no time axis.
    With costs configured at training (costs: the training's CostConfig), a customer is
    worth contacting when churn_probability >= decision_threshold (inf: contact nobody).
    """

    horizon_days: int
    reference_churn_rate: float
    churn_definition: ChurnDefinition
    trained_at: str
    train_as_of: tuple[str, ...]
    test_as_of: tuple[str, ...]
    inactivity_days: int | None = None
    data_kind: DataKind = "contract"
    id_column: str = "customer_id"
    target_column: str | None = None
    margin_column: str = "monthly_margin"
    decision_threshold: float | None = None
    costs: CostConfig | None = None

    def to_json(self) -> dict[str, Any]:
        """The card as JSON-ready data: model_card.json, /model_info (costs as configured)."""
        card = asdict(self)
        card["costs"] = None if self.costs is None else self.costs.model_dump(mode="json")
        return card

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelCard:
        """The card `to_json` wrote (model_card.json): lists back to tuples, costs typed."""
        costs = data.get("costs")
        return cls(
            **data
            | {
                "train_as_of": tuple(data["train_as_of"]),
                "test_as_of": tuple(data["test_as_of"]),
                "costs": None if costs is None else CostConfig(**costs),
            }
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, reading a card logged before costs were typed (costs as a dict)."""
        costs = state.get("costs")
        if isinstance(costs, dict):
            state = {**state, "costs": CostConfig(**costs)}
        self.__dict__.update(state)

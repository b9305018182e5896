"""Request and response bodies of the scoring service, as pydantic models.

Requests forbid unknown fields, take JSON types as they are (strict: no "3" for a number,
no true for a number), and carry their limits (ServingConfig.max_batch, the configured
tiers, the plausible range of every feature in the catalog, SQLite's integers), so a bad
request gets a 400 naming the field. They depend on the settings and are built by
`request_models`; responses are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

from zerochurn.configs.settings import Settings
from zerochurn.features.catalog import Feature, feature_catalog
from zerochurn.model.value import LOW_TIER
from zerochurn.serving.scoring import PROFILE_COLUMNS
from zerochurn.serving.store import SQLITE_MAX_INTEGER, AtRiskSort

CustomerId = Annotated[str, Field(min_length=1, description="The customer's id.")]
TableValue = str | bool | Annotated[float, Field(allow_inf_nan=False)] | None
"""A cell of a posted table row: text, a finite number, true/false or null."""


def _whole_number(value: object) -> object:
    """A float without a fraction as the int it is: JSON Schema's integer includes 563.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _integer(**bounds: int) -> type:
    """An integer as JSON Schema has it (563 or 563.0, never 563.5, "563" or true), in bounds."""
    return Annotated[int, Field(**bounds), BeforeValidator(_whole_number)]


SqlInteger = _integer(ge=0, le=SQLITE_MAX_INTEGER)
"""A count compared in SQL: SQLite's integers end at 2**63 - 1."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Reason(BaseModel):
    """A driver pushing this customer's churn risk up (serving/reasons.py)."""

    driver: str = Field(
        description="What the reason is about: complaints, satisfaction, buying, region, "
        "segment, ... (features/drivers.py); a flat table's column is a driver of its own."
    )
    feature: str = Field(
        description="The driver's feature pushing the risk up most, see features/catalog.py."
    )
    text: str = Field(description="The reason in plain words, with the customer's values.")
    value: float | str | None = Field(description="The customer's value of that feature.")
    contribution: float = Field(
        description="Push of the driver's features together on the churn log-odds (their "
        "TreeSHAP contributions added up), > 0."
    )


class CustomerScore(BaseModel):
    """One customer's score (serving/scoring.py has the definitions)."""

    customer_id: str
    region: str | None = None
    segment: str | None = None
    plan: str | None = None
    churn_probability: float = Field(description="Calibrated probability of churn in the horizon.")
    churn_index: int = Field(description="100 x probability / reference churn rate; 100 = average.")
    risk_tier: str = Field(description="Tier from ServingConfig.tier_cutoffs, 'low' below all.")
    customer_value: float | None = Field(description="Value at the customer's own risk (money).")
    value_at_risk: float | None = Field(description="churn_probability x customer_value (money).")
    survival_3m: float | None = Field(
        None, description="Probability of still being a customer 3 months on."
    )
    survival_6m: float | None = Field(
        None, description="Probability of still being a customer 6 months on."
    )
    survival_12m: float | None = Field(
        None, description="Probability of still being a customer 12 months on."
    )
    expected_lifetime_months: float | None = Field(
        None, description="Months the customer is expected to stay (restricted mean)."
    )
    clv: float | None = Field(
        None, description="Risk-adjusted value: margin x survival, discounted (money)."
    )
    clv_at_risk: float | None = Field(
        None, description="What keeping the customer through the horizon is worth (money)."
    )
    contact: bool | None = Field(
        None, description="Worth a retention offer: probability >= the cost-based threshold."
    )
    expected_savings: float | None = Field(
        None, description="Expected money saved by contacting this customer (with costs)."
    )
    uplift: float | None = Field(
        None,
        description="Expected drop in churn probability from the retention action (batch "
        "scores of a validated uplift model only).",
    )
    expected_saved_value: float | None = Field(
        None, description="uplift x the customer's value (money), the at-risk list's order."
    )
    top_reasons: list[Reason]
    model_version: str
    scored_at: str


class ScoreResponse(BaseModel):
    """Scores of the posted records, in request order."""

    scores: list[CustomerScore]


class CustomerError(BaseModel):
    """Why one requested customer could not be scored."""

    customer_id: str
    error: str


class ScoreCustomersResponse(BaseModel):
    """Scores of the known ids (request order) and an error for each unknown one."""

    as_of: str | None = Field(description="As-of date of the feature snapshot used.")
    scores: list[CustomerScore]
    errors: list[CustomerError]


class AtRiskResponse(BaseModel):
    """A page of the latest batch scores, most at risk first."""

    as_of: str
    model_version: str = Field(description="Model version that scored the batch.")
    total: int = Field(description="Customers matching the filters.")
    value_at_risk: float = Field(
        description="Sum of value at risk of every customer matching the filters (money)."
    )
    offset: int
    limit: int
    customers: list[CustomerScore]


class SegmentIndex(BaseModel):
    """Churn index of one group of customers."""

    group: str
    customers: int
    mean_churn_probability: float
    churn_index: int = Field(description="Index of the group's mean churn probability.")
    value_weighted_churn_index: int | None = Field(
        description="Index of the mean weighted by customer value (negative values weigh 0)."
    )
    customer_value: float = Field(description="Sum of customer value (money).")
    value_at_risk: float = Field(description="Sum of value at risk (money).")


class ChurnIndexResponse(BaseModel):
    """Segment churn index of the latest batch scores."""

    by: str
    as_of: str
    model_version: str
    reference_churn_rate: float
    segments: list[SegmentIndex]


class ModelInfo(BaseModel):
    """The champion the service scores with."""

    version: str
    alias: str
    source: str = Field(description="mlflow, or bentoml:<tag> when loaded from the model store.")
    loaded_at: str
    model_family: str = Field("lightgbm", description="lightgbm, logistic or blend.")
    trained_at: str
    horizon_days: int
    reference_churn_rate: float
    churn_definition: str
    train_as_of: list[str]
    test_as_of: list[str]
    data_kind: str = Field("contract", description="contract (raw tables) or table (flat).")
    id_column: str = Field("customer_id", description="Id column of posted table rows.")
    decision_threshold: float | None = Field(
        None, description="Contact customers at or above this probability (with costs)."
    )
    metrics: dict[str, float] = Field(description="Out-of-time test metrics of the run.")


class ReloadResponse(BaseModel):
    """Outcome of a reload: the version before and after."""

    previous_version: str
    version: str
    changed: bool
    model: ModelInfo
    workers: int = Field(description="Worker processes of the service.")
    workers_serving: int = Field(
        description="Workers serving `version` when the answer was sent: all of them, unless "
        "some did not follow within serving.reload_timeout_seconds (they keep trying)."
    )


class EmptyRequest(_Strict):
    """A request without parameters: send {}."""


@dataclass(frozen=True)
class RequestModels:
    """The request bodies under one configuration."""

    score: type[BaseModel]
    score_rows: type[BaseModel]
    score_customers: type[BaseModel]
    at_risk: type[BaseModel]
    churn_index: type[BaseModel]


def _in_range(spec: Feature) -> type:
    """A number within the feature's plausible range; out_of_range names the range."""
    low, high = spec.valid or (float("-inf"), float("inf"))

    def check(value: float) -> float:
        if not low <= value <= high:  # NaN and infinities included
            raise PydanticCustomError(
                "out_of_range",
                "must lie in [{low}, {high}]",
                {"low": f"{low:g}", "high": f"{high:g}"},
            )
        return value

    return Annotated[
        float,
        AfterValidator(check),
        WithJsonSchema({"type": "number", "minimum": low, "maximum": high}),
    ]


def _record_model(settings: Settings) -> type[BaseModel]:
    """CustomerRecord: customer_id and every catalog feature, all optional but the id.

    A number outside its feature's range in the catalog (a tenure of -1e6 days) is refused.
    """
    fields: dict[str, object] = {"customer_id": (CustomerId, ...)}
    for name, spec in feature_catalog(settings.features).items():
        unit = f" [{spec.unit}]" if spec.unit else ""
        if spec.kind == "numeric":
            fields[name] = (
                _in_range(spec) | None,
                Field(None, description=spec.description + unit),
            )
        else:
            fields[name] = (str | None, Field(None, description=spec.description))
    return create_model(
        "CustomerRecord",
        __base__=_Strict,
        __doc__="One customer's feature values; a missing feature is scored as unknown.",
        **fields,
    )


def request_models(settings: Settings) -> RequestModels:
    """Request bodies with the configured batch limit, tiers and feature catalog."""
    config = settings.serving
    record = _record_model(settings)
    tiers = (LOW_TIER, *config.tier_cutoffs)
    batch = {"min_length": 1, "max_length": config.max_batch}
    score = create_model(
        "ScoreRequest",
        __base__=_Strict,
        __doc__="Feature records of one or more customers.",
        records=(list[record], Field(**batch)),
    )
    score_rows = create_model(
        "ScoreRowsRequest",
        __base__=_Strict,
        __doc__="Rows shaped like the flat customer table the champion was trained on: its id "
        "column and any of its columns (others, such as the churn label, are ignored).",
        rows=(list[dict[str, TableValue]], Field(**batch)),
    )
    score_customers = create_model(
        "ScoreCustomersRequest",
        __base__=_Strict,
        __doc__="Ids to look up in the latest feature snapshot.",
        customer_ids=(list[CustomerId], Field(**batch)),
    )
    at_risk = create_model(
        "AtRiskRequest",
        __base__=_Strict,
        __doc__="Filters, order and page of the at-risk list (latest batch scores).",
        region=(str | None, None),
        segment=(str | None, None),
        plan=(str | None, None),
        tier=(Literal[tiers] | None, None),
        min_value=(
            float | None,
            Field(None, allow_inf_nan=False, description="Least customer_value (money)."),
        ),
        min_churn_index=(SqlInteger | None, None),
        id_prefix=(
            str | None,
            Field(None, min_length=1, description="Ids starting with this, in any case."),
        ),
        sort=(
            AtRiskSort | None,
            Field(
                None,
                description="Largest first; null: expected_saved_value when a validated uplift "
                "model scored the batch, else value_at_risk.",
            ),
        ),
        limit=(_integer(gt=0, le=config.max_batch), config.at_risk_limit),
        offset=(SqlInteger, 0),
    )
    churn_index = create_model(
        "ChurnIndexRequest",
        __base__=_Strict,
        __doc__="How to group customers.",
        by=(Literal[PROFILE_COLUMNS], "segment"),
    )
    return RequestModels(score, score_rows, score_customers, at_risk, churn_index)

"""The service's view of retention campaigns: the recorded campaigns and a treatment list.

Read-only: campaigns are created and measured with `zerochurn campaign ...`
(zerochurn/campaigns); the CRM reads here whom to call. Request and response bodies live
here rather than in schemas.py because they depend on nothing configured.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from zerochurn.campaigns.assign import TREATMENT
from zerochurn.campaigns.store import NAME_PATTERN, Campaign, CampaignStore


class CampaignRequest(BaseModel):
    """Which campaign's treatment list to return."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=f"^{NAME_PATTERN.pattern}$", description="The campaign's name.")


class CampaignSummary(BaseModel):
    """A recorded campaign (zerochurn/campaigns/store.py, Campaign)."""

    name: str
    created_at: str
    as_of: str = Field(description="The campaign date: as-of date of the scores it drew on.")
    model_version: str
    horizon_days: int = Field(description="Outcome window after the campaign date (days).")
    window_end: str = Field(description="Last day of the outcome window.")
    holdout: float
    treatment: int = Field(description="Customers to act on.")
    control: int = Field(description="Customers held out, who get no action.")
    outcomes_through: str | None = Field(
        description="Last day the recorded outcomes cover; null before any are recorded."
    )


class TreatmentCustomer(BaseModel):
    """A customer of the treatment group, with the scores of the campaign date."""

    customer_id: str
    region: str | None = None
    segment: str | None = None
    risk_tier: str
    churn_probability: float
    churn_index: int
    customer_value: float | None
    value_at_risk: float | None
    reasons: str | None = Field(None, description="Why the customer is at risk, in words.")


class CampaignResponse(BaseModel):
    """A campaign and its treatment group, in the order of the at-risk list."""

    campaign: CampaignSummary
    customers: list[TreatmentCustomer]


class CampaignsResponse(BaseModel):
    """Every recorded campaign, oldest first."""

    campaigns: list[CampaignSummary]


def summary(campaign: Campaign) -> CampaignSummary:
    """The response form of a recorded campaign."""
    return CampaignSummary(
        name=campaign.name,
        created_at=campaign.created_at,
        as_of=campaign.as_of,
        model_version=campaign.model_version,
        horizon_days=campaign.horizon_days,
        window_end=campaign.window_end.isoformat(),
        holdout=campaign.holdout,
        treatment=campaign.treatment,
        control=campaign.control,
        outcomes_through=None if campaign.outcomes is None else campaign.outcomes.observed_through,
    )


def _items(frame: pd.DataFrame, fields: Mapping[str, object]) -> list[dict[str, object]]:
    """Rows of the model's fields present in `frame`, as dicts with None for missing values."""
    columns = [name for name in fields if name in frame]
    values = frame[columns].to_numpy(dtype=object)
    values = np.where(pd.isna(values), None, values)
    return [dict(zip(columns, row, strict=True)) for row in values.tolist()]


def campaigns(store: CampaignStore) -> CampaignsResponse:
    """Every recorded campaign."""
    return CampaignsResponse(campaigns=[summary(c) for c in store.campaigns()])


def treatment_list(store: CampaignStore, name: str) -> CampaignResponse:
    """Campaign `name` and its treatment group; CampaignError when there is no such campaign."""
    campaign = store.get(name)
    members = store.members(campaign)
    treated = members[members["group"] == TREATMENT]
    items = _items(treated, TreatmentCustomer.model_fields)
    return CampaignResponse(
        campaign=summary(campaign),
        customers=[TreatmentCustomer.model_validate(item) for item in items],
    )

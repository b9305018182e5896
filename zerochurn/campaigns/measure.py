"""Did the action work? Churn of the treatment against the control group, in customers and money.

Every figure compares the groups as they were assigned (intent to treat), whoever was
actually reached, so randomisation keeps it honest. n_T, n_C are the groups' sizes, y a
member's churn in the outcome window (1 = churned) and v their value in money:

- churn rates r_T, r_C: mean y of each group;
- effect = r_C - r_T, the drop in churn the action brought (> 0: it helped), with a normal
  interval from the unpooled variance, se = sqrt(s_T^2 / n_T + s_C^2 / n_C) (sample
  variances): each member is a control with the same probability (assign.py), so the
  plain difference is unbiased;
- customers saved = effect x n_T: treatment customers who stayed because of the action;
- value saved = (mean of v y over C - mean of v y over T) x n_T: what the treatment group
  would have lost at the control group's loss per customer, less what it lost; its
  interval likewise (unknown values count as 0);
- offer cost = offer_cost x offers, the contacted treatment customers when the outcomes
  say who was contacted, else all of n_T;
- net value = value saved - offer cost (the interval of value saved, shifted).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from zerochurn.campaigns.assign import CONTROL, TREATMENT
from zerochurn.campaigns.store import Campaign
from zerochurn.configs.settings import CampaignConfig

TIER_COLUMNS = (
    "risk_tier",
    "treatment_customers",
    "control_customers",
    "treatment_churn_rate",
    "control_churn_rate",
    "churn_rate_drop",
)
"""Columns of the per-tier table, riskiest tier first."""


@dataclass(frozen=True)
class Interval:
    """An estimate and its confidence interval [low, high]."""

    estimate: float
    low: float
    high: float

    def shifted(self, by: float) -> Interval:
        """The interval of estimate + by (a known amount)."""
        return Interval(self.estimate + by, self.low + by, self.high + by)

    def scaled(self, by: float) -> Interval:
        """The interval of estimate x by, for by >= 0."""
        return Interval(self.estimate * by, self.low * by, self.high * by)


@dataclass(frozen=True)
class Measurement:
    """The measured result of a campaign (money in the currency of the value column)."""

    campaign: str
    as_of: str
    window_end: str
    model_version: str
    confidence: float
    treatment_customers: int
    control_customers: int
    treatment_churn_rate: float
    control_churn_rate: float
    churn_rate_drop: Interval
    customers_saved: Interval
    value_saved: Interval
    offers: int
    offer_cost: float
    net_value: Interval
    contact_rate: float | None
    controls_contacted: int | None
    value_column: str
    unknown_values: int
    by_tier: pd.DataFrame


def difference_interval(control: np.ndarray, treatment: np.ndarray, confidence: float) -> Interval:
    """mean(control) - mean(treatment) with its normal interval (unpooled variances).

    Each array needs at least two values.
    """
    if min(len(control), len(treatment)) < 2:
        raise ValueError("each group needs at least 2 members for an interval")
    estimate = float(control.mean() - treatment.mean())
    se = math.sqrt(control.var(ddof=1) / len(control) + treatment.var(ddof=1) / len(treatment))
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    return Interval(estimate, estimate - z * se, estimate + z * se)


def not_measurable_reason(
    campaign: Campaign, outcomes: pd.DataFrame | None, config: CampaignConfig
) -> str | None:
    """Why campaign cannot be measured yet (a sentence), or None when it can.

    outcomes: the latest recording (store.OUTCOME_COLUMNS) or None.
    """
    if campaign.outcomes is None or outcomes is None:
        return (
            f"no outcomes recorded yet: once data through {campaign.window_end} is loaded, "
            f"run `zerochurn campaign record {campaign.name}`"
        )
    through = dt.date.fromisoformat(campaign.outcomes.observed_through)
    if through < campaign.window_end:
        return (
            f"the outcome window ends on {campaign.window_end}; the recorded outcomes cover "
            f"only the days through {through}"
        )
    unknown = int(outcomes["churned"].isna().sum())
    if unknown:
        return f"whether they churned is unknown for {unknown} member(s)"
    smallest = min(campaign.treatment, campaign.control)
    if smallest < config.min_group_customers:
        return (
            f"{campaign.treatment} treatment and {campaign.control} control customers: each "
            f"group needs at least {config.min_group_customers} "
            "(campaigns.min_group_customers) for an interval worth acting on"
        )
    return None


def _by_tier(frame: pd.DataFrame) -> pd.DataFrame:
    """Per risk tier: group sizes, churn rates and their difference, riskiest tier first."""
    rows = []
    order = frame.groupby("risk_tier")["churn_probability"].mean().sort_values(ascending=False)
    for tier in order.index:
        part = frame[frame["risk_tier"] == tier]
        churn = {g: part.loc[part["group"] == g, "churned"] for g in (TREATMENT, CONTROL)}
        rates = {g: float(c.mean()) if len(c) else math.nan for g, c in churn.items()}
        rows.append(
            (
                str(tier),
                len(churn[TREATMENT]),
                len(churn[CONTROL]),
                rates[TREATMENT],
                rates[CONTROL],
                rates[CONTROL] - rates[TREATMENT],
            )
        )
    return pd.DataFrame(rows, columns=list(TIER_COLUMNS))


def measure(
    campaign: Campaign, members: pd.DataFrame, outcomes: pd.DataFrame, config: CampaignConfig
) -> Measurement:
    """Measure a campaign that not_measurable_reason allows.

    members: customer_id, group, risk_tier, churn_probability and campaign.value_column;
    outcomes: store.OUTCOME_COLUMNS for the same customers.
    """
    frame = members.merge(outcomes, on="customer_id", how="left", validate="one_to_one")
    frame = frame.assign(churned=frame["churned"].astype("float64"))
    value = frame[campaign.value_column].astype("float64")
    lost = (frame["churned"] * value.fillna(0)).to_numpy()
    treated = (frame["group"] == TREATMENT).to_numpy()
    churned = frame["churned"].to_numpy()
    n_treatment = int(treated.sum())
    drop = difference_interval(churned[~treated], churned[treated], config.confidence)
    value_saved = difference_interval(lost[~treated], lost[treated], config.confidence).scaled(
        n_treatment
    )
    contacted = frame["contacted"].astype("boolean")
    known = bool(contacted.notna().any())
    offers = int(contacted[treated].fillna(False).sum()) if known else n_treatment
    offer_cost = config.offer_cost * offers
    return Measurement(
        campaign=campaign.name,
        as_of=campaign.as_of,
        window_end=campaign.window_end.isoformat(),
        model_version=campaign.model_version,
        confidence=config.confidence,
        treatment_customers=n_treatment,
        control_customers=int((~treated).sum()),
        treatment_churn_rate=float(churned[treated].mean()),
        control_churn_rate=float(churned[~treated].mean()),
        churn_rate_drop=drop,
        customers_saved=drop.scaled(n_treatment),
        value_saved=value_saved,
        offers=offers,
        offer_cost=offer_cost,
        net_value=value_saved.shifted(-offer_cost),
        contact_rate=float(contacted[treated].fillna(False).mean()) if known else None,
        controls_contacted=int(contacted[~treated].fillna(False).sum()) if known else None,
        value_column=campaign.value_column,
        unknown_values=int(value.isna().sum()),
        by_tier=_by_tier(frame),
    )

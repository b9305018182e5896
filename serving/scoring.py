"""What a customer's score is: one definition for the service, batch scores and reports.

- churn_probability: calibrated probability of churn within the model's horizon.
- churn_index: 100 x churn_probability / the champion's reference churn rate (the churn
  rate of its training population), an integer: 100 is average risk, 200 twice it.
- risk_tier: "low" below the lowest ServingConfig.tier_cutoffs, else the tier of the
  highest cut-off the index reaches.
- customer_value: the value function of features/value_function.py with this customer's
  own monthly retention (from churn_probability over the horizon) and monthly margin.
- value_at_risk: churn_probability x customer_value, in money.
- survival_3m, survival_6m, survival_12m: probability of still being a customer 3, 6
  and 12 months after the as-of date, from the time-to-churn model's curve anchored so
  that 1 - S(horizon) = churn_probability (model/lifetime.py);
- expected_lifetime_months: months the customer is expected to stay, counting the
  current one, up to features.value_function.max_months;
- clv: risk-adjusted customer value, margin x sum_t S(t) / (1 + d)^t, in money;
- clv_at_risk: what keeping the customer through the churn horizon is worth, in money
  (model/lifetime.clv_at_risk); the at-risk list can be sorted by it.
  The survival columns are empty (NaN) for a model without a time-to-churn model.
- top reasons: the drivers pushing this customer's risk up most (log-odds contributions
  of the model's family: TreeSHAP, exact logistic parts, or their blend, added up per
  driver; actionable drivers first), in plain words (serving/reasons.py).

The maths of the value columns is model/value.py's, of contact and expected_savings
model/savings.py's; scoring_path.py scores and logs in one call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zerochurn.configs.settings import ServingConfig, ValueFunctionConfig
from zerochurn.contract.cells import to_numbers
from zerochurn.model.card import ModelCard
from zerochurn.model.lifetime import clv, clv_at_risk, expected_lifetime, horizon_months
from zerochurn.model.outputs import survival_column
from zerochurn.model.savings import scoring_savings
from zerochurn.model.value import churn_index, risk_adjusted_value, risk_tier, value_at_risk
from zerochurn.serving.model import ScoringModel
from zerochurn.serving.reasons import reason_table

PROFILE_COLUMNS = ("region", "segment", "plan")
"""Customer attributes carried into score tables, for filters and segment reports."""
SEGMENT_COLUMNS = (
    "group",
    "customers",
    "mean_churn_probability",
    "churn_index",
    "value_weighted_churn_index",
    "customer_value",
    "value_at_risk",
)
"""Columns of a segment churn index table, in order."""


def decision_columns(
    features: pd.DataFrame, probability: np.ndarray, card: ModelCard
) -> dict[str, np.ndarray]:
    """contact and expected_savings, for a model trained with costs (else no columns).

    contact: churn_probability >= the card's decision threshold (training picks it with
    model/savings.py) unless the customer's expected savings are <= 0; expected_savings:
    s x p x m - c in money under the training's costs, NaN where a cost column of the
    features is unknown.
    """
    if card.decision_threshold is None or card.costs is None:
        return {}
    savings = scoring_savings(probability, features, card.costs)
    # A customer whose own costs say the offer loses money is not contacted, whatever
    # the threshold (set on all customers) says; unknown savings leave the threshold alone.
    contact = (probability >= card.decision_threshold) & ~(savings <= 0)
    return {"contact": contact, "expected_savings": savings}


SURVIVAL_MONTHS = (3, 6, 12)
"""Months of the survival_<t>m columns of every score."""
SURVIVAL_COLUMNS = (
    *(survival_column(t) for t in SURVIVAL_MONTHS),
    "expected_lifetime_months",
    "clv",
    "clv_at_risk",
)
"""Score columns read from the survival curve, in order."""


def survival_columns(
    curve: np.ndarray | None,
    margin: np.ndarray,
    *,
    horizon_days: float,
    value_function: ValueFunctionConfig,
) -> dict[str, np.ndarray]:
    """SURVIVAL_COLUMNS of (n, months) anchored curves and (n,) monthly margins; NaN
    without a curve."""
    if curve is None:
        return {name: np.full(len(margin), np.nan) for name in SURVIVAL_COLUMNS}
    at = {survival_column(t): curve[:, t - 1] for t in SURVIVAL_MONTHS}
    return at | {
        "expected_lifetime_months": expected_lifetime(curve, value_function.max_months),
        "clv": clv(curve, margin, value_function),
        "clv_at_risk": clv_at_risk(
            curve, margin, horizon=horizon_months(horizon_days), config=value_function
        ),
    }


def score_columns(
    features: pd.DataFrame,
    model: ScoringModel,
    config: ServingConfig,
    value_function: ValueFunctionConfig,
    *,
    scored_at: str,
) -> dict[str, np.ndarray]:
    """Score feature rows: the columns of `score_features` as (n,) arrays, without a frame.

    The service formats these directly; building a frame costs more than scoring one row.
    """
    matrix = model.encode(features)
    probability = model.probability(matrix)
    contributions = model.contributions(matrix)
    index = churn_index(probability, model.card.reference_churn_rate)
    margin_column = model.card.margin_column
    margin = (
        to_numbers(features[margin_column], margin_column)
        if margin_column in features
        else np.full(len(features), np.nan)
    )
    value = risk_adjusted_value(
        probability, margin, horizon_days=model.card.horizon_days, config=value_function
    )
    survival = survival_columns(
        model.survival_curve(features, matrix, probability),
        margin,
        horizon_days=model.card.horizon_days,
        value_function=value_function,
    )
    profile = {
        column: features[column].to_numpy(dtype=object)
        for column in PROFILE_COLUMNS
        if column in features
    }
    n = len(features)
    return {
        "customer_id": features["customer_id"].to_numpy(dtype=object),
        **profile,
        "churn_probability": probability,
        "churn_index": index,
        "risk_tier": risk_tier(index, config.tier_cutoffs),
        "customer_value": value,
        "value_at_risk": value_at_risk(probability, value),
        **survival,
        **decision_columns(features, probability, model.card),
        **reason_table(
            features, model.feature_names, model.feature_kinds, contributions, config.top_reasons
        ),
        "model_version": np.full(n, model.version, dtype=object),
        "scored_at": np.full(n, scored_at, dtype=object),
    }


def score_features(
    features: pd.DataFrame,
    model: ScoringModel,
    config: ServingConfig,
    value_function: ValueFunctionConfig,
    *,
    scored_at: str,
) -> pd.DataFrame:
    """Score feature rows: one row per input row, in input order.

    features: customer_id and any of the model's feature columns (missing ones read as
    missing values). Returns customer_id, the profile columns present (region, segment,
    plan), churn_probability, churn_index, risk_tier, customer_value, value_at_risk,
    SURVIVAL_COLUMNS, contact and expected_savings (only for a model trained with costs),
    reason_{i}_feature / _driver / _text / _contribution for i = 1..config.top_reasons,
    reasons (the texts joined), model_version and scored_at.
    """
    columns = score_columns(features, model, config, value_function, scored_at=scored_at)
    return pd.DataFrame(columns)


SEGMENT_SUMS = ("customers", "probability", "weight", "weighted", "customer_value", "value_at_risk")
"""Columns of `segment_sums`: per group, sums that add up over disjoint sets of customers."""


def segment_sums(scores: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group of `by`, the sums behind its churn index; indexed by group, sorted.

    scores: customer_id, `by`, churn_probability, customer_value, value_at_risk (a score
    table). customers: rows; probability: sum of churn_probability; weight: sum of
    customer value as a weight (negative or unknown value weighs 0); weighted: sum of
    weight x churn_probability; customer_value, value_at_risk: sums (money). Tables of
    parts of the customers add up to the table of all (Spark's batches do).
    """
    weight = scores["customer_value"].clip(lower=0).fillna(0)
    grouped = scores.assign(_weight=weight, _weighted=weight * scores["churn_probability"]).groupby(
        by, sort=True
    )
    return grouped.agg(
        customers=("customer_id", "size"),
        probability=("churn_probability", "sum"),
        weight=("_weight", "sum"),
        weighted=("_weighted", "sum"),
        customer_value=("customer_value", "sum"),
        value_at_risk=("value_at_risk", "sum"),
    ).rename_axis("group")


def segment_index(sums: pd.DataFrame, reference_churn_rate: float) -> pd.DataFrame:
    """The segment churn index table (SEGMENT_COLUMNS) of `segment_sums`' table.

    Per group, sorted by group: customers, mean_churn_probability, churn_index (of that
    mean), value_weighted_churn_index (of the mean weighted by customer value; <NA> when
    no customer has a positive value), customer_value and value_at_risk (sums, money).
    """
    has_value = (sums["weight"] > 0).to_numpy()
    weighted_probability = sums["weighted"].to_numpy() / np.where(has_value, sums["weight"], 1)
    weighted_index = pd.array(churn_index(weighted_probability, reference_churn_rate), "Int64")
    weighted_index[~has_value] = pd.NA
    mean = sums["probability"] / sums["customers"]
    return (
        sums.assign(
            mean_churn_probability=mean,
            churn_index=churn_index(mean, reference_churn_rate),
            value_weighted_churn_index=weighted_index,
        )
        .sort_index()
        .reset_index()
        .loc[:, list(SEGMENT_COLUMNS)]
    )


def segment_churn_index(scores: pd.DataFrame, by: str, reference_churn_rate: float) -> pd.DataFrame:
    """Churn index of each group of customers, plain and weighted by customer value.

    scores: a score table (see `segment_sums`). Returns `segment_index`'s table.
    """
    return segment_index(segment_sums(scores, by), reference_churn_rate)

"""Fitting and judging an uplift model on campaign members: pure steps, no MLflow.

The members are split at random, within each campaign and group, into a training part and
a held-out part (uplift.validation_fraction). The model is fitted on the first and judged
on the second:

- Qini (normalised) and uplift at k on the realised outcomes of the held-out members
  (model/uplift_metrics.py), with the same figures for ranking by churn probability,
  today's targeting, for comparison;
- a permutation test: the share of random rankings of the same held-out members whose Qini
  reaches the model's (uplift.permutations of them, p = (1 + hits) / (1 + permutations));
- with the generator's true effects (a synthetic world), the Qini and uplift at k scored
  by the true effects, for the model and for the churn-probability ranking.

Validated means: held-out Qini >= uplift.min_qini and p <= uplift.max_p_value. Only a
validated model may rank the at-risk list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zerochurn.campaigns.learning import CampaignRows
from zerochurn.configs.settings import UpliftConfig
from zerochurn.features.catalog import feature_roles
from zerochurn.model.uplift import UpliftModel
from zerochurn.model.uplift_metrics import qini, true_qini, true_uplift_at_k, uplift_at_k


@dataclass(frozen=True)
class UpliftEvaluation:
    """How the model ranks held-out campaign members, and whether it is validated.

    risk_*: the same figure for ranking by churn probability; true_*: scored by the
    generator's true effects (None without them); mean_true_effect: of the held-out members.
    """

    customers: int
    qini: float
    qini_p_value: float
    uplift_at_k: float
    risk_qini: float
    risk_uplift_at_k: float
    true_qini: float | None
    true_uplift_at_k: float | None
    risk_true_qini: float | None
    risk_true_uplift_at_k: float | None
    mean_true_effect: float | None
    validated: bool
    verdict: str

    def metrics(self) -> dict[str, float]:
        """The numbers, for MLflow (None figures left out)."""
        values = {k: v for k, v in vars(self).items() if k not in ("validated", "verdict")}
        return {k: float(v) for k, v in values.items() if v is not None} | {
            "validated": float(self.validated)
        }


def held_out_mask(rows: CampaignRows, fraction: float, seed: int) -> np.ndarray:
    """(n,) True for the held-out members: `fraction` of each campaign's groups, at random."""
    rng = np.random.default_rng(seed)
    held = np.zeros(len(rows), dtype=bool)
    strata = pd.Series(list(zip(rows.campaign, rows.treated, strict=True)))
    for _, index in strata.groupby(strata).groups.items():
        chosen = rng.permutation(np.asarray(index))
        held[chosen[: int(round(fraction * len(chosen)))]] = True
    return held


def fit_uplift(rows: CampaignRows, train: np.ndarray, config: UpliftConfig) -> UpliftModel:
    """Fit the uplift model on the members `train` selects, on the features they share."""
    numeric, categorical = feature_roles(rows.features)
    booster = config.lightgbm
    model = UpliftModel(
        numeric=numeric,
        categorical=categorical,
        params=booster.model_dump(exclude={"num_boost_round", "early_stopping_rounds"}),
        num_boost_round=booster.num_boost_round,
        early_stopping_rounds=booster.early_stopping_rounds,
        early_stopping_fraction=config.early_stopping_fraction,
        random_state=config.random_state,
    )
    return model.fit(
        rows.features[train],
        rows.churn_probability[train],
        rows.treated[train],
        rows.churned[train],
    )


def permutation_p_value(
    retained: np.ndarray, score: np.ndarray, treated: np.ndarray, permutations: int, seed: int
) -> float:
    """Chance that a random ranking of the same members reaches the Qini of `score`."""
    observed = qini(retained, score, treated)
    rng = np.random.default_rng(seed)
    hits = sum(
        qini(retained, rng.permutation(score), treated) >= observed for _ in range(permutations)
    )
    return (1 + hits) / (1 + permutations)


def true_effects(rows: CampaignRows, truth: pd.DataFrame | None) -> np.ndarray | None:
    """(n,) each member's true effect from `truth` (campaign, customer_id, true_effect), or
    None when truth is None or lacks any member."""
    if truth is None:
        return None
    keyed = truth.set_index(["campaign", "customer_id"])["true_effect"]
    keys = pd.MultiIndex.from_arrays([rows.campaign, rows.customer_id])
    effect = keyed.reindex(keys).to_numpy(dtype=np.float64)
    return None if np.isnan(effect).any() else effect


@dataclass(frozen=True)
class HeldOut:
    """The held-out members as the evaluation reads them, each an (m,) array.

    predicted: the model's uplift; risk: the churn model's probability (today's ranking);
    retained: 1 - churned; treated: 1 for the treatment group; true_effect: the generator's
    true effects, or None.
    """

    predicted: np.ndarray
    risk: np.ndarray
    retained: np.ndarray
    treated: np.ndarray
    true_effect: np.ndarray | None


def held_out(
    model: UpliftModel, rows: CampaignRows, held: np.ndarray, truth: pd.DataFrame | None = None
) -> HeldOut:
    """The held-out members of `rows` (mask `held`) scored by `model`."""
    effect = true_effects(rows, truth)
    return HeldOut(
        predicted=model.predict(rows.features[held], rows.churn_probability[held]),
        risk=rows.churn_probability[held],
        retained=1 - rows.churned[held],
        treated=rows.treated[held].astype(np.int64),
        true_effect=None if effect is None else effect[held],
    )


def evaluate_uplift(data: HeldOut, config: UpliftConfig) -> UpliftEvaluation:
    """Judge the model's ranking of the held-out members (see the module docstring)."""
    k = config.top_share
    score = qini(data.retained, data.predicted, data.treated)
    p_value = permutation_p_value(
        data.retained, data.predicted, data.treated, config.permutations, config.random_state
    )
    effect = data.true_effect
    validated = bool(score >= config.min_qini and p_value <= config.max_p_value)
    verdict = (
        f"held-out Qini {score:.4f} (at least {config.min_qini} wanted), a random ranking "
        f"does as well with p = {p_value:.3f} (at most {config.max_p_value} wanted): "
        + ("validated" if validated else "not validated")
    )
    return UpliftEvaluation(
        customers=len(data.predicted),
        qini=score,
        qini_p_value=p_value,
        uplift_at_k=uplift_at_k(data.retained, data.predicted, data.treated, k),
        risk_qini=qini(data.retained, data.risk, data.treated),
        risk_uplift_at_k=uplift_at_k(data.retained, data.risk, data.treated, k),
        true_qini=None if effect is None else true_qini(effect, data.predicted),
        true_uplift_at_k=None if effect is None else true_uplift_at_k(effect, data.predicted, k),
        risk_true_qini=None if effect is None else true_qini(effect, data.risk),
        risk_true_uplift_at_k=None if effect is None else true_uplift_at_k(effect, data.risk, k),
        mean_true_effect=None if effect is None else float(effect.mean()),
        validated=validated,
        verdict=verdict,
    )

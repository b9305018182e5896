"""UpliftModel: who the retention action helps, as a drop in churn probability per customer.

Two models on the churn model's log-odds l = logit(p), p the churn probability the churn
model gave the customer on the campaign date:

- control: sigma(l + a), the churn model recalibrated to the control group by one
  intercept a (maximum likelihood): what happens without the action;
- treatment: sigma(l + a + f(x)), f boosted trees (LightGBM, started from l + a) fitted on
  the treatment group with early stopping on held-out treatment customers: what happens
  with it;
- uplift(x, p) = sigma(l + a) - sigma(l + a + f(x)), > 0 where the action lowers churn.

Starting both from the churn model's log-odds leaves the trees only the effect to learn,
which a campaign of a few thousand customers can support; two models fitted from scratch
on each group (the plain two-model learner) must each relearn churn risk and difference
two noisy estimates (benchmarks/bench_uplift.py measures both).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from zerochurn.model.encoding import FeatureEncoder

PROBABILITY_CLIP = 1e-6
"""Churn probabilities are clipped to [clip, 1 - clip] before their log-odds are taken."""
INTERCEPT_STEPS = 50
"""Newton steps at most for the control group's intercept (it converges in a handful)."""
INTERCEPT_TOLERANCE = 1e-10
UPLIFT_COLUMN = "uplift"
SAVED_VALUE_COLUMN = "expected_saved_value"
"""Score columns a validated uplift model adds: the uplift and uplift x the customer's value."""


def log_odds(probability: np.ndarray) -> np.ndarray:
    """(n,) log-odds of churn probabilities, clipped away from 0 and 1."""
    clipped = np.clip(
        np.asarray(probability, dtype=np.float64), PROBABILITY_CLIP, 1 - PROBABILITY_CLIP
    )
    return logit(clipped)


def fit_intercept(offset: np.ndarray, y: np.ndarray) -> float:
    """The a maximising the log-likelihood of y ~ Bernoulli(sigma(offset + a)) (Newton's method).

    offset: (n,) log-odds; y: (n,) 0/1. With y all 0 or all 1 the optimum is infinite and
    ValueError says so.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.min() == y.max():
        raise ValueError("the control group's outcomes are all equal: its intercept is infinite")
    a = 0.0
    for _ in range(INTERCEPT_STEPS):
        p = expit(offset + a)
        step = (y - p).sum() / (p * (1 - p)).sum()
        a += step
        if abs(step) < INTERCEPT_TOLERANCE:
            break
    return float(a)


class UpliftModel(BaseEstimator):
    """Expected drop in churn probability from the retention action, per customer.

    Parameters
    ----------
    numeric, categorical : sequence of str
        Feature columns (the churn model's); categoricals use LightGBM's native splits.
    params : mapping
        LightGBM booster parameters of the treatment model (objective and seed set here).
    num_boost_round, early_stopping_rounds : int
        Most rounds, and rounds without improvement of the held-out log loss before stopping.
    early_stopping_fraction : float
        Share of the treatment customers held out for early stopping.
    random_state : int
        Seed of that split and of the booster.
    """

    def __init__(
        self,
        numeric: Sequence[str] = (),
        categorical: Sequence[str] = (),
        params: Mapping[str, Any] | None = None,
        num_boost_round: int = 1000,
        early_stopping_rounds: int = 50,
        early_stopping_fraction: float = 0.2,
        random_state: int = 0,
    ) -> None:
        self.numeric = numeric
        self.categorical = categorical
        self.params = params
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.early_stopping_fraction = early_stopping_fraction
        self.random_state = random_state

    def fit(
        self,
        X: pd.DataFrame,
        churn_probability: np.ndarray,
        treated: np.ndarray,
        churned: np.ndarray,
    ) -> UpliftModel:
        """Fit on campaign members.

        X : (n, features) their feature rows on the campaign date
        churn_probability : (n,) the churn model's probability then
        treated : (n,) True for the treatment group; churned : (n,) 0/1 in the outcome window
        """
        treated = np.asarray(treated, dtype=bool)
        churned = np.asarray(churned, dtype=np.int64)
        offset = log_odds(churn_probability)
        for name, group in (("treatment", treated), ("control", ~treated)):
            if group.sum() < 2:
                raise ValueError(
                    f"the {name} group has {int(group.sum())} members: expected at least 2"
                )
        self.intercept_ = fit_intercept(offset[~treated], churned[~treated])
        self.encoder_ = FeatureEncoder(self.numeric, self.categorical).fit(X)
        matrix = self.encoder_.transform(X)
        rows = np.flatnonzero(treated)
        held = (
            np.random.default_rng(self.random_state).random(len(rows))
            < self.early_stopping_fraction
        )
        categorical = list(range(len(self.numeric), len(self.encoder_.columns_)))
        names = [f"f{index}" for index in range(len(self.encoder_.columns_))]

        def dataset(part: np.ndarray, reference: lgb.Dataset | None = None) -> lgb.Dataset:
            return lgb.Dataset(
                matrix[part],
                label=churned[part],
                init_score=offset[part] + self.intercept_,
                feature_name=names,
                categorical_feature=categorical,
                reference=reference,
            )

        train = dataset(rows[~held])
        params = {
            **dict(self.params or {}),
            "objective": "binary",
            "metric": "binary_logloss",
            "seed": self.random_state,
            "verbosity": -1,
        }
        self.booster_ = lgb.train(
            params,
            train,
            num_boost_round=self.num_boost_round,
            valid_sets=[dataset(rows[held], train)],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        return self

    def predict(self, X: pd.DataFrame, churn_probability: np.ndarray) -> np.ndarray:
        """(n,) expected drop in churn probability within the horizon if the customer is treated."""
        check_is_fitted(self, "booster_")
        base = log_odds(churn_probability) + self.intercept_
        effect = self.booster_.predict(
            self.encoder_.transform(X), raw_score=True, num_iteration=self.booster_.best_iteration
        )
        return expit(base) - expit(base + effect)


def saved_value_columns(
    model: UpliftModel, features: pd.DataFrame, scores: pd.DataFrame
) -> dict[str, np.ndarray]:
    """uplift and expected_saved_value of scored customers, as (n,) arrays.

    features, scores: the same customers in the same order (a batch's frames). The value is
    the scores' clv when they carry it, else customer_value; expected_saved_value =
    uplift x value, in money (NaN where the value is unknown).
    """
    uplift = model.predict(features, scores["churn_probability"].to_numpy())
    value = scores["clv"] if "clv" in scores else scores["customer_value"]
    return {
        UPLIFT_COLUMN: uplift,
        SAVED_VALUE_COLUMN: uplift * value.to_numpy(dtype=np.float64),
    }

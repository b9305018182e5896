"""Uplift: hand-checked Qini and uplift at k, the model, its validation, registry and ranking."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.exceptions import NotFittedError

from zerochurn.campaigns.assign import CONTROL, TREATMENT
from zerochurn.campaigns.learning import CampaignRows, campaign_rows
from zerochurn.campaigns.store import Campaign, CampaignError, CampaignStore
from zerochurn.configs import load_settings
from zerochurn.configs.settings import CampaignConfig, UpliftConfig
from zerochurn.model.registry import load_validated_uplift
from zerochurn.model.uplift import UpliftModel, fit_intercept, saved_value_columns
from zerochurn.model.uplift_metrics import (
    cumulative_true_effect,
    qini,
    qini_curve,
    true_qini,
    true_uplift_at_k,
    uplift_at_k,
)
from zerochurn.serving.store import (
    AtRiskQuery,
    AtRiskSortError,
    SnapshotInfo,
    SnapshotStore,
    write_snapshot,
)
from zerochurn.training.uplift import HeldOut, evaluate_uplift, held_out_mask
from zerochurn.training.uplift_run import train_and_register_uplift

# --- metrics by hand -----------------------------------------------------------------------

# Six customers already in uplift order: retained y, treatment w.
Y = np.array([1, 0, 1, 1, 0, 1])
W = np.array([1, 0, 1, 0, 1, 0])
U = np.array([0.6, 0.5, 0.4, 0.3, 0.2, 0.1])


def test_qini_curve_by_hand():
    # Q(n) = Y_T(n) - Y_C(n) N_T(n) / N_C(n), 0 while no control is in:
    # n=1: 1; n=2: 1 - 0; n=3: 2; n=4: 2 - 1*2/2 = 1; n=5: 2 - 1*3/2 = 0.5; n=6: 2 - 2*3/3 = 0
    x, q = qini_curve(Y, U, W)
    np.testing.assert_array_equal(x, [0, 1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(q, [0, 1, 1, 2, 1, 0.5, 0])


def test_qini_by_hand():
    # area 5.5 (trapezoids), random line to Q(6) = 0 has area 0; the perfect ranking sorts by
    # y*w - y*(1-w) = 1,0,1,-1,0,-1: three tied groups, Q = 0,2,2,0 at 0,2,4,6, area 8
    assert qini(Y, U, W) == pytest.approx(5.5 / 8)
    assert qini(Y, -U, W) < 0  # the reverse ranking is worse than random


def test_ties_are_not_split():
    x, q = qini_curve(Y, np.array([1.0, 1, 1, 0, 0, 0]), W)
    np.testing.assert_array_equal(x, [0, 3, 6])
    np.testing.assert_allclose(q, [0, 2, 0])  # n=3: 2 - 0; n=6: 2 - 2*3/3


def test_uplift_at_k_by_hand():
    # top 3: treated retained 1,1; control retained 0 -> 1 - 0
    assert uplift_at_k(Y, U, W, 0.5) == 1.0
    # top 4: treated 1,1 -> 1; control 0,1 -> 0.5
    assert uplift_at_k(Y, U, W, 4 / 6) == 0.5
    assert math.isnan(uplift_at_k(Y, U, W, 1 / 6))  # only a treated customer in the top
    with pytest.raises(ValueError, match=r"k must lie in \(0, 1\]"):
        uplift_at_k(Y, U, W, 0)


def test_true_qini_and_uplift_at_k_by_hand():
    effect = np.array([0.3, 0.0, 0.1])
    score = np.array([0.1, 0.2, 0.3])  # ranks 0.1, 0.0, 0.3: cumulative 0, .1, .1, .4
    x, total = cumulative_true_effect(effect, score)
    np.testing.assert_allclose(total, [0, 0.1, 0.1, 0.4])
    # area 0.4, random 0.4 * 3 / 2 = 0.6, perfect (.3, .1, 0): 0, .3, .4, .4, area 0.9
    assert true_qini(effect, score) == pytest.approx((0.4 - 0.6) / (0.9 - 0.6))
    assert true_qini(effect, effect) == pytest.approx(1.0)
    assert true_uplift_at_k(effect, score, 1 / 3) == pytest.approx(0.1)


def test_metric_inputs_must_agree():
    with pytest.raises(ValueError, match="arrays differ in length"):
        qini(Y, U[:3], W)
    with pytest.raises(ValueError, match="no customers"):
        true_qini([], [])


# --- the model -----------------------------------------------------------------------------


def test_intercept_by_hand():
    # offset 0 and one churner in four: sigma(a) = 1/4, a = -ln 3
    assert fit_intercept(np.zeros(4), np.array([1, 0, 0, 0])) == pytest.approx(-math.log(3))
    with pytest.raises(ValueError, match="intercept is infinite"):
        fit_intercept(np.zeros(3), np.zeros(3))


def simulated_members(
    n: int, seed: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Members whose action lowers churn log-odds by 1.2 per open complaint, nothing else.

    Returns features, the churn model's (true) probability, treated, churned, true effect.
    """
    rng = np.random.default_rng(seed)
    complaints = rng.integers(0, 3, n).astype(float)
    tenure = rng.normal(1000, 300, n)
    features = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "complaints_open": complaints,
            "tenure_days": tenure,
            "region": rng.choice(["north", "south"], n),
        }
    )
    log_odds = -1.5 + 0.4 * complaints + rng.normal(0, 0.5, n)
    treated = rng.random(n) < 0.8
    churned = (rng.random(n) < expit(log_odds - 1.2 * complaints * treated)).astype(int)
    effect = expit(log_odds) - expit(log_odds - 1.2 * complaints)
    return features, expit(log_odds), treated, churned, effect


def test_the_model_finds_who_the_action_helps():
    features, probability, treated, churned, effect = simulated_members(8000, seed=1)
    train = np.arange(len(features)) < 6000
    model = UpliftModel(
        numeric=["complaints_open", "tenure_days"],
        categorical=["region"],
        params={"learning_rate": 0.05, "num_leaves": 4, "min_child_samples": 50},
    ).fit(features[train], probability[train], treated[train], churned[train])
    uplift = model.predict(features[~train], probability[~train])
    assert np.corrcoef(uplift, effect[~train])[0, 1] > 0.7
    by_complaints = pd.Series(uplift).groupby(features.loc[~train, "complaints_open"].to_numpy())
    means = by_complaints.mean()
    assert means[0] < means[1] < means[2]
    # no effect without complaints, up to the control group's noise: its 1,231 members
    # churned 3.6 points more than the (true) churn model says, which the intercept follows
    assert abs(means[0]) < 0.05 and model.intercept_ == pytest.approx(0.19, abs=0.01)


def test_the_model_refuses_to_predict_unfitted_or_fit_without_controls():
    features, probability, treated, churned, _ = simulated_members(200, seed=2)
    with pytest.raises(NotFittedError):
        UpliftModel(numeric=["complaints_open"]).predict(features, probability)
    with pytest.raises(ValueError, match="the control group has 0 members"):
        UpliftModel(numeric=["complaints_open"]).fit(
            features, probability, np.ones(200, bool), churned
        )


def test_expected_saved_value_is_uplift_times_value():
    features, probability, treated, churned, _ = simulated_members(3000, seed=3)
    model = UpliftModel(numeric=["complaints_open"]).fit(features, probability, treated, churned)
    scores = pd.DataFrame({"churn_probability": probability, "customer_value": 2.0})
    columns = saved_value_columns(model, features, scores)
    np.testing.assert_allclose(columns["expected_saved_value"], 2.0 * columns["uplift"])
    with_clv = saved_value_columns(model, features, scores.assign(clv=10.0))
    np.testing.assert_allclose(with_clv["expected_saved_value"], 10.0 * columns["uplift"])


# --- validation ----------------------------------------------------------------------------


def _held_out(predicted: np.ndarray, seed: int) -> HeldOut:
    _, probability, treated, churned, effect = simulated_members(len(predicted), seed)
    return HeldOut(predicted, probability, 1 - churned, treated.astype(int), effect)


def test_a_ranking_that_finds_the_persuadable_is_validated_and_a_random_one_is_not():
    config = UpliftConfig(permutations=199)
    _, _, _, _, effect = simulated_members(4000, seed=4)
    good = evaluate_uplift(_held_out(effect, seed=4), config)
    assert good.validated and good.qini_p_value <= 0.01
    assert good.true_qini == pytest.approx(1.0)
    assert "validated" in good.verdict and "not validated" not in good.verdict
    noise = np.random.default_rng(0).random(4000)
    random = evaluate_uplift(_held_out(noise, seed=4), config)
    assert not random.validated and "not validated" in random.verdict
    assert random.true_qini < good.true_qini and random.customers == 4000


def test_held_out_keeps_a_share_of_each_campaign_and_group():
    treated = np.arange(1000) % 5 != 0
    rows = CampaignRows(
        features=pd.DataFrame(index=range(1000)),
        campaign=np.where(np.arange(1000) < 600, "a", "b").astype(object),
        customer_id=np.arange(1000).astype(str).astype(object),
        churn_probability=np.full(1000, 0.1),
        treated=treated,
        churned=np.zeros(1000, int),
    )
    held = held_out_mask(rows, 0.3, seed=1)
    for name in ("a", "b"):
        for group in (True, False):
            part = (rows.campaign == name) & (rows.treated == group)
            assert held[part].sum() == round(0.3 * part.sum())


# --- campaigns to learn from, registry, at-risk order ---------------------------------------


def _store_with_campaign(folder, name: str, n: int, seed: int, through: str | None) -> None:
    features, probability, treated, churned, _ = simulated_members(n, seed)
    members = pd.DataFrame(
        {
            "customer_id": features["customer_id"],
            "group": np.where(treated, TREATMENT, CONTROL),
            "risk_tier": "high",
            "churn_probability": probability,
            "customer_value": 100.0,
        }
    )
    campaign = Campaign(
        name=name,
        created_at="2026-01-01T00:00:00+00:00",
        as_of="2026-01-01",
        model_version="1",
        horizon_days=90,
        holdout=0.2,
        seed=seed,
        selection={},
        customers=n,
        treatment=int(treated.sum()),
        control=int((~treated).sum()),
        value_column="customer_value",
    )
    store = CampaignStore(folder)
    store.create(campaign, members, features.assign(as_of=pd.Timestamp("2026-01-01")))
    if through is not None:
        outcomes = pd.DataFrame(
            {
                "customer_id": features["customer_id"],
                "churned": pd.array(churned.astype(bool), dtype="boolean"),
                "contacted": pd.array([pd.NA] * n, dtype="boolean"),
            }
        )
        store.record_outcomes(
            name, outcomes, source="test", observed_through=dt.date.fromisoformat(through)
        )


def test_only_measurable_campaigns_are_learned_from(tmp_path):
    _store_with_campaign(tmp_path, "done", 300, seed=5, through="2026-04-01")
    _store_with_campaign(tmp_path, "running", 300, seed=6, through="2026-02-01")
    store = CampaignStore(tmp_path)
    rows = campaign_rows(store, None, CampaignConfig())
    assert rows.names == ["done"] and len(rows) == 300
    assert rows.features["customer_id"].tolist() == rows.customer_id.tolist()
    with pytest.raises(CampaignError, match="'running' is not measurable yet: the outcome window"):
        campaign_rows(store, ["running"], CampaignConfig())
    with pytest.raises(CampaignError, match="no campaign .* has measurable outcomes yet"):
        campaign_rows(CampaignStore(tmp_path / "none"), None, CampaignConfig())


@pytest.mark.parametrize("min_qini", [-1.0, 1.0])
def test_only_a_validated_model_gets_the_alias_serving_loads(tmp_path, min_qini):
    """A strong campaign signal: with a floor of -1 the model is validated, with 1 it is not."""
    settings = load_settings(
        overrides={
            "workspace": str(tmp_path),
            "uplift.min_qini": min_qini,
            "uplift.permutations": 99,
        },
        environ={},
    )
    _store_with_campaign(settings.campaigns_dir, "spring", 6000, seed=7, through="2026-04-01")
    rows = campaign_rows(CampaignStore(settings.campaigns_dir), None, settings.campaigns)
    assert load_validated_uplift(settings) is None  # no MLflow store yet
    outcome = train_and_register_uplift(rows, settings)
    assert outcome.version == "1" and outcome.evaluation.customers == round(0.3 * 4800) + round(
        0.3 * 1200
    )
    loaded = load_validated_uplift(settings)
    if min_qini < 0:
        assert outcome.evaluation.validated and loaded.version == "1"
        features, probability, *_ = simulated_members(50, seed=8)
        assert loaded.model.predict(features, probability).shape == (50,)
    else:
        assert not outcome.evaluation.validated and loaded is None


def _snapshot(path, **extra: list[float]) -> SnapshotStore:
    scores = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "churn_probability": [0.3, 0.2, 0.1],
            "risk_tier": "high",
            "customer_value": [100.0, 300.0, 50.0],
            "value_at_risk": [30.0, 60.0, 5.0],
            **extra,
        }
    )
    info = SnapshotInfo("2026-01-01", "1", "2026-01-01T00:00:00+00:00", 0.1, 3)
    segments = pd.DataFrame({"by": pd.Series(dtype="str")})
    write_snapshot(
        path, features=scores[["customer_id"]], scores=scores, segments=segments, info=info
    )
    return SnapshotStore(path)


def test_the_at_risk_list_ranks_by_expected_saved_value_once_the_scores_carry_it(tmp_path):
    plain = _snapshot(tmp_path / "plain.sqlite")
    assert plain.default_sort() == "value_at_risk"
    _, page = plain.at_risk(AtRiskQuery(limit=3))
    assert page["customer_id"].tolist() == ["b", "a", "c"]
    with pytest.raises(AtRiskSortError, match="have no expected_saved_value"):
        plain.at_risk(AtRiskQuery(limit=3, sort="expected_saved_value"))
    saved = _snapshot(
        tmp_path / "saved.sqlite", uplift=[0.01, 0.0, 0.2], expected_saved_value=[1.0, 0.0, 10.0]
    )
    assert saved.default_sort() == "expected_saved_value"
    _, page = saved.at_risk(AtRiskQuery(limit=3))
    assert page["customer_id"].tolist() == ["c", "a", "b"]
    _, page = saved.at_risk(AtRiskQuery(limit=3, sort="value_at_risk"))
    assert page["customer_id"].tolist() == ["b", "a", "c"]

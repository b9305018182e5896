"""Who does the uplift model find? Its ranking against the true effects, and the alternatives.

Run: .venv/bin/python benchmarks/bench_uplift.py [--sizes 5000 10000 20000] [--repeats 1]
Setup: a 24-month world of 50,000 customers (seed 42); a churn model trained on it as
`zerochurn train` does, on its 6 latest labelled months (training.train_snapshots=6, to
save time); the campaign is the SIZE customers it rates riskiest on 2026-01-01 (`campaign
create --sort churn_probability`), a fifth of each risk tier held out. The world runs three
more months with the action on the treatment group; churn in the 90-day window comes from
the cancel dates. 30% of each group is held out (uplift.validation_fraction); every learner
is fitted on the rest and ranks the held-out members:

- `risk`: the churn probability, today's targeting;
- `shipped`: training/uplift.py (two models on the churn model's log-odds);
- `two_model`: two LightGBM classifiers fitted from scratch on each group's features, uplift
  = p_control - p_treatment (the plain two-model learner; the uplift booster, 200 rounds);
- `transformed`: LightGBM regression of the transformed outcome z = r (w - e) / (e (1 - e))
  on the features, r = 1 - churned, e the treated share (same booster, 200 rounds).

Reported: `true_qini_*`, the normalised Qini scored by the generator's true effects (1 is
the true ranking; model/uplift_metrics.py); `true_top30_*`, the mean true effect (points) of
the top 30%; `mean_effect`, of all held-out members; for the shipped model the realised
held-out `qini`, its permutation `p_value` and `validated` (1 = yes). `seconds` is the
whole run, churn model included.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from harness import main

from zerochurn.campaigns.assign import TREATMENT, assign_groups
from zerochurn.campaigns.learning import CampaignRows
from zerochurn.configs import load_settings
from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.validate import load_raw
from zerochurn.features.build import build_features
from zerochurn.model.encoding import FeatureEncoder
from zerochurn.model.uplift_metrics import true_qini, true_uplift_at_k
from zerochurn.model.value import churn_index, risk_tier
from zerochurn.synthetic import generate_world, write_world
from zerochurn.synthetic.action import Treatment
from zerochurn.training.data import build_snapshots
from zerochurn.training.development import development
from zerochurn.training.fit import run_booster
from zerochurn.training.steps import fit_candidates
from zerochurn.training.uplift import evaluate_uplift, fit_uplift, held_out, held_out_mask

SIZES = [5_000, 10_000, 20_000]
CUSTOMERS = 50_000
CAMPAIGN_DATE = pd.Timestamp("2026-01-01")
WINDOW_END = CAMPAIGN_DATE + pd.Timedelta(days=90)
PLAIN_ROUNDS = 200


def plain_learners(rows: CampaignRows, held: np.ndarray, params: dict) -> dict[str, np.ndarray]:
    """Held-out uplift of the two learners fitted from scratch on the features."""
    features = rows.features.drop(columns=["customer_id", "as_of"])
    categorical = [c for c in features if not pd.api.types.is_numeric_dtype(features[c])]
    numeric = [c for c in features if c not in categorical]
    encoder = FeatureEncoder(numeric, categorical).fit(features)
    matrix = encoder.transform(features)
    churned, treated = rows.churned, rows.treated
    booster = {**params, "objective": "binary", "verbosity": -1}
    fitted = {
        group: lgb.train(
            booster,
            lgb.Dataset(matrix[~held & (treated == group)], churned[~held & (treated == group)]),
            PLAIN_ROUNDS,
        )
        for group in (True, False)
    }
    two_model = fitted[False].predict(matrix[held]) - fitted[True].predict(matrix[held])
    share = treated[~held].mean()
    retained = 1 - churned[~held]
    target = retained * (treated[~held] - share) / (share * (1 - share))
    regression = {**params, "objective": "regression", "verbosity": -1}
    transformed = lgb.train(regression, lgb.Dataset(matrix[~held], target), PLAIN_ROUNDS)
    return {"two_model": two_model, "transformed": transformed.predict(matrix[held])}


def measure_once(size: int) -> dict:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            overrides={"workspace": folder, "training.train_snapshots": 6}, environ={}
        )
        config = GenerateConfig(customers=CUSTOMERS, months=24)
        before = generate_world(config, horizon_days=settings.churn.horizon_days)
        raw = load_raw(write_world(before, Path(folder) / "data"))
        snapshots = build_snapshots(raw, settings)
        dev = development(snapshots, settings)
        booster = run_booster(snapshots, settings)
        churn_model = fit_candidates(dev, snapshots, settings, booster).model
        features = build_features(raw, CAMPAIGN_DATE, settings.features, settings.churn)
        probability = churn_model.predict_churn(features[snapshots.features])
        top = np.argsort(-probability, kind="stable")[:size]
        members = features.iloc[top].reset_index(drop=True)
        index = churn_index(probability[top], probability.mean())
        groups = assign_groups(pd.Series(risk_tier(index, settings.serving.tier_cutoffs)), 0.2, 1)
        treatment = Treatment(
            "bench", CAMPAIGN_DATE.date(), members["customer_id"].to_numpy(), groups == TREATMENT
        )
        after = generate_world(
            config.model_copy(update={"months": 27}),
            horizon_days=settings.churn.horizon_days,
            treatment=treatment,
        )
    cancel = after.tables["customers"].set_index("customer_id")["cancel_date"]
    rows = CampaignRows(
        features=members,
        campaign=np.full(size, "bench", dtype=object),
        customer_id=members["customer_id"].to_numpy(dtype=object),
        churn_probability=probability[top],
        treated=groups == TREATMENT,
        churned=(cancel.loc[members["customer_id"]] < WINDOW_END).to_numpy(dtype=np.int64),
    )
    uplift = settings.uplift
    held = held_out_mask(rows, uplift.validation_fraction, uplift.random_state)
    data = held_out(fit_uplift(rows, ~held, uplift), rows, held, after.treatment_truth)
    evaluation = evaluate_uplift(data, uplift)
    params = uplift.lightgbm.model_dump(exclude={"num_boost_round", "early_stopping_rounds"})
    rankings = {"risk": data.risk, "shipped": data.predicted, **plain_learners(rows, held, params)}
    k = uplift.top_share
    result = {"seconds": time.perf_counter() - start, "mean_effect": 100 * data.true_effect.mean()}
    for name, score in rankings.items():
        result[f"true_qini_{name}"] = true_qini(data.true_effect, score)
    for name, score in rankings.items():
        result[f"true_top30_{name}"] = 100 * true_uplift_at_k(data.true_effect, score, k)
    return result | {
        "qini": evaluation.qini,
        "p_value": evaluation.qini_p_value,
        "validated": int(evaluation.validated),
    }


if __name__ == "__main__":
    main("uplift", SIZES, measure_once, repeats=1)

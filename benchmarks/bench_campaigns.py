"""Does `campaign measure` find the synthetic action's true effect? Coverage over many worlds.

Run: .venv/bin/python benchmarks/bench_campaigns.py [--sizes 5000 10000 20000] [--repeats 1]
Setup: for each of SEEDS worlds of 50,000 customers (24 months, seeds 0..SEEDS-1), the
campaign is the SIZE riskiest customers on 2026-01-01 by the generator's true probability
(a perfect model's at-risk list), tiers from that probability's churn index with the
default cut-offs, a fifth held out per tier (campaigns.assign). The world then runs three
more months with the action on the treatment group; churn in the 90-day window comes from
the customers table's cancel dates, and campaigns.measure compares the groups.

Reported per campaign size, over the worlds: `coverage`, the share of 95% intervals of the
churn drop holding the true mean effect of the members (target: about 0.95);
`mean_error` and its standard error `error_se`, measured drop - true effect (target: 0
within noise); `half_width`, the mean half-width of the interval; `true_effect`, the mean
true effect; `detected`, the share of intervals above 0. `seconds` is the whole run.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
from harness import main

from zerochurn.campaigns.assign import CONTROL, TREATMENT, assign_groups
from zerochurn.campaigns.measure import measure
from zerochurn.campaigns.store import Campaign
from zerochurn.configs.settings import CampaignConfig, GenerateConfig, ServingConfig
from zerochurn.model.value import churn_index, risk_tier
from zerochurn.synthetic import generate_world
from zerochurn.synthetic.action import Treatment

SIZES = [5_000, 10_000, 20_000]
SEEDS = 8
CUSTOMERS = 50_000
HORIZON_DAYS = 90
CAMPAIGN_DATE = pd.Timestamp("2026-01-01")
WINDOW_END = CAMPAIGN_DATE + pd.Timedelta(days=HORIZON_DAYS)


def one_world(seed: int, size: int) -> tuple[float, float, float, float]:
    """(measured drop, its low, its high, true mean effect) of one world's campaign."""
    config = GenerateConfig(customers=CUSTOMERS, months=24, seed=seed)
    before = generate_world(config, horizon_days=HORIZON_DAYS)
    truth = before.ground_truth[before.ground_truth["as_of"] == CAMPAIGN_DATE]
    members = truth.nlargest(size, "true_probability")
    probability = members["true_probability"].to_numpy()
    tiers = risk_tier(
        churn_index(probability, truth["true_probability"].mean()), ServingConfig().tier_cutoffs
    )
    members = pd.DataFrame(
        {
            "customer_id": members["customer_id"].to_numpy(),
            "risk_tier": tiers,
            "churn_probability": probability,
            "customer_value": 1.0,
        }
    )
    groups = assign_groups(members["risk_tier"], 0.2, seed)
    members = members.assign(group=groups)
    treatment = Treatment(
        "bench", CAMPAIGN_DATE.date(), members["customer_id"].to_numpy(), groups == TREATMENT
    )
    after = generate_world(
        config.model_copy(update={"months": 27}), horizon_days=HORIZON_DAYS, treatment=treatment
    )
    cancel = after.tables["customers"].set_index("customer_id")["cancel_date"]
    churned = (cancel.loc[members["customer_id"]] < WINDOW_END).to_numpy()
    outcomes = pd.DataFrame(
        {
            "customer_id": members["customer_id"].to_numpy(),
            "churned": pd.array(churned, dtype="boolean"),
            "contacted": pd.array([pd.NA] * size, dtype="boolean"),
        }
    )
    campaign = Campaign(
        name="bench",
        created_at=dt.datetime.now(dt.UTC).isoformat(),
        as_of=f"{CAMPAIGN_DATE:%Y-%m-%d}",
        model_version="truth",
        horizon_days=HORIZON_DAYS,
        holdout=0.2,
        seed=seed,
        selection={},
        customers=size,
        treatment=int((groups == TREATMENT).sum()),
        control=int((groups == CONTROL).sum()),
        value_column="customer_value",
    )
    drop = measure(campaign, members, outcomes, CampaignConfig()).churn_rate_drop
    return drop.estimate, drop.low, drop.high, float(after.treatment_truth["true_effect"].mean())


def measure_once(size: int) -> dict:
    start = time.perf_counter()
    runs = np.array([one_world(seed, size) for seed in range(SEEDS)])
    estimate, low, high, true = runs.T
    error = estimate - true
    return {
        "seconds": time.perf_counter() - start,
        "worlds": SEEDS,
        "coverage": float(((low <= true) & (true <= high)).mean()),
        "mean_error": float(error.mean()),
        "error_se": float(error.std(ddof=1) / np.sqrt(SEEDS)),
        "half_width": float(((high - low) / 2).mean()),
        "true_effect": float(true.mean()),
        "detected": float((low > 0).mean()),
    }


if __name__ == "__main__":
    main("campaigns", SIZES, measure_once, repeats=1)

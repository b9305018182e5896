"""Benchmark the time-to-churn model against BG/NBD on a transaction log (inactivity churn).

Run: .venv/bin/python benchmarks/bench_bgnbd.py [--sizes 10000] [--repeats 1]
Setup: the default world's transactions alone (no customers table: customers derived
from the log, churn = 90 days without a transaction), its snapshots, and the survival
split's test date T. Timed (`seconds`): fit_survival (hazard model, anchor, baselines);
`bgnbd_seconds`: the BG/NBD fit (model/bgnbd.py) on the same customers' purchases before T.
On the same customers and date:

- churn ranking: ROC-AUC for "left (inactivity) within t months" of 1 - S(t) (the served,
  anchored curve) and of 1 - P(alive) (BG/NBD), t = 3, 6, 12;
- purchases in the next t months: BG/NBD's expected purchases, and the survival model's
  (the customer's purchase days per month over the year before T, times the expected
  months active within t, trapezoid over the curve), against the purchase days that
  happened: sum over customers relative to the actual sum, and mean absolute error.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from harness import main
from sklearn.metrics import roc_auc_score

from zerochurn.configs import load_settings
from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.validate import load_raw
from zerochurn.features.population import label_window_days
from zerochurn.features.purchases import purchase_summary, purchases_between
from zerochurn.io import write_table
from zerochurn.model.bgnbd import expected_purchases, fit_bgnbd, p_alive
from zerochurn.model.lifetime import anchor_to_horizon, horizon_months
from zerochurn.synthetic import generate_world
from zerochurn.training.data import build_snapshots
from zerochurn.training.survival import anchor_probability, fit_survival

SIZES = [10_000]
MONTHS = 24
ANCHOR_FAMILY = "lightgbm"
"""Family of the churn model refitted before the survival test date to anchor the curves."""
INACTIVITY_DAYS = 90
FORECAST_MONTHS = (3, 6, 12)
RATE_MONTHS = 12


def _months_active(curve: np.ndarray, months: int) -> np.ndarray:
    """(n,) expected months active within the first `months`: trapezoid over S(0..months)."""
    full = np.hstack([np.ones((len(curve), 1)), curve[:, :months]])
    return (full[:, :-1] + full[:, 1:]).sum(axis=1) / 2


def measure_once(size: int) -> dict:
    """Fit both models on the same log and compare them on the survival test customers."""
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            overrides={
                "workspace": folder,
                "churn.definition": "inactivity",
                "churn.inactivity_days": INACTIVITY_DAYS,
                "churn.horizon_days": INACTIVITY_DAYS,
            },
            environ={},
        )
        world = generate_world(
            GenerateConfig(customers=size, months=MONTHS, seed=42),
            horizon_days=settings.churn.horizon_days,
        )
        log_dir = Path(folder) / "log"
        write_table(world.tables["transactions"], log_dir / "transactions.parquet")
        raw = load_raw(log_dir)
        snapshots = build_snapshots(raw, settings)
        booster = settings.training.lightgbm
        started = time.perf_counter()
        fit = fit_survival(snapshots, settings, booster, family=ANCHOR_FAMILY)
        seconds = time.perf_counter() - started
        rows = snapshots.survival
        test, as_of = rows.test, rows.split.test
        curve = fit.model.survival(test[snapshots.features])
        anchor = anchor_probability(snapshots, rows.split, settings, booster, ANCHOR_FAMILY)
        if anchor is not None:
            horizon = horizon_months(label_window_days(settings.churn))
            curve = anchor_to_horizon(curve, anchor, horizon)
        ids = test["customer_id"]
        history = purchase_summary(raw.transactions, ids, as_of=as_of)
        started = time.perf_counter()
        bgnbd = fit_bgnbd(history["frequency"], history["recency"], history["age"])
        bgnbd_seconds = time.perf_counter() - started
        alive = p_alive(bgnbd, history["frequency"], history["recency"], history["age"])
        recent = purchases_between(
            raw.transactions, ids, start=as_of - pd.DateOffset(months=RATE_MONTHS), end=as_of
        )
        rate = recent / np.minimum(history["age"].to_numpy(), RATE_MONTHS)
        result: dict[str, float] = {
            "seconds": seconds,
            "bgnbd_seconds": bgnbd_seconds,
            "customers": len(test),
            "bgnbd_r": bgnbd.r,
            "bgnbd_alpha": bgnbd.alpha,
            "bgnbd_a": bgnbd.a,
            "bgnbd_b": bgnbd.b,
        }
        months, event = test["survival_months"].to_numpy(), test["survival_event"].to_numpy()
        for t in FORECAST_MONTHS:
            if t > months.max():
                continue
            left = event & (months <= t)
            result[f"hazard_auc_{t}m"] = roc_auc_score(left, 1 - curve[:, t - 1])
            result[f"bgnbd_auc_{t}m"] = roc_auc_score(left, 1 - alive)
            actual = purchases_between(
                raw.transactions, ids, start=as_of, end=as_of + pd.DateOffset(months=t)
            )
            forecasts = {
                "hazard": rate * _months_active(curve, t),
                "bgnbd": expected_purchases(
                    bgnbd, t, history["frequency"], history["recency"], history["age"]
                ),
            }
            for name, forecast in forecasts.items():
                result[f"{name}_purchases_{t}m_vs_actual"] = forecast.sum() / actual.sum()
                result[f"{name}_purchases_{t}m_mae"] = float(np.abs(forecast - actual).mean())
    return result


if __name__ == "__main__":
    main("bgnbd", SIZES, measure_once, repeats=1)

"""Out-of-time measures of survival curves, and the Kaplan-Meier and Cox baselines.

Times are whole calendar months after the test date: a churn in month m happened at
m - 1/2, a customer seen through month c without churning is censored at c + 1/2 (known
to have stayed all of month c). Test customers are followed to the end of the data, so
their censoring is administrative; the censoring distribution of the IPCW measures is
estimated on the test rows themselves (scikit-survival's survival_train).

Every measure is a pure function of arrays returning floats or frames:

- concordance: Harrell's C of the risk 1 - S(tau), tau the longest evaluation month;
- auc_{t}m: cumulative/dynamic AUC at month t (scikit-survival);
- ibs: integrated Brier score over months 1 .. the test follow-up - 1;
- calibration_max_error_{t}m: bins (deciles) of predicted S(t), the largest gap between
  a bin's mean predicted S(t) and its Kaplan-Meier S(t) (`calibration_table`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.metrics import concordance_index_censored, cumulative_dynamic_auc
from sksurv.metrics import integrated_brier_score as sksurv_ibs
from sksurv.util import Surv

from zerochurn.model.survival import person_months

HALF_MONTH = 0.5


def survival_times(months: np.ndarray, event: np.ndarray) -> np.ndarray:
    """(n,) continuous times of whole-month targets: m - 1/2 for a churn, c + 1/2 if censored."""
    months = np.asarray(months, dtype=np.float64)
    return np.where(np.asarray(event, dtype=bool), months - HALF_MONTH, months + HALF_MONTH)


def _structured(months: np.ndarray, event: np.ndarray) -> np.ndarray:
    return Surv.from_arrays(np.asarray(event, dtype=bool), survival_times(months, event))


def km_curve(months: np.ndarray, event: np.ndarray, length: int) -> np.ndarray:
    """(length,) Kaplan-Meier S(t), t = 1..length, of whole-month targets; past the longest
    follow-up the last month's hazard goes on (as model/lifetime.py extends curves)."""
    _, month, churned = person_months(months, event)
    seen = int(month.max())
    at_risk = np.bincount(month, minlength=seen + 1)[1:]
    churns = np.bincount(month, weights=churned, minlength=seen + 1)[1:]
    hazard = churns / np.maximum(at_risk, 1)
    hazard = np.concatenate([hazard, np.full(max(length - seen, 0), hazard[-1])])[:length]
    return np.cumprod(1.0 - hazard)


def km_by_group(
    months: np.ndarray, event: np.ndarray, groups: np.ndarray, test_groups: np.ndarray, length: int
) -> np.ndarray:
    """(n_test, length) each test row's Kaplan-Meier curve of its group among the training
    rows (a group unseen in training gets the curve of all rows)."""
    overall = km_curve(months, event, length)
    curves = np.tile(overall, (len(test_groups), 1))
    for group in pd.unique(groups):
        rows = groups == group
        target = test_groups == group
        if target.any():
            curves[target] = km_curve(months[rows], event[rows], length)
    return curves


def cox_curves(
    design_train: np.ndarray,
    months: np.ndarray,
    event: np.ndarray,
    design_test: np.ndarray,
    length: int,
    alpha: float,
) -> np.ndarray:
    """(n_test, length) S(t) of a Cox proportional-hazards model (Breslow baseline) fitted
    on encoded training rows (L2 penalty alpha), read at whole months and extended past its last event time
    with its last month's hazard."""
    cox = CoxPHSurvivalAnalysis(alpha=alpha).fit(design_train, _structured(months, event))
    functions = cox.predict_survival_function(design_test, return_array=True)
    times = cox.unique_times_
    seen = int(np.floor(times.max() + HALF_MONTH))
    grid = np.arange(1, seen + 1, dtype=np.float64)
    index = np.searchsorted(times, grid, side="right") - 1
    curves = np.where(index >= 0, functions[:, np.maximum(index, 0)], 1.0)
    if seen >= length:
        return curves[:, :length]
    previous = curves[:, -2] if seen > 1 else np.ones(len(curves))
    retention = np.clip(curves[:, -1] / np.maximum(previous, 1e-12), 0.0, 1.0)
    tail = curves[:, -1:] * retention[:, None] ** np.arange(1, length - seen + 1)[None, :]
    return np.hstack([curves, tail])


def rank_bins(values: np.ndarray, bins: int) -> np.ndarray:
    """(n,) bin 0..bins-1 of each value: equal counts by rank, ties split by position."""
    rank = pd.Series(values).rank(method="first").to_numpy()
    return np.minimum(((rank - 1) * bins / len(rank)).astype(np.int64), bins - 1)


def calibration_table(
    curve_at_t: np.ndarray, months: np.ndarray, event: np.ndarray, t: int, bins: int
) -> pd.DataFrame:
    """Per bin of predicted S(t) (equal counts, by rank): customers, mean predicted S(t)
    and the bin's Kaplan-Meier S(t) (observed)."""
    bin_of = rank_bins(curve_at_t, bins)
    rows = []
    for b in range(bins):
        inside = bin_of == b
        observed = km_curve(months[inside], event[inside], t)[t - 1]
        rows.append((b + 1, int(inside.sum()), float(curve_at_t[inside].mean()), float(observed)))
    return pd.DataFrame(rows, columns=["bin", "customers", "predicted", "observed"])


def survival_metrics(
    curves: np.ndarray,
    months: np.ndarray,
    event: np.ndarray,
    *,
    evaluation_months: Sequence[int],
    bins: int,
) -> tuple[dict[str, float], dict[int, pd.DataFrame]]:
    """Measures of (n, >= max month) curves against test targets; and the calibration tables.

    evaluation_months must lie within the test follow-up (max(months)).
    """
    target = _structured(months, event)
    follow_up = int(np.max(months))
    tau = max(evaluation_months)
    metrics = {
        "concordance": float(
            concordance_index_censored(target["event"], target["time"], 1.0 - curves[:, tau - 1])[0]
        )
    }
    risk = 1.0 - curves[:, [t - 1 for t in evaluation_months]]
    aucs, _ = cumulative_dynamic_auc(target, target, risk, np.asarray(evaluation_months, float))
    metrics |= {f"auc_{t}m": float(a) for t, a in zip(evaluation_months, aucs, strict=True)}
    grid = np.arange(1, follow_up, dtype=np.float64)
    if len(grid) >= 2:
        metrics["ibs"] = float(sksurv_ibs(target, target, curves[:, : len(grid)], grid))
    tables = {}
    for t in evaluation_months:
        table = calibration_table(curves[:, t - 1], months, event, t, bins)
        tables[t] = table
        gap = (table["predicted"] - table["observed"]).abs().max()
        metrics[f"calibration_max_error_{t}m"] = float(gap)
    return metrics, tables


def truth_metrics(
    curves: np.ndarray, truth: Mapping[int, np.ndarray], bins: int
) -> dict[str, float]:
    """How curves compare with the generator's true S(t) at month t (truth: t -> (n,)):
    mean absolute error, and the largest gap of bin means (bins of predicted S(t))."""
    metrics = {}
    for t, true in truth.items():
        predicted = curves[:, t - 1]
        bin_of = rank_bins(predicted, bins)
        means = pd.DataFrame({"b": bin_of, "p": predicted, "y": true}).groupby("b").mean()
        metrics[f"truth_mae_{t}m"] = float(np.abs(predicted - true).mean())
        metrics[f"truth_calibration_max_error_{t}m"] = float((means["p"] - means["y"]).abs().max())
    return metrics

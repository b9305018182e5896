"""Pure metric functions for churn models: arrays in, ``dict[str, float]`` out."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

CALIBRATION_BINS = 10
"""Equal-width probability bins of the expected calibration error."""

TOP_SHARE = 0.10
"""The targeted share of customers behind the top-decile figures."""


def expected_calibration_error(
    y: np.ndarray, probability: np.ndarray, bins: int = CALIBRATION_BINS
) -> float:
    """Mean |observed rate - mean predicted probability| over equal-width bins, row-weighted.

    Parameters
    ----------
    y : (n,) array of 0/1 labels
    probability : (n,) array of predicted probabilities in [0, 1]
    """
    y = np.asarray(y, dtype=np.float64)
    probability = np.asarray(probability, dtype=np.float64)
    index = np.minimum((probability * bins).astype(np.int64), bins - 1)
    count = np.bincount(index, minlength=bins)
    observed = np.bincount(index, weights=y, minlength=bins)
    predicted = np.bincount(index, weights=probability, minlength=bins)
    filled = count > 0
    gap = np.abs(observed[filled] - predicted[filled]) / count[filled]
    return float(np.sum(gap * count[filled]) / len(y))


def expected_roc_auc(score: np.ndarray, probability: np.ndarray) -> float:
    """ROC-AUC expected when each row's label is drawn from its true churn probability.

    One test month's AUC moves by a few thousandths with the draw of labels alone; this
    figure does not, so it compares models on generated data without that noise. It is
    the ratio of the expected number of correctly ordered churner/stayer pairs (ties count
    half) to the expected number of such pairs, with independent labels; a row is never
    paired with itself.

    Parameters
    ----------
    score : (n,) model scores; only their order matters
    probability : (n,) true churn probabilities in [0, 1]
    """
    score = np.asarray(score, dtype=np.float64)
    churn = np.asarray(probability, dtype=np.float64)
    stay = 1.0 - churn
    order = np.argsort(score, kind="stable")
    _, starts = np.unique(score[order], return_index=True)
    tied_churn = np.add.reduceat(churn[order], starts)
    tied_stay = np.add.reduceat(stay[order], starts)
    stay_below = np.cumsum(tied_stay) - tied_stay
    own_pairs = np.sum(churn * stay)
    concordant = np.sum(tied_churn * stay_below) + 0.5 * (
        np.sum(tied_churn * tied_stay) - own_pairs
    )
    pairs = churn.sum() * stay.sum() - own_pairs
    if pairs <= 0:
        raise ValueError("expected_roc_auc needs rows that can churn and rows that can stay")
    return float(concordant / pairs)


def top_share_mask(probability: np.ndarray, share: float) -> np.ndarray:
    """Boolean (n,) mask of the `share` of rows with the highest probability (ties by order)."""
    n_top = max(1, int(round(share * len(probability))))
    order = np.argsort(-np.asarray(probability), kind="stable")
    mask = np.zeros(len(probability), dtype=bool)
    mask[order[:n_top]] = True
    return mask


def classification_metrics(
    y: np.ndarray,
    probability: np.ndarray,
    *,
    value: np.ndarray | None = None,
) -> dict[str, float]:
    """Discrimination, calibration and targeting figures of churn probabilities.

    Parameters
    ----------
    y : (n,) 0/1 labels, 1 = churned within the horizon
    probability : (n,) predicted churn probabilities
    value : (n,) customer value in money, optional; adds ``value_captured_top10``,
        the share of the value lost to churners that sits in the top decile by risk
    """
    y = np.asarray(y, dtype=np.int64)
    probability = np.clip(np.asarray(probability, dtype=np.float64), 1e-9, 1 - 1e-9)
    if len(np.unique(y)) < 2:
        raise ValueError("metrics need both churners and non-churners in y")
    top = top_share_mask(probability, TOP_SHARE)
    base_rate = float(y.mean())
    metrics = {
        "roc_auc": float(roc_auc_score(y, probability)),
        "pr_auc": float(average_precision_score(y, probability)),
        "log_loss": float(log_loss(y, probability, labels=[0, 1])),
        "brier": float(brier_score_loss(y, probability)),
        "ece": expected_calibration_error(y, probability),
        "base_rate": base_rate,
        "mean_probability": float(probability.mean()),
        "top_decile_lift": float(y[top].mean() / base_rate),
        "recall_at_10": float(y[top].sum() / y.sum()),
    }
    if value is not None:
        lost = np.asarray(value, dtype=np.float64) * y
        metrics["value_captured_top10"] = float(lost[top].sum() / lost.sum()) if lost.sum() else 0.0
    return metrics


def paired_auc_difference(
    y: np.ndarray, first: np.ndarray, second: np.ndarray
) -> tuple[float, float]:
    """ROC-AUC of `first` minus that of `second` on the same rows, and its standard error.

    DeLong's variance of correlated AUCs (fast midrank form, Sun and Xu 2014): both models
    scored the same customers, so most of the label noise cancels out of the difference.

    Parameters
    ----------
    y : (n,) 0/1 labels, both present
    first, second : (n,) scores of the two models; only their order matters
    """
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=bool)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        raise ValueError("an AUC difference needs both churners and non-churners in y")
    aucs, placements_pos, placements_neg = [], [], []
    for score in (np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)):
        pos, neg = score[y], score[~y]
        both = rankdata(np.concatenate([pos, neg]))
        within_pos, within_neg = rankdata(pos), rankdata(neg)
        concordant = both[:positives].sum() - positives * (positives + 1) / 2
        aucs.append(concordant / (positives * negatives))
        placements_pos.append((both[:positives] - within_pos) / negatives)
        placements_neg.append(1.0 - (both[positives:] - within_neg) / positives)
    covariance = _covariance(placements_pos) / positives + _covariance(placements_neg) / negatives
    variance = covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]
    return float(aucs[0] - aucs[1]), float(np.sqrt(max(variance, 0.0)))


def _covariance(placements: list[np.ndarray]) -> np.ndarray:
    """(2, 2) sample covariance of two models' placement values (zero for one row)."""
    if len(placements[0]) < 2:
        return np.zeros((2, 2))
    return np.cov(np.stack(placements))

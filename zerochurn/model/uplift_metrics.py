"""How well a ranking finds the customers a retention action helps: Qini and uplift at k.

Outcome convention: y = 1 means the customer was retained (did not churn) and w = 1 that
they were in the treatment group, so a positive uplift means the action helps. For churn
labels pass y = 1 - churned.

- Qini curve: customers sorted by predicted uplift, largest first; at each cut-off n,
  Q(n) = Y_T(n) - Y_C(n) x N_T(n) / N_C(n): retained treated customers among the first n,
  less the retained controls scaled to the treated count (0 while no control is in). Ties
  in the score are not split: the curve has a point only where the score changes.
- Normalised Qini: (area under the curve - area under the random line to Q(N)) /
  (area of the perfect ranking - that same random area), with the perfect ranking sorting
  by y x w - y x (1 - w) (retained treated first, retained controls last). 0 is random,
  1 perfect; on realised outcomes even a true-effect ranking scores far below 1, because
  no ranking can know which customers would have stayed anyway.
- Uplift at k: among the top share k by predicted uplift, the retention rate of treated
  customers less that of controls.
- With known true effects (a generated world), `true_qini` scores the ranking by the
  cumulative true effect instead of realised outcomes: the same normalisation, the
  perfect ranking sorting by the true effect itself.

These follow scikit-uplift 0.5.1 (qini_curve, qini_auc_score with negative_effect=True,
uplift_at_k with strategy="overall"); the tests check them on hand-computed values.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def _arrays(*arrays: ArrayLike) -> list[np.ndarray]:
    out = [np.asarray(a, dtype=np.float64) for a in arrays]
    if len({len(a) for a in out}) != 1:
        raise ValueError(f"arrays differ in length: {[len(a) for a in out]}")
    if len(out[0]) == 0:
        raise ValueError("no customers: expected at least one")
    return out


def _cut_offs(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order by score, largest first (stable), and the last position of each distinct score."""
    order = np.argsort(-score, kind="mergesort")
    ordered = score[order]
    last = np.r_[np.flatnonzero(np.diff(ordered)), len(ordered) - 1]
    return order, last


def qini_curve(y: ArrayLike, uplift: ArrayLike, w: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Points (customers, Q) of the Qini curve, starting at (0, 0).

    y: (n,) 1 = retained; uplift: (n,) predicted uplift; w: (n,) 1 = treatment group.
    Returns two (m + 1,) arrays, m the number of distinct uplift values.
    """
    y, uplift, w = _arrays(y, uplift, w)
    order, last = _cut_offs(uplift)
    y, w = y[order], w[order]
    treated_retained = np.cumsum(y * w)[last]
    control_retained = np.cumsum(y * (1 - w))[last]
    treated = np.cumsum(w)[last]
    control = np.cumsum(1 - w)[last]
    scaled = np.divide(
        control_retained * treated, control, out=np.zeros(len(last)), where=control > 0
    )
    return np.r_[0.0, last + 1.0], np.r_[0.0, treated_retained - scaled]


def _normalised_area(x: np.ndarray, q: np.ndarray, x_best: np.ndarray, q_best: np.ndarray) -> float:
    random = q[-1] * x[-1] / 2
    best = np.trapezoid(q_best, x_best) - random
    if best == 0:
        return math.nan
    return float((np.trapezoid(q, x) - random) / best)


def qini(y: ArrayLike, uplift: ArrayLike, w: ArrayLike) -> float:
    """Normalised Qini coefficient of ranking by `uplift` (NaN when no ranking can do better)."""
    y, uplift, w = _arrays(y, uplift, w)
    perfect = y * w - y * (1 - w)
    return _normalised_area(*qini_curve(y, uplift, w), *qini_curve(y, perfect, w))


def uplift_at_k(y: ArrayLike, uplift: ArrayLike, w: ArrayLike, k: float) -> float:
    """Retention rate of treated less that of controls among the top share `k` by uplift.

    The top is ceil(k x n) customers; NaN when it holds no treated or no control customer.
    """
    if not 0 < k <= 1:
        raise ValueError(f"k must lie in (0, 1], got {k}")
    y, uplift, w = _arrays(y, uplift, w)
    top = np.argsort(-uplift, kind="mergesort")[: math.ceil(k * len(y))]
    treated, control = w[top] == 1, w[top] == 0
    if not treated.any() or not control.any():
        return math.nan
    return float(y[top][treated].mean() - y[top][control].mean())


def cumulative_true_effect(
    true_effect: ArrayLike, score: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Points (customers, summed true effect) of ranking by `score`, starting at (0, 0).

    The true-effect counterpart of qini_curve: one point per distinct score.
    """
    effect, score = _arrays(true_effect, score)
    order, last = _cut_offs(score)
    return np.r_[0.0, last + 1.0], np.r_[0.0, np.cumsum(effect[order])[last]]


def true_qini(true_effect: ArrayLike, uplift: ArrayLike) -> float:
    """Normalised Qini of ranking by `uplift` scored by known true effects (1 = perfect).

    true_effect: (n,) each customer's true uplift (e.g. the drop in churn probability).
    """
    return _normalised_area(
        *cumulative_true_effect(true_effect, uplift),
        *cumulative_true_effect(true_effect, true_effect),
    )


def true_uplift_at_k(true_effect: ArrayLike, uplift: ArrayLike, k: float) -> float:
    """Mean true effect of the top share `k` by predicted uplift (ceil(k x n) customers)."""
    if not 0 < k <= 1:
        raise ValueError(f"k must lie in (0, 1], got {k}")
    effect, uplift = _arrays(true_effect, uplift)
    top = np.argsort(-uplift, kind="mergesort")[: math.ceil(k * len(effect))]
    return float(effect[top].mean())

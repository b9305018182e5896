"""BG/NBD: the purchase model people use for transaction logs without contracts.

Fader, Hardie and Lee (2005), "Counting your customers the easy way": while alive a
customer buys at a Poisson rate lambda ~ Gamma(r, alpha); after each purchase they drop
out with probability p ~ Beta(a, b). From each customer's frequency x (repeat purchases),
recency t_x (first to last purchase) and age T (first purchase to the as-of date), in
months, maximum likelihood gives r, alpha, a, b; then the closed forms give P(alive) and
the expected purchases in the next t months.

Hand-rolled with scipy (about 30 lines) instead of pymc-marketing: for the point
estimates compared here the maximum-likelihood fit is what `lifetimes` computes and close
to pymc-marketing's MAP (docs/training.md, BG/NBD), it takes a fraction of a second, and
pymc-marketing would add some 290 MB and a minute of C compilation at its first fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import expit, gammaln, hyp2f1


@dataclass(frozen=True)
class BGNBD:
    """Fitted BG/NBD parameters: purchase rate Gamma(r, alpha), dropout Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


def _arrays(*values: ArrayLike) -> list[np.ndarray]:
    return [np.asarray(v, dtype=np.float64) for v in values]


def negative_log_likelihood(
    log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> float:
    """-sum of the BG/NBD log-likelihood of (n,) x, t_x, T at exp(log_params) = r, alpha, a, b."""
    r, alpha, a, b = np.exp(log_params)
    first = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    second = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    stayed = -(r + x) * np.log(alpha + age)
    dropped = np.where(
        x > 0,
        np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return float(-(first + second + np.logaddexp(stayed, dropped)).sum())


def fit_bgnbd(frequency: ArrayLike, recency: ArrayLike, age: ArrayLike) -> BGNBD:
    """Maximum-likelihood BG/NBD of (n,) frequency, recency and age (months, recency <= age)."""
    x, t_x, age = _arrays(frequency, recency, age)
    if len(x) == 0 or (t_x > age).any() or (x < 0).any():
        raise ValueError("expected customers with frequency >= 0 and recency <= age")
    result = minimize(negative_log_likelihood, np.zeros(4), args=(x, t_x, age), method="L-BFGS-B")
    if not result.success:
        raise ValueError(f"BG/NBD fit did not converge: {result.message}")
    return BGNBD(*np.exp(result.x))


def p_alive(model: BGNBD, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike) -> np.ndarray:
    """(n,) probability each customer has not dropped out by the as-of date (1 without repeats)."""
    x, t_x, age = _arrays(frequency, recency, age)
    log_odds_dead = (model.r + x) * np.log((model.alpha + age) / (model.alpha + t_x)) + np.log(
        model.a / (model.b + np.maximum(x, 1) - 1)
    )
    return np.where(x == 0, 1.0, expit(-log_odds_dead))


def expected_purchases(
    model: BGNBD, months: float, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> np.ndarray:
    """(n,) expected purchases in the `months` after the as-of date (Fader et al. eq. 10)."""
    x, t_x, age = _arrays(frequency, recency, age)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    ratio = (alpha + age) / (alpha + age + months)
    tail = ratio ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, months / (alpha + age + months))
    numerator = (a + b + x - 1) / (a - 1) * (1 - tail)
    dead = (x > 0) * (a / (b + np.maximum(x, 1) - 1)) * ((alpha + age) / (alpha + t_x)) ** (r + x)
    return numerator / (1 + dead)

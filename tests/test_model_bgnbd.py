"""BG/NBD on purchase histories (features/purchases.py, model/bgnbd.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zerochurn.features.periods import DAYS_PER_MONTH
from zerochurn.features.purchases import purchase_summary, purchases_between
from zerochurn.model.bgnbd import BGNBD, expected_purchases, fit_bgnbd, p_alive

TRUE = BGNBD(r=0.8, alpha=2.0, a=1.5, b=4.0)  # months


def test_purchase_summary_by_hand():
    transactions = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "a"],
            "date": pd.to_datetime(
                ["2024-01-10", "2024-01-10", "2024-02-10", "2024-03-10", "2024-05-01", "2024-04-02"]
            ),
        }
    )
    ids = pd.Series(["a", "b", "c"])
    summary = purchase_summary(transactions, ids, as_of=pd.Timestamp("2024-04-01"))
    # a: three purchase days (two transactions on 01-10 count once) before April
    assert summary.loc[0].tolist() == pytest.approx([2, 60 / DAYS_PER_MONTH, 82 / DAYS_PER_MONTH])
    assert summary.loc[1:].isna().all().all()  # b buys later, c never
    later = purchases_between(
        transactions, ids, start=pd.Timestamp("2024-04-01"), end=pd.Timestamp("2024-06-01")
    )
    assert later.tolist() == [1, 1, 0]


def simulate(n: int, seed: int, months: float = 12.0, future: float = 6.0):
    """BG/NBD customers who all start at 0; histories to `months`, purchases after it."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(TRUE.r, 1 / TRUE.alpha, n)
    drop = rng.beta(TRUE.a, TRUE.b, n)
    x, t_x, later = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / rate[i])
            if t > months + future:
                break
            if t <= months:
                x[i], t_x[i] = x[i] + 1, t
            else:
                later[i] += 1
            if rng.random() < drop[i]:
                break
    return x, t_x, np.full(n, months), later


def test_fit_recovers_the_process_and_forecasts_purchases():
    x, t_x, age, later = simulate(4000, seed=1)
    model = fit_bgnbd(x, t_x, age)
    assert model.r == pytest.approx(TRUE.r, rel=0.25)
    assert model.alpha == pytest.approx(TRUE.alpha, rel=0.35)
    forecast = expected_purchases(model, 6.0, x, t_x, age)
    assert forecast.sum() == pytest.approx(later.sum(), rel=0.1)
    alive = p_alive(model, x, t_x, age)
    assert ((alive > 0) & (alive <= 1)).all()
    assert (alive[x == 0] == 1).all()
    # a customer silent for long after many purchases is less likely alive
    assert p_alive(model, [5, 5], [11.5, 2.0], [12, 12]).tolist() == sorted(
        p_alive(model, [5, 5], [11.5, 2.0], [12, 12]).tolist(), reverse=True
    )


def test_bad_histories_are_refused():
    with pytest.raises(ValueError, match="recency <= age"):
        fit_bgnbd([1], [5.0], [3.0])

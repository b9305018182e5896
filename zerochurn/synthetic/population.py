"""Who the customers are: the initial base, the monthly arrivals and their fixed traits."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from zerochurn.synthetic.calendar import DAYS_PER_MONTH, random_days
from zerochurn.synthetic.experience import baseline_experience, group_values
from zerochurn.synthetic.parameters import GroupParameters, WorldParameters

BILLING_DAYS = 28
"""Monthly bills fall on a customer's fixed day 1..28, so every month has that day."""


@dataclass(frozen=True)
class Customers:
    """Fixed traits of customers, one entry per customer in order of customer index.

    segment, region, plan: int8 codes into the WorldParameters population dicts.
    signup_day: int32 day number of the signup.
    log_size: float32 log of the customer's size (revenue scale).
    frailty: float32 unobserved churn log-odds offset.
    billing_day: int8 day of month (1..28) of the monthly bill.
    baseline: float32 (n, 9) lasting latent experience per dimension.
    """

    segment: np.ndarray
    region: np.ndarray
    plan: np.ndarray
    signup_day: np.ndarray
    log_size: np.ndarray
    frailty: np.ndarray
    billing_day: np.ndarray
    baseline: np.ndarray

    def __len__(self) -> int:
        return len(self.signup_day)

    def take(self, index: np.ndarray) -> Customers:
        """The customers at positions `index`, in that order."""
        return Customers(**{f.name: getattr(self, f.name)[index] for f in fields(Customers)})

    @staticmethod
    def concat(parts: list[Customers]) -> Customers:
        """The customers of `parts`, in order."""
        return Customers(
            **{
                f.name: np.concatenate([getattr(p, f.name) for p in parts])
                for f in fields(Customers)
            }
        )


def _shares(groups: dict[str, GroupParameters]) -> np.ndarray:
    share = np.array([g.share for g in groups.values()], dtype=np.float64)
    return share / share.sum()


def draw_customers(
    rng: np.random.Generator,
    signup_day: np.ndarray,
    params: WorldParameters,
    segment: int | None = None,
) -> Customers:
    """Customers signing up on `signup_day` (int32 day numbers), with traits drawn at random.

    The segment is drawn from the segment shares unless `segment` fixes it (a code).
    """
    pop = params.population
    n = len(signup_day)
    seg = (
        rng.choice(len(pop.segments), size=n, p=_shares(pop.segments)).astype(np.int8)
        if segment is None
        else np.full(n, segment, dtype=np.int8)
    )
    region = rng.choice(len(pop.regions), size=n, p=_shares(pop.regions)).astype(np.int8)
    plan = rng.choice(len(pop.plans), size=n, p=_shares(pop.plans)).astype(np.int8)
    group_shift = (
        group_values(pop.segments, "experience_shift")[seg]
        + group_values(pop.regions, "experience_shift")[region]
        + group_values(pop.plans, "experience_shift")[plan]
    )
    return Customers(
        segment=seg,
        region=region,
        plan=plan,
        signup_day=np.asarray(signup_day, dtype=np.int32),
        log_size=rng.standard_normal(n, dtype=np.float32) * np.float32(pop.size_sd),
        frailty=rng.standard_normal(n, dtype=np.float32) * np.float32(params.churn.frailty_sd),
        billing_day=rng.integers(1, BILLING_DAYS + 1, size=n, dtype=np.int8),
        baseline=baseline_experience(rng, group_shift, params.experience),
    )


def history_signup_days(
    rng: np.random.Generator, n: int, start_day: int, params: WorldParameters
) -> np.ndarray:
    """Signup days spread evenly over the history before `start_day` (int32, unsorted)."""
    history = int(params.population.history_years * 12 * DAYS_PER_MONTH)
    return (start_day - rng.integers(1, history + 1, size=n)).astype(np.int32)


def arrival_signup_days(
    rng: np.random.Generator, expected: float, first_day: int, next_first_day: int
) -> np.ndarray:
    """Signup days of a Poisson(expected) number of arrivals in a month, ascending (int32)."""
    n = rng.poisson(expected)
    return np.sort(random_days(rng, np.full(n, first_day), np.full(n, next_first_day - 1)))

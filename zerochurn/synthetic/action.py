"""A retention action on a campaign's treatment group, and its true effect on every member.

The action (WorldParameters.retention_action) clears the share r = grievance_relief of a
treated customer's complaint grievance g on the campaign date, the first day of a month.
Nothing else changes: complaints, experience, revenue and the random draws are those of
the untreated world, so in month m after the date (m = 0, 1, ...) a treated customer's
churn log-odds are lower by exactly

    relief_m = grievance_effect x r x g x grievance_persistence ** m

(the cleared grievance fades as any grievance does). The effect is therefore large for
customers whose risk comes from badly handled complaints and zero for a customer without
grievance, whatever else (price, satisfaction, frailty) drives their risk.

The true effect of a member, treated or not, is the drop in the probability of churning
within the horizon that the action brings: true_probability_untreated -
true_probability_treated, both from the state on the campaign date held fixed while
tenure advances, as the ground truth's true_probability is (churn.horizon_probability).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zerochurn.synthetic.calendar import DAYS_PER_MONTH, Calendar, days_to_datetime
from zerochurn.synthetic.churn import monthly_hazard
from zerochurn.synthetic.parameters import WorldParameters

TRUTH_COLUMNS = (
    "customer_id",
    "campaign",
    "as_of",
    "treated",
    "grievance",
    "true_probability_untreated",
    "true_probability_treated",
    "true_effect",
)
"""Columns of a treatment truth table, in order."""


@dataclass(frozen=True)
class Treatment:
    """Who a campaign treats and when.

    campaign: the campaign's name; start: its date, the first day of a simulated month;
    members: (n,) customer ids of every campaign member (treatment and control);
    treated: (n,) bool, True for the members of the treatment group.
    """

    campaign: str
    start: dt.date
    members: np.ndarray
    treated: np.ndarray

    def __post_init__(self) -> None:
        if len(self.members) != len(self.treated):
            raise ValueError(
                f"campaign {self.campaign!r}: {len(self.members)} members but "
                f"{len(self.treated)} treated flags"
            )
        if self.start.day != 1:
            raise ValueError(
                f"campaign {self.campaign!r} is dated {self.start}: the synthetic world acts "
                "on the first day of a month"
            )


def treatment_month(treatment: Treatment, calendar: Calendar) -> int:
    """Simulated month the action starts in; it must leave at least one month before it."""
    month = calendar.index_of(f"{treatment.start:%Y-%m}")
    if not 0 < month < calendar.months:
        raise ValueError(
            f"campaign {treatment.campaign!r} is dated {treatment.start}: expected a month "
            f"start after {calendar.label(0)}-01 and before the end of the simulated months "
            f"({calendar.label(calendar.months - 1)})"
        )
    return month


def member_index(
    treatment: Treatment, ids: pd.Index, signup_day: np.ndarray, cancel_day: np.ndarray, day: int
) -> np.ndarray:
    """Customer indices of the members, who must all be active on day `day`.

    ids: the customer id of every customer index so far. Raises ValueError naming up to five
    ids that are unknown or not active then (a campaign made on another world).
    """
    index = ids.get_indexer(pd.Index(treatment.members))
    known = index >= 0
    active = np.zeros(len(index), dtype=bool)
    active[known] = (signup_day[index[known]] < day) & (cancel_day[index[known]] >= day)
    if not active.all():
        bad = treatment.members[~active]
        shown = ", ".join(map(str, bad[:5])) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise ValueError(
            f"campaign {treatment.campaign!r}: {len(bad)} member(s) are not active customers "
            f"of this world on {treatment.start}: {shown}"
        )
    return index


def log_survival_with_relief(
    state: np.ndarray,
    relief: np.ndarray,
    tenure_months: np.ndarray,
    months: float,
    persistence: float,
    params: WorldParameters,
) -> np.ndarray:
    """Log-probability of not churning during `months` with log-odds lowered by a fading relief.

    state: (n,) churn log-odds without tenure; relief: (n,) log-odds removed in the first
    month, relief x persistence ** m in month m; a partial last month counts with its
    fraction, as churn.log_survival does.
    """
    total = np.zeros(len(state), dtype=np.float64)
    for m in range(math.ceil(months)):
        exposure = min(months - m, 1.0)
        shifted = (state - relief * np.float32(persistence**m)).astype(np.float32)
        total += exposure * np.log1p(-monthly_hazard(shifted, tenure_months + m, params))
    return total


def true_effects(
    state: np.ndarray,
    grievance: np.ndarray,
    tenure_months: np.ndarray,
    horizon_months: float,
    params: WorldParameters,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probabilities of churning within the horizon without and with the action, and the relief.

    state: (n,) churn log-odds without tenure on the campaign date; grievance: (n,) the
    grievance stock then. Returns (untreated, treated, relief) as (n,) float64 arrays;
    relief is the first month's drop in log-odds.
    """
    relief = (
        params.churn.grievance_effect * params.retention_action.grievance_relief * grievance
    ).astype(np.float32)
    persistence = params.complaints.grievance_persistence
    untreated, treated = (
        -np.expm1(
            log_survival_with_relief(
                state, shift, tenure_months, horizon_months, persistence, params
            )
        )
        for shift in (np.zeros_like(relief), relief)
    )
    return untreated, treated, relief


def apply_action(
    treatment: Treatment,
    index: np.ndarray,
    grievance: np.ndarray,
    churn_log_odds: np.ndarray,
    signup_day: np.ndarray,
    day: int,
    horizon_months: float,
    params: WorldParameters,
) -> pd.DataFrame:
    """Apply the action to the treated members in place; the truth of every member.

    index: customer index of each member (member_index); grievance and churn_log_odds: the
    simulation's per-customer arrays on day `day`, the campaign date, before that month's
    cancellations. Returns TRUTH_COLUMNS, one row per member in member order (customer_id
    from treatment.members).
    """
    tenure = (day - signup_day[index]) / DAYS_PER_MONTH
    g = grievance[index].copy()
    untreated, treated, relief = true_effects(
        churn_log_odds[index], g, tenure, horizon_months, params
    )
    chosen = index[treatment.treated]
    grievance[chosen] -= np.float32(params.retention_action.grievance_relief) * g[treatment.treated]
    churn_log_odds[chosen] -= relief[treatment.treated]
    return pd.DataFrame(
        {
            "customer_id": pd.Series(treatment.members, dtype="str"),
            "campaign": pd.Series([treatment.campaign] * len(index), dtype="str"),
            "as_of": days_to_datetime(np.full(len(index), day, dtype=np.int32)),
            "treated": np.asarray(treatment.treated, dtype=bool),
            "grievance": g.astype(np.float64),
            "true_probability_untreated": untreated,
            "true_probability_treated": treated,
            "true_effect": untreated - treated,
        }
    ).loc[:, list(TRUTH_COLUMNS)]

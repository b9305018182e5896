"""Complaints: who complains about what, and how the complaint process handles it.

A complaint is logged (channel, category), routed to the category's department with a
due date of opened + SLA days, resolved on time, late or never, and, when resolved, maybe
followed up by a call that records a grade. Its handling leaves a grievance that raises
the customer's churn hazard (domain.md section 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zerochurn.contract.schema import SURVEY_DIMENSIONS
from zerochurn.synthetic.calendar import NO_DAY, random_days
from zerochurn.synthetic.drift import MonthConditions
from zerochurn.synthetic.experience import grade_codes, group_values
from zerochurn.synthetic.parameters import WorldParameters

COMPLAINT_HANDLING = SURVEY_DIMENSIONS.index("complaint_handling")
"""Column of the complaint-handling dimension in an experience array."""


@dataclass(frozen=True)
class ComplaintBatch:
    """Complaints of one month, one entry per complaint.

    customer: customer index; opened_day, due_day: int32 day numbers; resolved_day,
    followed_up_day: int32 day numbers or NO_DAY; channel, category, department: int8
    codes into the ComplaintParameters dicts; followup_grade: int8 grade code or -1;
    grievance: float32 grievance the complaint leaves (churn log-odds units before
    ChurnParameters.grievance_effect).
    """

    customer: np.ndarray
    opened_day: np.ndarray
    channel: np.ndarray
    category: np.ndarray
    department: np.ndarray
    due_day: np.ndarray
    resolved_day: np.ndarray
    followed_up_day: np.ndarray
    followup_grade: np.ndarray
    grievance: np.ndarray


def _draw_category(
    rng: np.random.Generator, experience: np.ndarray, params: WorldParameters
) -> np.ndarray:
    """Category code per complaint: weight * exp(-sensitivity * experience of its dimension)."""
    categories = params.complaints.categories.values()
    dims = [SURVEY_DIMENSIONS.index(c.dimension) for c in categories]
    log_weight = np.log([c.weight for c in categories]).astype(np.float32)
    logits = log_weight - np.float32(params.complaints.category_sensitivity) * experience[:, dims]
    gumbel = rng.gumbel(size=logits.shape).astype(np.float32)
    return np.argmax(logits + gumbel, axis=1).astype(np.int8)


def draw_complaints(
    rng: np.random.Generator,
    customer: np.ndarray,
    segment: np.ndarray,
    experience: np.ndarray,
    satisfaction: np.ndarray,
    low_day: np.ndarray,
    high_day: np.ndarray,
    month_days: int,
    conditions: MonthConditions,
    params: WorldParameters,
) -> tuple[ComplaintBatch, np.ndarray]:
    """The month's complaints of the active customers, and the grievance each one gained.

    Parameters
    ----------
    customer, segment, satisfaction, low_day, high_day
        Per active customer: index, segment code, overall satisfaction (latent units) and
        the inclusive span of days it was a customer this month.
    experience
        Shape (n, 9), this month's latent experience.
    month_days
        Days in the month; a customer active part of the month complains pro rata.

    Returns
    -------
    The complaints, and the summed grievance per active customer (float32, shape (n,)).
    """
    cp = params.complaints
    departments = list(cp.departments.values())
    active_share = (high_day - low_day + 1) / month_days
    rate = (
        cp.monthly_rate
        * conditions.complaint_multiplier
        * group_values(params.population.segments, "complaint_multiplier")[segment]
        * np.exp(-cp.satisfaction_effect * satisfaction)
        * active_share
    )
    owner = np.repeat(np.arange(len(customer)), rng.poisson(rate))
    n = len(owner)
    opened = random_days(rng, low_day[owner], high_day[owner])
    channel_share = np.array(list(cp.channels.values()))
    channel = rng.choice(len(channel_share), size=n, p=channel_share / channel_share.sum())
    category = _draw_category(rng, experience[owner], params)
    dept_of_category = np.array(
        [list(cp.departments).index(c.department) for c in cp.categories.values()], dtype=np.int8
    )
    department = dept_of_category[category]
    sla = np.array([d.sla_days for d in departments], dtype=np.int32)[department]
    handling = group_values(params.population.segments, "handling_multiplier")[segment[owner]]
    unresolved_p = np.array([d.unresolved_probability for d in departments])[department]
    unresolved = rng.random(n) < np.minimum(
        1.0, unresolved_p * handling * conditions.unresolved_multiplier
    )
    median_days = (
        sla
        * np.array([d.median_resolution_ratio for d in departments])[department]
        * handling
        * conditions.resolution_multiplier
    )
    days = np.rint(median_days * np.exp(cp.resolution_sd * rng.standard_normal(n)))
    resolved = np.where(unresolved, NO_DAY, opened + days.astype(np.int32))
    due = opened + sla
    late = ~unresolved & (resolved > due)
    followup_p = np.array([d.followup_probability for d in departments])[department]
    followed = ~unresolved & (rng.random(n) < followup_p)
    followed_day = np.where(
        followed, resolved + rng.integers(1, cp.followup_max_days + 1, size=n), NO_DAY
    )
    followup_latent = (
        experience[owner, COMPLAINT_HANDLING]
        + np.float32(cp.followup_on_time_bonus) * ~late
        + np.float32(cp.followup_noise_sd) * rng.standard_normal(n, dtype=np.float32)
    )
    grade = np.where(
        followed, grade_codes(followup_latent, params.experience.grade_cutpoints), -1
    ).astype(np.int8)
    grievance = (
        cp.grievance_per_complaint
        + cp.grievance_late * late
        + cp.grievance_unresolved * unresolved
        + cp.grievance_no_followup * ~followed
    ).astype(np.float32)
    batch = ComplaintBatch(
        customer=customer[owner],
        opened_day=opened,
        channel=channel.astype(np.int8),
        category=category,
        department=department,
        due_day=due.astype(np.int32),
        resolved_day=resolved.astype(np.int32),
        followed_up_day=followed_day.astype(np.int32),
        followup_grade=grade,
        grievance=grievance,
    )
    per_customer = np.bincount(owner, weights=grievance, minlength=len(customer))
    return batch, per_customer.astype(np.float32)

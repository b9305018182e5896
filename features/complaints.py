"""Complaint features: volume, open and overdue complaints, resolution and follow-up quality.

The complaint-load features weigh each complaint by how long ago it was opened, halving every
complaint_load_half_life_days: a badly handled complaint leaves a grievance that fades
over months (domain.md section 2), and a late, unresolved or never followed up complaint
leaves more of it than one handled well.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zerochurn.configs.settings import FeatureConfig
from zerochurn.features.grouping import (
    group_count,
    group_last,
    group_mean,
    group_sum,
    member_rows,
)
from zerochurn.features.periods import ONE_DAY, days_before

EVENT_COLUMNS = ("opened_at", "due_at", "resolved_at", "followed_up_at", "followup_score")
"""The complaint columns the features read besides customer_id."""


def complaint_features(
    complaints: pd.DataFrame,
    population: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    config: FeatureConfig,
) -> pd.DataFrame:
    """Complaint features of each active customer from complaints opened before `as_of`.

    Requires complaints[customer_id, opened_at, due_at, resolved_at, followed_up_at,
    followup_score] (resolved_at / followed_up_at NaT when not done) and
    population[customer_id]; only events before as_of count. Returns, aligned with
    population: complaints_{w}d, complaints opened in the w days before as_of for w in
    config.complaint_windows_days; complaints_open, not resolved before as_of;
    complaints_open_over_{n}d, of those opened more than n = config.complaint_unresolved_days
    days before as_of; complaints_resolved_late, resolved before as_of after due_at;
    complaint_resolution_days, mean days from opening to resolution of those resolved;
    complaints_followed_up_share, share of complaints followed up before as_of;
    complaint_followup_score, mean follow-up score (25..100); days_since_complaint.
    The complaint loads weigh each complaint 0.5 ** (age / h), age = days from opening to
    as_of, h = config.complaint_load_half_life_days, and sum the weights: complaint_load
    of all complaints; complaint_load_late of those not resolved by due_at (resolved late,
    or still open with due_at before as_of); complaint_load_overdue of those still open with
    due_at before as_of; complaint_load_no_followup of those resolved more than
    config.followup_wait_days days before as_of without a follow-up call before as_of.
    Counts and loads are 0 for customers without complaints, the other columns NaN.
    """
    size = len(population)
    keep, positions = member_rows(
        complaints["customer_id"],
        pd.Index(population["customer_id"]),
        (complaints["opened_at"] < as_of).to_numpy(),
    )
    logged = complaints.loc[keep, list(EVENT_COLUMNS)]
    opened = logged["opened_at"]
    resolved_at = logged["resolved_at"]
    followed = (logged["followed_up_at"] < as_of).to_numpy()
    resolved = (resolved_at < as_of).to_numpy()
    unresolved = ~resolved
    overdue = (opened < as_of - pd.Timedelta(days=config.complaint_unresolved_days)).to_numpy()
    late = resolved & (resolved_at > logged["due_at"]).to_numpy()
    resolution_days = ((resolved_at - opened) / ONE_DAY).to_numpy(dtype=float, na_value=np.nan)
    followup_score = logged["followup_score"].to_numpy(dtype=float, na_value=np.nan)
    scored = followed & ~np.isnan(followup_score)
    past_due = (logged["due_at"] < as_of).to_numpy()
    wait = pd.Timedelta(days=config.followup_wait_days)
    no_followup = resolved & ~followed & (resolved_at < as_of - wait).to_numpy()
    half_lives = (as_of - opened) / pd.Timedelta(days=config.complaint_load_half_life_days)
    weight = 0.5 ** half_lives.to_numpy(dtype=float)

    def load(mask: np.ndarray) -> np.ndarray:
        return group_sum(positions[mask], weight[mask], size)

    def count(mask: np.ndarray) -> np.ndarray:
        return group_count(positions[mask], size)

    windows = {
        f"complaints_{days}d": count((opened >= as_of - pd.Timedelta(days=days)).to_numpy())
        for days in config.complaint_windows_days
    }
    last_opened = group_last(positions, opened.to_numpy(), size)
    columns = {
        **windows,
        "complaints_open": count(unresolved),
        f"complaints_open_over_{config.complaint_unresolved_days}d": count(unresolved & overdue),
        "complaints_resolved_late": count(late),
        "complaint_resolution_days": group_mean(
            positions[resolved], resolution_days[resolved], size
        ),
        "complaints_followed_up_share": group_mean(positions, followed.astype(float), size),
        "complaint_followup_score": group_mean(positions[scored], followup_score[scored], size),
        "days_since_complaint": days_before(as_of, pd.Series(last_opened)),
        "complaint_load": group_sum(positions, weight, size),
        "complaint_load_late": load(late | (unresolved & past_due)),
        "complaint_load_overdue": load(unresolved & past_due),
        "complaint_load_no_followup": load(no_followup),
    }
    return pd.DataFrame(columns, index=population.index)

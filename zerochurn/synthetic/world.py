"""generate_world: simulate the customers month by month and collect the raw tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from zerochurn.configs.settings import GenerateConfig
from zerochurn.synthetic.action import Treatment, apply_action, member_index, treatment_month
from zerochurn.synthetic.calendar import DAYS_PER_MONTH, Calendar
from zerochurn.synthetic.drift import month_conditions
from zerochurn.synthetic.parameters import WorldParameters
from zerochurn.synthetic.simulation import Events, State, arrive, cancel, initial_state, live
from zerochurn.synthetic.tables import (
    complaints_table,
    concat_batches,
    customer_labels,
    customers_table,
    ground_truth_table,
    surveys_table,
    transactions_table,
)


@dataclass(frozen=True)
class World:
    """A simulated world.

    tables: customers, transactions, surveys, complaints, with the columns of schema.py
        (ids as str, dates as datetime64[ns], repeated labels of the event tables as
        categoricals, grades as the letters A-D).
    ground_truth: customer_id, as_of (the first day of each month after a simulated month,
        for the customers active that day), horizon_days, and true_probability: the chance
        of cancelling within horizon_days / DAYS_PER_MONTH months after as_of, from the
        hazard implied by the customer's state at as_of held fixed while tenure advances
        (churn.horizon_probability). It includes the unobserved frailty, so it is the
        oracle no model can beat on average. With config.hidden_state the hidden churn
        drivers follow (tables.HIDDEN_STATE_COLUMNS), for diagnostics only.
    treatment_truth: with a treatment, every campaign member's true effect of the retention
        action (action.TRUTH_COLUMNS); None without one.
    """

    tables: dict[str, pd.DataFrame]
    ground_truth: pd.DataFrame
    config: GenerateConfig
    horizon_days: int
    params: WorldParameters
    treatment_truth: pd.DataFrame | None = None


def _drift_month(config: GenerateConfig, calendar: Calendar) -> int | None:
    if config.drift_from is None:
        return None
    month = calendar.index_of(config.drift_from)
    if not 0 <= month < calendar.months:
        raise ValueError(
            f"drift_from {config.drift_from} is outside the simulated months "
            f"{calendar.label(0)}..{calendar.label(calendar.months - 1)}"
        )
    return month


def generate_world(
    config: GenerateConfig,
    *,
    horizon_days: int,
    params: WorldParameters | None = None,
    progress: Callable[[str], None] | None = None,
    treatment: Treatment | None = None,
) -> World:
    """Simulate `config.months` months of `config.customers` initial customers.

    Parameters
    ----------
    config
        Size, seed, start month and drift scenario.
    horizon_days
        Churn horizon (days) of the ground-truth probabilities.
    params
        The world's parameters; WorldParameters() when None.
    progress
        Called with a short message after each simulated month and table-building step.
    treatment
        A campaign whose treatment group gets the retention action on its date
        (synthetic/action.py); every month before that date is the same as without it.

    Returns
    -------
    The World; the same config and parameters always give the same world.
    """
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be > 0, got {horizon_days}")
    params = WorldParameters() if params is None else params
    report = progress if progress is not None else (lambda _message: None)
    calendar = Calendar(config.start, config.months)
    drift_month = _drift_month(config, calendar)
    state = initial_state(config, calendar, drift_month, params)
    events = Events([], [], [], [])
    horizon_months = horizon_days / DAYS_PER_MONTH
    action_month = None if treatment is None else treatment_month(treatment, calendar)
    treatment_truth = None
    for month in range(config.months):
        conditions = month_conditions(month, calendar, config.drift, drift_month, params)
        if month == action_month:
            treatment_truth = _act(
                state, treatment, calendar.first_day(month), horizon_months, params
            )
        cancelled = cancel(state, month, calendar, config.seed, params)
        arrived = arrive(state, month, calendar, config, conditions, params)
        active, complaints = live(
            state, month, calendar, config, conditions, horizon_months, params, events
        )
        report(
            f"{calendar.label(month)}: {active} active, {arrived} new, "
            f"{cancelled} cancelled, {complaints} complaints"
        )
    report("building tables")
    ids = customer_labels(len(state.customers))
    tables = {
        "customers": customers_table(state.customers, state.cancel_day, ids, params),
        "transactions": transactions_table(concat_batches(events.transactions), ids),
        "surveys": surveys_table(concat_batches(events.surveys), ids),
        "complaints": complaints_table(
            concat_batches(events.complaints), ids, calendar.end_day, params
        ),
    }
    truth = ground_truth_table(concat_batches(events.truth), ids, horizon_days)
    return World(tables, truth, config, horizon_days, params, treatment_truth)


def _act(
    state: State,
    treatment: Treatment,
    day: int,
    horizon_months: float,
    params: WorldParameters,
) -> pd.DataFrame:
    """Apply the treatment's action on day `day` (a month start, before its cancellations)."""
    ids = pd.Index(pd.Series(customer_labels(len(state.customers)), dtype="str"))
    index = member_index(treatment, ids, state.customers.signup_day, state.cancel_day, day)
    return apply_action(
        treatment,
        index,
        state.grievance,
        state.churn_log_odds,
        state.customers.signup_day,
        day,
        horizon_months,
        params,
    )

"""The month-by-month simulation behind generate_world.

Month t, in order: (1) customers who signed up before month t may cancel, with the hazard
implied by their state at the end of month t - 1; (2) new customers arrive; (3) every
customer active in month t drifts in experience, may complain (and the handling feeds
back into experience and grievance), gets a bill and, in survey months, may answer the
survey; (4) each customer's churn state is updated and, for customers still active at
the start of month t + 1, the true probability of churning within the horizon is
recorded, with the true chance of still being a customer after 3, 6 and 12 months.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.schema import SURVEY_DIMENSIONS
from zerochurn.synthetic.calendar import DAYS_PER_MONTH, NO_DAY, Calendar, random_days
from zerochurn.synthetic.churn import (
    horizon_probability,
    log_survival,
    monthly_hazard,
    state_log_odds,
    static_log_odds,
)
from zerochurn.synthetic.complaints import COMPLAINT_HANDLING, ComplaintBatch, draw_complaints
from zerochurn.synthetic.drift import MonthConditions, month_conditions
from zerochurn.synthetic.experience import (
    overall_satisfaction,
    satisfaction_weights,
    stationary_walk,
    step_walk,
)
from zerochurn.synthetic.parameters import WorldParameters
from zerochurn.synthetic.population import (
    Customers,
    arrival_signup_days,
    draw_customers,
    history_signup_days,
)
from zerochurn.synthetic.revenue import monthly_revenue, typical_log_revenue
from zerochurn.synthetic.streams import Stream, stream
from zerochurn.synthetic.surveys import answer_grades, survey_respondents
from zerochurn.synthetic.tables import (
    TRUE_SURVIVAL_MONTHS,
    SurveyBatch,
    TransactionBatch,
    TruthBatch,
)

PRICE = SURVEY_DIMENSIONS.index("price")
"""Column of the price dimension in an experience array."""

CANDIDATES_PER_CUSTOMER = 4
"""Candidates drawn per wanted initial customer in each round of survivor selection."""


@dataclass
class State:
    """What the simulation carries from month to month, per customer index."""

    customers: Customers
    cancel_day: np.ndarray
    walk: np.ndarray
    grievance: np.ndarray
    churn_log_odds: np.ndarray

    def add(self, customers: Customers, walk: np.ndarray) -> None:
        """Append newly arrived customers; their churn state is set at the month's end."""
        n = len(customers)
        self.customers = Customers.concat([self.customers, customers])
        self.cancel_day = np.concatenate([self.cancel_day, np.full(n, NO_DAY, np.int32)])
        self.walk = np.concatenate([self.walk, walk])
        self.grievance = np.concatenate([self.grievance, np.zeros(n, np.float32)])
        self.churn_log_odds = np.concatenate([self.churn_log_odds, np.zeros(n, np.float32)])


@dataclass
class Events:
    """Batches of events, one per simulated month."""

    transactions: list[TransactionBatch]
    surveys: list[SurveyBatch]
    complaints: list[ComplaintBatch]
    truth: list[TruthBatch]


def _churn_state(
    customers: Customers,
    index: np.ndarray,
    experience: np.ndarray,
    satisfaction: np.ndarray,
    grievance: np.ndarray,
    conditions: MonthConditions,
    params: WorldParameters,
) -> np.ndarray:
    """Churn log-odds (without tenure) of customers `index` after this month's experience."""
    static = static_log_odds(
        customers.segment[index],
        customers.region[index],
        customers.plan[index],
        customers.log_size[index],
        customers.frailty[index],
        params,
    )
    return state_log_odds(
        static,
        satisfaction,
        experience[:, PRICE],
        grievance,
        conditions.price_shock,
        params,
    )


def initial_state(
    config: GenerateConfig, calendar: Calendar, drift_month: int | None, params: WorldParameters
) -> State:
    """The initial base at the start, with its state as of the end of the previous month.

    Candidates sign up evenly over the history and each is kept with its probability of
    having survived to the start (its state held), so the base is what steady churn left:
    long-tenured customers are the low-risk ones. Then the warm-up months run unrecorded,
    so drift, complaint grievance and their feedback start at their steady state.
    """
    rng = stream(config.seed, Stream.POPULATION, 0)
    start = calendar.first_day(0)
    before = month_conditions(-1, calendar, config.drift, drift_month, params)
    batch = CANDIDATES_PER_CUSTOMER * config.customers
    kept: list[tuple[Customers, np.ndarray]] = []
    while sum(len(customers) for customers, _ in kept) < config.customers:
        candidates = draw_customers(rng, history_signup_days(rng, batch, start, params), params)
        walk = stationary_walk(rng, batch, params.experience)
        experience = candidates.baseline + walk + before.experience_shift
        churn = _churn_state(
            candidates,
            np.arange(batch),
            experience,
            overall_satisfaction(experience, params.experience),
            np.zeros(batch, np.float32),
            before,
            params,
        )
        tenure = (start - candidates.signup_day) / DAYS_PER_MONTH
        log_u = np.log(rng.random(batch))
        # Without the new-customer effect survival is higher: only those passing that
        # bound need the exact, costlier survival.
        settled = np.log1p(-monthly_hazard(churn, np.full(batch, np.inf), params))
        maybe = np.flatnonzero(log_u < tenure * settled)
        exact = log_survival(churn[maybe], np.zeros(len(maybe)), tenure[maybe], params)
        survived = maybe[log_u[maybe] < exact]
        kept.append((candidates.take(survived), walk[survived]))
    n = config.customers
    customers = Customers.concat([c for c, _ in kept])
    by_signup = np.argsort(customers.signup_day[:n], kind="stable")
    customers, walk = customers.take(by_signup), np.concatenate([w for _, w in kept])[by_signup]
    zeros = np.zeros(n, np.float32)
    state = State(customers, np.full(n, NO_DAY, np.int32), walk, zeros, zeros.copy())
    for month in range(-params.population.warmup_months, 0):
        conditions = month_conditions(month, calendar, config.drift, drift_month, params)
        index = np.flatnonzero(customers.signup_day < calendar.first_day(month + 1))
        warmup = stream(config.seed, Stream.WARMUP, -month)
        experience, satisfaction, _ = _experience_and_complaints(
            state, index.astype(np.int32), month, calendar, conditions, (warmup, warmup), params
        )
    state.churn_log_odds = _churn_state(
        customers, np.arange(n), experience, satisfaction, state.grievance, conditions, params
    )
    return state


def cancel(state: State, month: int, calendar: Calendar, seed: int, params: WorldParameters) -> int:
    """Draw who cancels in `month` (sets cancel_day); returns how many did."""
    first, last = calendar.first_day(month), calendar.first_day(month + 1) - 1
    c = state.customers
    at_risk = np.flatnonzero((c.signup_day < first) & (state.cancel_day == NO_DAY))
    tenure = (first - c.signup_day[at_risk]) / DAYS_PER_MONTH
    hazard = monthly_hazard(state.churn_log_odds[at_risk], tenure, params)
    rng = stream(seed, Stream.CHURN, month)
    leaving = at_risk[rng.random(len(at_risk)) < hazard]
    state.cancel_day[leaving] = random_days(rng, np.full(len(leaving), first), last)
    return len(leaving)


def arrive(
    state: State,
    month: int,
    calendar: Calendar,
    config: GenerateConfig,
    conditions: MonthConditions,
    params: WorldParameters,
) -> int:
    """Add the month's regular and (under new_segment drift) new-segment arrivals."""
    first, following = calendar.first_day(month), calendar.first_day(month + 1)
    sources = [(Stream.ARRIVALS, params.population.monthly_arrival_rate, None)]
    if conditions.new_segment_arrival_rate > 0:
        code = list(params.population.segments).index(params.drift.new_segment)
        sources.append((Stream.NEW_SEGMENT, conditions.new_segment_arrival_rate, code))
    arrived = 0
    for purpose, rate, segment in sources:
        rng = stream(config.seed, purpose, month)
        signup = arrival_signup_days(rng, rate * config.customers, first, following)
        state.add(
            draw_customers(rng, signup, params, segment),
            stationary_walk(rng, len(signup), params.experience),
        )
        arrived += len(signup)
    return arrived


def _active_span(
    state: State, index: np.ndarray, first: int, following: int
) -> tuple[np.ndarray, np.ndarray]:
    """First and last day (inclusive) in [first, following) that customers `index` were active."""
    low = np.maximum(first, state.customers.signup_day[index])
    high = np.minimum(following - 1, state.cancel_day[index])
    return low, high


def _experience_and_complaints(
    state: State,
    index: np.ndarray,
    month: int,
    calendar: Calendar,
    conditions: MonthConditions,
    rngs: tuple[np.random.Generator, np.random.Generator],
    params: WorldParameters,
) -> tuple[np.ndarray, np.ndarray, ComplaintBatch]:
    """Take customers `index` through month `month`: drift, complaints and their handling.

    rngs: the generators for the drift and for the complaints. Updates state.walk and
    state.grievance; returns the month's experience, shape (n, 9), and overall
    satisfaction, shape (n,), both already marked by how the complaints were handled, and
    the complaints.
    """
    first, following = calendar.first_day(month), calendar.first_day(month + 1)
    c = state.customers
    walk = step_walk(rngs[0], state.walk[index], params.experience)
    experience = c.baseline[index] + walk + conditions.experience_shift
    satisfaction = overall_satisfaction(experience, params.experience)
    complaints, grievance = draw_complaints(
        rngs[1],
        index,
        c.segment[index],
        experience,
        satisfaction,
        *_active_span(state, index, first, following),
        following - first,
        conditions,
        params,
    )
    damage = np.float32(params.complaints.handling_experience_effect) * grievance
    walk[:, COMPLAINT_HANDLING] -= damage
    experience[:, COMPLAINT_HANDLING] -= damage
    satisfaction -= satisfaction_weights(params.experience)[COMPLAINT_HANDLING] * damage
    state.walk[index] = walk
    state.grievance[index] = (
        np.float32(params.complaints.grievance_persistence) * state.grievance[index] + grievance
    )
    return experience, satisfaction, complaints


def live(
    state: State,
    month: int,
    calendar: Calendar,
    config: GenerateConfig,
    conditions: MonthConditions,
    horizon_months: float,
    params: WorldParameters,
    events: Events,
) -> tuple[int, int]:
    """Simulate month `month` for its active customers.

    Appends the month's bills, complaints, questionnaires and true probabilities to
    `events`, updates each active customer's drift, grievance and churn state, and returns
    (active customers, complaints).
    """
    first, following = calendar.first_day(month), calendar.first_day(month + 1)
    c = state.customers
    index = np.flatnonzero((c.signup_day < following) & (state.cancel_day >= first)).astype(
        np.int32
    )
    experience, satisfaction, complaints = _experience_and_complaints(
        state,
        index,
        month,
        calendar,
        conditions,
        (
            stream(config.seed, Stream.EXPERIENCE, month),
            stream(config.seed, Stream.COMPLAINTS, month),
        ),
        params,
    )
    events.complaints.append(complaints)

    segment, plan, log_size = c.segment[index], c.plan[index], c.log_size[index]
    low, high = _active_span(state, index, first, following)
    amount, cost = monthly_revenue(
        stream(config.seed, Stream.REVENUE, month),
        segment,
        plan,
        log_size,
        np.maximum(first - c.signup_day[index], 0) / DAYS_PER_MONTH,
        satisfaction,
        conditions.log_price,
        calendar.calendar_month(month),
        params,
    )
    bill_day = np.clip(first + c.billing_day[index].astype(np.int32) - 1, low, high)
    events.transactions.append(TransactionBatch(index, bill_day, amount, cost))

    rng = stream(config.seed, Stream.SURVEYS, month)
    answering = (
        survey_respondents(rng, typical_log_revenue(segment, plan, log_size, params), params)
        if calendar.calendar_month(month) in params.surveys.months_of_year
        else np.zeros(len(index), dtype=bool)
    )
    events.surveys.append(
        SurveyBatch(
            index[answering],
            random_days(rng, low[answering], high[answering]),
            answer_grades(rng, experience[answering], params),
        )
    )

    state.churn_log_odds[index] = _churn_state(
        c, index, experience, satisfaction, state.grievance[index], conditions, params
    )
    hidden = (
        np.column_stack(
            [satisfaction, experience[:, PRICE], state.grievance[index], c.frailty[index]]
        )
        if config.hidden_state
        else np.empty((len(index), 0), np.float32)
    )
    events.truth.append(_truth(state, index, hidden, following, horizon_months, params))
    return len(index), len(complaints.customer)


def _truth(
    state: State,
    index: np.ndarray,
    hidden: np.ndarray,
    as_of: int,
    horizon_months: float,
    params: WorldParameters,
) -> TruthBatch:
    """True churn probabilities of customers `index` still active on day `as_of`.

    hidden: one row per customer of `index` (HIDDEN_STATE_COLUMNS, or no columns); the rows
    of those still active are kept.
    """
    staying_mask = state.cancel_day[index] >= as_of
    staying = index[staying_mask]
    churn_state = state.churn_log_odds[staying]
    tenure = (as_of - state.customers.signup_day[staying]) / DAYS_PER_MONTH
    probability = horizon_probability(churn_state, tenure, horizon_months, params)
    survival = np.column_stack(
        [
            np.exp(log_survival(churn_state, tenure, months, params))
            for months in TRUE_SURVIVAL_MONTHS
        ]
    ).astype(np.float32)
    return TruthBatch(
        staying,
        np.full(len(staying), as_of, np.int32),
        probability,
        survival.reshape(len(staying), len(TRUE_SURVIVAL_MONTHS)),
        hidden[staying_mask].astype(np.float32, copy=False),
    )

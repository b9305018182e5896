"""Turn the simulation's arrays into the raw tables of the data contract (schema.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

from zerochurn.contract.schema import COMPLAINTS, CUSTOMERS, SURVEY_DIMENSIONS, SURVEY_ITEMS
from zerochurn.contract.schema import SURVEYS as SURVEYS_SPEC
from zerochurn.contract.schema import TRANSACTIONS as TRANSACTIONS_SPEC
from zerochurn.synthetic.calendar import NO_DAY, days_to_datetime
from zerochurn.synthetic.complaints import ComplaintBatch
from zerochurn.synthetic.experience import GRADES
from zerochurn.synthetic.parameters import WorldParameters
from zerochurn.synthetic.population import Customers
from zerochurn.synthetic.surveys import ITEM_DIMENSION


@dataclass(frozen=True)
class TransactionBatch:
    """Monthly bills: customer index, int32 day number, amount and cost (float64)."""

    customer: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    cost: np.ndarray


@dataclass(frozen=True)
class SurveyBatch:
    """Questionnaires: customer index, int32 day answered, grade codes of shape (n, 22)."""

    customer: np.ndarray
    day: np.ndarray
    grades: np.ndarray


TRUE_SURVIVAL_MONTHS = (3, 6, 12)
"""Months t of the true survival S(t) in the ground truth (true_survival_<t>m)."""

HIDDEN_STATE_COLUMNS = ("satisfaction", "price_experience", "grievance", "frailty")
"""Hidden churn drivers a ground truth can carry, in the order of TruthBatch.hidden."""


@dataclass(frozen=True)
class TruthBatch:
    """True churn probabilities: customer index, int32 as-of day, probability (float64).

    survival: float32, shape (n, len(TRUE_SURVIVAL_MONTHS)), the chance of still being a
    customer after each of those months. hidden: float32, shape (n, len(HIDDEN_STATE_COLUMNS)) with each customer's hidden churn
    drivers on the as-of day, or shape (n, 0) when they are not recorded.
    """

    customer: np.ndarray
    as_of_day: np.ndarray
    probability: np.ndarray
    survival: np.ndarray
    hidden: np.ndarray


Batch = TypeVar("Batch", TransactionBatch, SurveyBatch, TruthBatch, ComplaintBatch)


def concat_batches(batches: Sequence[Batch]) -> Batch:
    """One batch holding the entries of `batches` (at least one), in order."""
    kind = type(batches[0])
    return kind(
        **{f.name: np.concatenate([getattr(b, f.name) for b in batches]) for f in fields(kind)}
    )


def _labels(prefix: str, count: int) -> pa.Array:
    """Ids prefix00000001, prefix00000002, ... as an Arrow string array."""
    return pa.array([f"{prefix}{i:08d}" for i in range(1, count + 1)], type=pa.large_string())


def _ids(labels: pa.Array, index: np.ndarray) -> pd.Series:
    return pd.Series(labels.take(pa.array(index)), dtype="str")


def _codes(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=list(names))


def customer_labels(count: int) -> pa.Array:
    """Customer ids: customer index i gets C{i+1:08d}."""
    return _labels("C", count)


def customers_table(
    customers: Customers, cancel_day: np.ndarray, customer_ids: pa.Array, params: WorldParameters
) -> pd.DataFrame:
    """The customers table, in customer index order."""
    pop = params.population
    frame = pd.DataFrame(
        {
            "customer_id": _ids(customer_ids, np.arange(len(customers))),
            "signup_date": days_to_datetime(customers.signup_day),
            "region": pd.Series(_codes(customers.region, list(pop.regions))).astype("str"),
            "segment": pd.Series(_codes(customers.segment, list(pop.segments))).astype("str"),
            "plan": pd.Series(_codes(customers.plan, list(pop.plans))).astype("str"),
            "cancel_date": days_to_datetime(cancel_day),
        },
        copy=False,
    )
    return frame[[c.name for c in CUSTOMERS.columns]]


def transactions_table(batch: TransactionBatch, customer_ids: pa.Array) -> pd.DataFrame:
    """The transactions table: one bill per customer per active month."""
    frame = pd.DataFrame(
        {
            "customer_id": _ids(customer_ids, batch.customer),
            "date": days_to_datetime(batch.day),
            "amount": batch.amount,
            "cost": batch.cost,
        },
        copy=False,
    )
    return frame[[c.name for c in TRANSACTIONS_SPEC.columns]]


def surveys_table(batch: SurveyBatch, customer_ids: pa.Array) -> pd.DataFrame:
    """The surveys table: 22 rows (one per item) per questionnaire; grades as letters."""
    items = len(SURVEY_ITEMS)
    item = np.tile(np.arange(items, dtype=np.int8), len(batch.customer))
    frame = pd.DataFrame(
        {
            "customer_id": _ids(customer_ids, np.repeat(batch.customer, items)),
            "date": days_to_datetime(np.repeat(batch.day, items)),
            "item": _codes(item, list(SURVEY_ITEMS)),
            "dimension": _codes(ITEM_DIMENSION[item], SURVEY_DIMENSIONS),
            "grade": _codes(batch.grades.ravel(), GRADES),
        },
        copy=False,
    )
    return frame[[c.name for c in SURVEYS_SPEC.columns]]


def complaints_table(
    batch: ComplaintBatch, customer_ids: pa.Array, end_day: int, params: WorldParameters
) -> pd.DataFrame:
    """The complaints table; resolutions and follow-ups on or after `end_day` are blank.

    Complaint j gets id K{j+1:08d}.
    """
    cp = params.complaints
    resolved = np.where(batch.resolved_day >= end_day, NO_DAY, batch.resolved_day)
    followed = np.where(batch.followed_up_day >= end_day, NO_DAY, batch.followed_up_day)
    grade = np.where(followed == NO_DAY, -1, batch.followup_grade)
    frame = pd.DataFrame(
        {
            "complaint_id": _ids(_labels("K", len(batch.customer)), np.arange(len(batch.customer))),
            "customer_id": _ids(customer_ids, batch.customer),
            "opened_at": days_to_datetime(batch.opened_day),
            "channel": _codes(batch.channel, list(cp.channels)),
            "category": _codes(batch.category, list(cp.categories)),
            "department": _codes(batch.department, list(cp.departments)),
            "due_at": days_to_datetime(batch.due_day),
            "resolved_at": days_to_datetime(resolved),
            "followed_up_at": days_to_datetime(followed),
            "followup_grade": _codes(grade, GRADES),
        },
        copy=False,
    )
    return frame[[c.name for c in COMPLAINTS.columns]]


def ground_truth_table(
    batch: TruthBatch, customer_ids: pa.Array, horizon_days: int
) -> pd.DataFrame:
    """customer_id, as_of, horizon_days, true_probability: one row per active customer-month;
    then true_survival_<t>m for t in TRUE_SURVIVAL_MONTHS.

    When the batch records hidden state, its HIDDEN_STATE_COLUMNS follow (latent units;
    grievance in the complaint grievance stock, frailty in churn log-odds).
    """
    recorded = HIDDEN_STATE_COLUMNS if batch.hidden.shape[1] else ()
    hidden = {name: batch.hidden[:, i] for i, name in enumerate(recorded)}
    return pd.DataFrame(
        {
            "customer_id": _ids(customer_ids, batch.customer),
            "as_of": days_to_datetime(batch.as_of_day),
            "horizon_days": np.full(len(batch.customer), horizon_days, dtype=np.int32),
            "true_probability": batch.probability,
        }
        | {f"true_survival_{t}m": batch.survival[:, i] for i, t in enumerate(TRUE_SURVIVAL_MONTHS)}
        | hidden,
        copy=False,
    )

"""RawData: the four raw tables after loading, with normalised column types."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


def data_end(last_transaction: pd.Timestamp) -> pd.Timestamp:
    """First day after data whose latest transaction is at `last_transaction`."""
    return last_transaction.normalize() + pd.Timedelta(days=1)


@dataclass(frozen=True)
class RawData:
    """The raw tables of one dataset, validated and normalised.

    customers: customer_id (str), signup_date (datetime64), region (category), segment
        (category), plan (category, optional column), cancel_date (datetime64, NaT while
        active).
    transactions: customer_id (category), date (datetime64), amount (float64, >= 0),
        cost (float64, optional column).
    surveys: customer_id (category), date, item (category), dimension (category), score
        (int64 in 25/50/75/100).
    complaints: complaint_id (str), customer_id (category), opened_at, channel, category,
        department (category each), due_at, resolved_at (NaT while open), followed_up_at
        (NaT if none), followup_score (float64 in 25..100, NaN if none).
    category: a pandas categorical whose categories are the distinct values as sorted str,
    NaN where missing. Filtered rows (`cut`) keep every category, so group such columns
    with observed=True.
    Only customers and transactions are required; the optional tables are None when absent.
    customers_derived: the folder had no customers table, so customers was derived from
    transactions (contract/derive.py): customer_id, signup_date = first transaction,
    cancel_date all NaT, no region, segment or plan.
    """

    customers: pd.DataFrame
    transactions: pd.DataFrame
    surveys: pd.DataFrame | None = None
    complaints: pd.DataFrame | None = None
    customers_derived: bool = False

    @property
    def end(self) -> pd.Timestamp:
        """First day after the data: the day after the latest transaction.

        Labels need their whole horizon before this day.
        """
        return data_end(self.transactions["date"].max())

    def cut(self, as_of: pd.Timestamp) -> RawData:
        """What was known strictly before `as_of`: later rows dropped, later outcomes blanked.

        Used to prove point-in-time correctness: features at T from `cut(T)` must equal
        features at T from the full data.
        """
        as_of = pd.Timestamp(as_of)
        customers = self.customers[self.customers["signup_date"] < as_of]
        customers = customers.assign(
            cancel_date=customers["cancel_date"].where(customers["cancel_date"] < as_of)
        )
        transactions = self.transactions[self.transactions["date"] < as_of]
        surveys = None if self.surveys is None else self.surveys[self.surveys["date"] < as_of]
        complaints = None
        if self.complaints is not None:
            complaints = self.complaints[self.complaints["opened_at"] < as_of]
            resolved = complaints["resolved_at"] < as_of
            followed = complaints["followed_up_at"] < as_of
            complaints = complaints.assign(
                resolved_at=complaints["resolved_at"].where(resolved),
                followed_up_at=complaints["followed_up_at"].where(followed),
                followup_score=complaints["followup_score"].where(followed),
            )
        return RawData(customers, transactions, surveys, complaints, self.customers_derived)

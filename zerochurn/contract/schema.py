"""The raw data contract: tables, columns, types and the survey questionnaire.

docs/data-contract.md describes the same rules for people; this module is what the
code enforces. Every other module takes table and column names from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["id", "string", "date", "money", "grade"]
"""id: non-empty text; string: text; date: parseable calendar date or timestamp, on or
before the data's as-of date unless the column is `planned`; money: number >= 0; grade:
A/B/C/D or 100/75/50/25."""


def data_as_of(configured: dt.date | None) -> dt.date:
    """The data's as-of date: the configured one (data.as_of), else today in UTC.

    No event in the data may be dated after it (every date column but `planned` ones).
    """
    return configured if configured is not None else dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a raw table.

    planned: a date column holding a plan (a due date), which may lie after the data's
    as-of date; every other date records an event, which cannot.
    """

    name: str
    kind: ColumnKind
    required: bool = True
    nullable: bool = False
    description: str = ""
    planned: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One raw table: its file stem, columns and whether the dataset needs it."""

    name: str
    columns: tuple[ColumnSpec, ...]
    required: bool
    description: str

    def column(self, name: str) -> ColumnSpec:
        """The spec of column `name`."""
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name} has no column {name!r}")


SURVEY_DIMENSIONS = (
    "product_quality",
    "price",
    "assortment",
    "staff_attitude",
    "invoicing",
    "logistics",
    "problem_handling",
    "complaint_handling",
    "business_process",
)
"""The survey dimensions (domain.md section 1); the items of each are in SURVEY_ITEMS."""

GRADE_SCORES: dict[str, int] = {"A": 100, "B": 75, "C": 50, "D": 25}
"""The four survey grades and their scores on the 25..100 scale (domain.md section 1)."""

SURVEY_ITEMS: dict[str, str] = {
    # item -> dimension; 22 items in the 9 dimensions of SURVEY_DIMENSIONS.
    "product_quality": "product_quality",
    "product_shelf_life": "product_quality",
    "packaging_condition": "product_quality",
    "price_level": "price",
    "payment_terms": "price",
    "assortment_breadth": "assortment",
    "order_fulfilment_rate": "assortment",
    "invoicing_clerk_attitude": "staff_attitude",
    "sales_rep_attitude": "staff_attitude",
    "delivery_driver_attitude": "staff_attitude",
    "freight_station_attitude": "staff_attitude",
    "invoicing_accuracy": "invoicing",
    "invoicing_proficiency": "invoicing",
    "delivery_speed": "logistics",
    "delivery_punctuality": "logistics",
    "order_lead_time": "logistics",
    "problem_handling_timeliness": "problem_handling",
    "problem_resolution_quality": "problem_handling",
    "complaint_handling": "complaint_handling",
    "complaint_followup": "complaint_handling",
    "ordering_process": "business_process",
    "returns_process": "business_process",
}

CUSTOMERS = TableSpec(
    name="customers",
    # Without a customers file, the loader derives it from transactions (contract/derive.py).
    required=False,
    description="One row per customer; derived from transactions when there is no file.",
    columns=(
        ColumnSpec("customer_id", "id", description="Unique customer key."),
        ColumnSpec("signup_date", "date", description="Start of the relationship."),
        ColumnSpec("region", "string", description="Sales region."),
        ColumnSpec("segment", "string", description="Customer type."),
        ColumnSpec("plan", "string", required=False, nullable=True, description="Tariff."),
        ColumnSpec(
            "cancel_date",
            "date",
            nullable=True,
            description="Contractual churn event; empty while the customer stays.",
        ),
    ),
)

TRANSACTIONS = TableSpec(
    name="transactions",
    required=True,
    description="Revenue events; one row per invoice, order or monthly bill.",
    columns=(
        ColumnSpec("customer_id", "id", description="Key into customers."),
        ColumnSpec("date", "date", description="Day of the transaction."),
        ColumnSpec("amount", "money", description="Revenue, >= 0."),
        ColumnSpec("cost", "money", required=False, description="Cost; margin = amount - cost."),
    ),
)

SURVEYS = TableSpec(
    name="surveys",
    required=False,
    description="Answers to the quarterly 22-item satisfaction survey, one row per item.",
    columns=(
        ColumnSpec("customer_id", "id", description="Key into customers."),
        ColumnSpec("date", "date", description="Day the questionnaire was answered."),
        ColumnSpec("item", "string", description="One of the 22 survey items."),
        ColumnSpec("dimension", "string", description="The item's dimension."),
        ColumnSpec(
            "grade", "grade", description="A/B/C/D or 100/75/50/25; stored as score (25..100)."
        ),
    ),
)

COMPLAINTS = TableSpec(
    name="complaints",
    required=False,
    description="Complaints and how they were handled (domain.md section 2).",
    columns=(
        ColumnSpec("complaint_id", "id", description="Unique complaint key."),
        ColumnSpec("customer_id", "id", description="Key into customers."),
        ColumnSpec("opened_at", "date", description="When the complaint was logged."),
        ColumnSpec("channel", "string", description="hotline, email, sales_rep, ..."),
        ColumnSpec("category", "string", description="What the complaint is about."),
        ColumnSpec("department", "string", description="Owning department it was routed to."),
        ColumnSpec("due_at", "date", planned=True, description="Resolution due date."),
        ColumnSpec("resolved_at", "date", nullable=True, description="Empty while unresolved."),
        ColumnSpec(
            "followed_up_at", "date", nullable=True, description="Follow-up call; empty if none."
        ),
        ColumnSpec(
            "followup_grade",
            "grade",
            nullable=True,
            description="Satisfaction with the resolution, A-D or 25..100; stored as score.",
        ),
    ),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (CUSTOMERS, TRANSACTIONS, SURVEYS, COMPLAINTS)}
"""Every raw table by name: customers, transactions, then the optional tables."""

TABLE_SUFFIXES = (".parquet", ".csv")
"""File formats a raw table may come in, in order of preference."""

"""The at-risk list's filter form: from the page's query string to the API's at-risk query.

The form's fields are those of the JSON API's /at_risk request (region, segment, plan,
tier, min_value, min_churn_index, id_prefix, sort), validated by the same request model,
so the page and the API accept and refuse the same filters; `page` picks the page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError

from zerochurn.model.value import LOW_TIER
from zerochurn.serving.scoring import PROFILE_COLUMNS
from zerochurn.serving.store import SORT_ORDERS, AtRiskQuery, SnapshotStore

FILTER_FIELDS = (
    "region",
    "segment",
    "plan",
    "tier",
    "min_value",
    "min_churn_index",
    "id_prefix",
    "sort",
)
"""Query-string fields of the form, named as in the /at_risk request."""
PAGE_FIELD = "page"


@dataclass(frozen=True)
class FilterForm:
    """The form as submitted: its non-empty fields, the page asked for and the query.

    query is None when a field is invalid; errors then say which and why.
    """

    values: dict[str, str]
    page: int
    query: AtRiskQuery | None
    errors: tuple[str, ...]

    def link(self, page: int) -> str:
        """The query string of this form's filters on page `page`."""
        values = dict(self.values)
        if page > 1:
            values[PAGE_FIELD] = str(page)
        return urlencode(values)

    def filters_only(self) -> str:
        """The query string of the filters without the page (the CSV export's)."""
        return urlencode(self.values)


def _page(text: str | None) -> int:
    try:
        return max(int(text or 1), 1)
    except ValueError:
        return 1


def _error(error: dict) -> str:
    field = ".".join(str(part) for part in error["loc"])
    return f"{field.replace('_', ' ')}: {error['msg']}"


def parse_form(
    params: Mapping[str, str], request_model: type[BaseModel], page_size: int
) -> FilterForm:
    """Read the filters from `params` and validate them as an /at_risk request would be.

    A page is page_size customers; page numbers start at 1 (a bad one reads as 1).
    """
    values = {name: params[name].strip() for name in FILTER_FIELDS if params.get(name, "").strip()}
    page = _page(params.get(PAGE_FIELD))
    try:
        request = request_model.model_validate(  # lax: a form's numbers come as text
            {**values, "limit": page_size, "offset": (page - 1) * page_size}, strict=False
        )
    except ValidationError as exc:
        return FilterForm(values, page, None, tuple(_error(error) for error in exc.errors()))
    return FilterForm(values, page, AtRiskQuery(**request.model_dump()), ())


def pages(total: int, page_size: int) -> int:
    """Pages of page_size needed for `total` customers (at least one)."""
    return max(math.ceil(total / page_size), 1)


def filter_options(store: SnapshotStore, tiers: tuple[str, ...]) -> dict[str, list[str]]:
    """The choices of each select field: the groups of the latest batch per profile column
    (from its segment table), the risk tiers (`tiers` above "low") and the orders the scores
    allow, the default first (expected saved value once a validated uplift model scored
    them)."""
    options = {by: store.segments(by)["group"].astype(str).tolist() for by in PROFILE_COLUMNS}
    options["tier"] = [LOW_TIER, *tiers]
    columns, default = store.score_columns(), store.default_sort()
    options["sort"] = [default, *(s for s in SORT_ORDERS if s != default and s in columns)]
    return options

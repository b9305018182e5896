"""The prediction log's one typed schema: every writer records it, every reader applies it.

A logged column is of one of five types. The keys and outputs are fixed for every model
(`FIXED_TYPES`: ``as_of`` is a date whoever wrote it); feature columns take the type of
the model's feature kind (numeric -> number, categorical -> text); any other column is
typed by its dtype. Each batch records the types of its columns, and `read` gives every
column back as its type, so rows of the service, of batch scoring and of older log lines
compare and join alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

import pandas as pd

ColumnType = Literal["text", "number", "integer", "flag", "date"]
"""text: str; number: float64; integer: Int64; flag: boolean; date: datetime64."""
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)

FIXED_TYPES: dict[str, ColumnType] = {
    "customer_id": "text",
    "as_of": "date",
    "churn_probability": "number",
    "churn_index": "integer",
    "risk_tier": "text",
    "value_at_risk": "number",
}
"""Types of the columns every batch may carry, whatever the model: keys and outputs."""

_PANDAS_TYPES: dict[str, str] = {
    "text": "str",
    "number": "float64",
    "integer": "Int64",
    "flag": "boolean",
}


def inferred_type(series: pd.Series) -> ColumnType:
    """The log type of a column no schema names, from its dtype."""
    if pd.api.types.is_bool_dtype(series):
        return "flag"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    return "text"


def cast(series: pd.Series, kind: ColumnType) -> pd.Series:
    """`series` as log type `kind`; missing values stay missing.

    Raises ValueError naming the column and the first value that is not of that type.
    """
    try:
        if kind == "date":
            if pd.api.types.is_datetime64_any_dtype(series):
                return series
            return pd.to_datetime(series, format="ISO8601")
        if kind in ("number", "integer") and not pd.api.types.is_numeric_dtype(series):
            series = pd.to_numeric(series)
        wanted = _PANDAS_TYPES[kind]
        return series if series.dtype == wanted else series.astype(wanted)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"prediction log column {series.name!r}: expected {kind} ({exc})") from exc


@dataclass(frozen=True)
class LogSchema:
    """Types of the columns a model's scores are logged with.

    types: column -> ColumnType for the model's features; FIXED_TYPES are always added
    and win. A column named nowhere is typed by its dtype (`inferred_type`).
    """

    types: Mapping[str, ColumnType] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = {name: kind for name, kind in self.types.items() if kind not in COLUMN_TYPES}
        if unknown:
            raise ValueError(f"unknown log column types {unknown}: expected {COLUMN_TYPES}")
        object.__setattr__(self, "types", {**self.types, **FIXED_TYPES})

    @classmethod
    def for_features(cls, names: Iterable[str], kinds: Iterable[str]) -> LogSchema:
        """The schema of a model's features: kind "numeric" -> number, any other -> text."""
        return cls(
            {
                name: "number" if kind == "numeric" else "text"
                for name, kind in zip(names, kinds, strict=True)
            }
        )

    def types_of(self, frame: pd.DataFrame) -> dict[str, ColumnType]:
        """The type of each column of `frame`, in its order."""
        return {
            str(name): self.types.get(str(name)) or inferred_type(frame[name])
            for name in frame.columns
        }


def typed(frame: pd.DataFrame, types: Mapping[str, ColumnType]) -> pd.DataFrame:
    """`frame` with each column `types` names cast to its type (others as they are)."""
    changed = {
        name: column
        for name, kind in types.items()
        if name in frame and (column := cast(frame[name], kind)) is not frame[name]
    }
    return frame.assign(**changed) if changed else frame

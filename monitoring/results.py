"""Read an Evidently Snapshot's results by metric type and column, never by list position.

Works on ``Snapshot.dict()`` (or ``json.loads(Snapshot.json())``) of Evidently 0.7: a
"metrics" list whose entries carry ``config.type`` (and ``config.column``) and a "tests"
list whose entries point at their metric through ``metric_config.metric_id``. A column's
drift verdict exists only in its test, so tests are joined to metrics on that id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VALUE_DRIFT = "evidently:metric_v2:ValueDrift"
MEAN_VALUE = "evidently:metric_v2:MeanValue"
DATASET_METRICS = {
    "evidently:metric_v2:RocAuc": "roc_auc",
    "evidently:metric_v2:LogLoss": "log_loss",
    "evidently:metric_v2:RowCount": "rows",
}
"""Metric types with one value for the whole dataset, and the name they are read under."""

PASSED = "SUCCESS"
FAILED = "FAIL"


@dataclass(frozen=True)
class ColumnDrift:
    """Drift of one column: the distance, its threshold and the verdict.

    score and threshold are None when the column could not be measured (no values).
    """

    column: str
    method: str
    score: float | None
    threshold: float | None
    drifted: bool


@dataclass(frozen=True)
class ReportResults:
    """What one snapshot says.

    drift: per column, from ValueDrift metrics and their tests.
    scores: dataset metrics by name (roc_auc, log_loss, rows) when present.
    means: MeanValue per column when present.
    """

    drift: dict[str, ColumnDrift]
    scores: dict[str, float]
    means: dict[str, float]


def _status(value: Any) -> str:
    """A test status as text (dict() gives a str enum, json() plain text)."""
    return str(getattr(value, "value", value))


def _one_per_key(kind: str, key: str, seen: Mapping[str, Any]) -> None:
    if key in seen:
        raise ValueError(f"snapshot has two {kind} metrics for {key!r}: expected one")


def read_results(snapshot: Mapping[str, Any]) -> ReportResults:
    """The drift of each column, the dataset scores and the column means of a snapshot.

    Metric types not listed in this module are ignored. Raises ValueError when a
    ValueDrift has no test (run the report with include_tests=True), a test ended other
    than SUCCESS or FAIL, or a metric appears twice for the same column.
    """
    statuses: dict[str, list[str]] = {}
    for test in snapshot.get("tests", []):
        metric_id = test["metric_config"]["metric_id"]
        statuses.setdefault(metric_id, []).append(_status(test["status"]))
    drift: dict[str, ColumnDrift] = {}
    scores: dict[str, float] = {}
    means: dict[str, float] = {}
    for metric in snapshot["metrics"]:
        config = metric["config"]
        kind = config["type"]
        if kind == VALUE_DRIFT:
            column = config["column"]
            _one_per_key("ValueDrift", column, drift)
            found = statuses.get(metric["id"], [])
            if len(found) != 1:
                raise ValueError(
                    f"ValueDrift of {column!r} has {len(found)} tests: expected 1 "
                    "(run the report with include_tests=True)"
                )
            if found[0] not in (PASSED, FAILED):
                raise ValueError(
                    f"drift test of {column!r} ended {found[0]}: expected {PASSED} or {FAILED}"
                )
            drift[column] = ColumnDrift(
                column=column,
                method=str(config["method"]),
                score=float(metric["value"]),
                threshold=float(config["threshold"]),
                drifted=found[0] == FAILED,
            )
        elif kind == MEAN_VALUE:
            _one_per_key("MeanValue", config["column"], means)
            means[config["column"]] = float(metric["value"])
        elif kind in DATASET_METRICS:
            name = DATASET_METRICS[kind]
            _one_per_key(kind, name, scores)
            scores[name] = float(metric["value"])
    return ReportResults(drift=drift, scores=scores, means=means)


def drift_metric_ids(snapshot: Mapping[str, Any]) -> dict[str, str]:
    """The id of each column's ValueDrift metric in ``Snapshot.dict()``, by column.

    Evidently links every widget of a report to the id of the metric it shows, so the
    page can be laid out by column (monitoring/page.py).
    """
    ids: dict[str, str] = {}
    for metric in snapshot["metrics"]:
        config = metric["config"]
        if config["type"] == VALUE_DRIFT:
            _one_per_key("ValueDrift", config["column"], ids)
            ids[config["column"]] = metric["id"]
    return ids

"""The drift report as people open it: the run's summary first, then the most drifted columns.

Evidently lays a report out in the order its metrics were computed, the champion's
feature order, so drift.html would open on the first feature's plot, drifted or not.
`drift_page` gives the same report with a summary on top (the share of drifted features
against the policy's threshold, the prediction's drift, the decision, what was compared
and the most drifted features) and the columns' own plots below it, most drifted first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zerochurn.features.catalog import column_spec
from zerochurn.monitoring.drift import severity
from zerochurn.monitoring.results import drift_metric_ids
from zerochurn.monitoring.summary import MonitoringSummary

if TYPE_CHECKING:
    from evidently.core.report import Snapshot

TOP_FEATURES = 15
"""Drifted features listed in the summary's table; every column's plot follows below."""


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


def headline(summary: MonitoringSummary) -> list[dict[str, Any]]:
    """The summary widgets of a run, as Evidently widget dicts (counters, text, table)."""
    from evidently.legacy.renderers.html_widgets import (
        CounterData,
        counter,
        table_data,
        text_widget,
    )

    drift, prediction = summary.data_drift, summary.prediction_drift.drift
    decision = summary.decision
    until = "" if decision.hold is None else f" until {decision.hold.until}"
    counters = [
        CounterData(
            "drifted features",
            f"{len(drift.drifted)} of {len(drift.columns)} ({drift.share:.0%})",
        ),
        CounterData("the policy retrains at", f"{drift.threshold:.0%}"),
        CounterData(
            "prediction drift",
            f"{_number(prediction.score)} ({prediction.method}, threshold {prediction.threshold:g})",
        ),
        CounterData("decision", f"{decision.action}{until}"),
    ]
    reasons = "\n".join(f"- {reason}" for reason in decision.reasons)
    text = f"**Compared** {summary.compared}.\n\n**Decision: {decision.action}**\n\n{reasons}"
    drifted = sorted(
        (entry for entry in drift.columns if entry.drifted), key=severity, reverse=True
    )[:TOP_FEATURES]
    rows = [
        [
            entry.column,
            column_spec(entry.column).group,
            entry.method,
            _number(entry.score),
            _number(entry.threshold),
        ]
        for entry in drifted
    ]
    widgets = [
        counter(title=f"Drift of model version {summary.model.version}", counters=counters),
        text_widget(title="What was compared and decided", text=text),
        table_data(
            title=f"Most drifted features ({len(rows)} of {len(drift.drifted)})",
            column_names=["feature", "group", "method", "score", "threshold"],
            data=rows,
        ),
    ]
    return [widget.dict() for widget in widgets]


def drift_page(snapshot: Snapshot, summary: MonitoringSummary) -> Snapshot:
    """The drift report with `headline` first and the columns most drifted first.

    The prediction's drift comes first among the columns, then the features in the
    summary's order (most drifted first); widgets of any other metric keep their place
    after them.
    """
    from evidently.core.report import Snapshot

    ids = drift_metric_ids(snapshot.dict())
    order = [summary.prediction_drift.drift, *summary.data_drift.columns]
    rank = {ids[entry.column]: place for place, entry in enumerate(order) if entry.column in ids}

    def place(widget: dict[str, Any]) -> int:
        linked = widget.get("linked_metrics") or []
        return min((rank[metric] for metric in linked if metric in rank), default=len(rank))

    data = snapshot.dump_dict()
    data["widgets"] = headline(summary) + sorted(data["widgets"], key=place)
    return Snapshot.load_dict(data)

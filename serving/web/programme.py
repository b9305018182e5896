"""The distributor's programme pages: the satisfaction and complaint reports, as web pages.

The figures are those of `zerochurn report` and nothing else: `programme_reports` calls
the report functions of zerochurn/reports on the raw data, and `report_view` turns a
`Report` into what a page shows through the report's own JSON form (`report_json`), cell
formatting (`format_value`) and charts (its matplotlib figures, written once as SVG).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from zerochurn.configs.settings import Settings
from zerochurn.contract.dataset import RawData
from zerochurn.reports.complaints import complaints_report
from zerochurn.reports.html import Report, format_value, report_json
from zerochurn.reports.satisfaction import satisfaction_report
from zerochurn.serving.web.folder import SATISFACTION_GROUPS

SVG_PARAMS = {"svg.fonttype": "none", "svg.hashsalt": "zerochurn"}
"""Text stays text (small files, the page's fonts); element ids are the same on every run."""


@dataclass(frozen=True)
class Cell:
    """A formatted table cell; numeric cells are right-aligned."""

    text: str
    numeric: bool


@dataclass(frozen=True)
class TableView:
    """A report table: its caption, column labels and formatted rows (highlighted or not)."""

    name: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[bool, tuple[Cell, ...]], ...]


@dataclass(frozen=True)
class SectionView:
    """A part of a report page: heading, text, charts (keys of ReportView.charts), tables."""

    title: str
    text: str
    charts: tuple[str, ...]
    tables: tuple[TableView, ...]


@dataclass(frozen=True)
class ReportView:
    """A report ready to render: title, summary (label, text) pairs, sections, SVG charts."""

    title: str
    summary: tuple[tuple[str, str], ...]
    sections: tuple[SectionView, ...]
    charts: dict[str, str]


def _label(key: str) -> str:
    return key.replace("_", " ")


def _cell(key: str, value: Any) -> Cell:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return Cell(format_value(key, value), numeric)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(SVG_PARAMS):
        figure.savefig(buffer, format="svg")
    return buffer.getvalue()


def _table_view(
    name: str, caption: str, highlight: str | None, records: Iterable[dict]
) -> TableView:
    records = list(records)
    columns = [key for key in (records[0] if records else {}) if key != highlight]
    rows = tuple(
        (bool(highlight and record[highlight]), tuple(_cell(key, record[key]) for key in columns))
        for record in records
    )
    return TableView(name, caption, tuple(_label(key) for key in columns), rows)


def report_view(report: Report) -> ReportView:
    """What a page shows of `report`: the values of its JSON file, formatted as its HTML page.

    Charts are keyed "<section>-<figure>" (0-based), each an SVG document.
    """
    data = report_json(report)
    charts: dict[str, str] = {}
    sections = []
    for number, section in enumerate(report.sections):
        keys = []
        for figure_number, figure in enumerate(section.figures):
            key = f"{number}-{figure_number}"
            charts[key] = _svg(figure)
            keys.append(key)
        tables = tuple(
            _table_view(table.name, table.caption, table.highlight, data["tables"][table.name])
            for table in section.tables
        )
        sections.append(SectionView(section.title, section.text, tuple(keys), tables))
    summary = tuple(
        (_label(key), format_value(key, value)) for key, value in data["summary"].items()
    )
    return ReportView(report.title, summary, tuple(sections), charts)


def programme_reports(
    raw: RawData, settings: Settings
) -> tuple[dict[str, ReportView], dict[str, str]]:
    """The satisfaction report by each of SATISFACTION_GROUPS and the complaint report.

    Returns the views by name ("satisfaction-region", "satisfaction-segment",
    "complaints") and, for a report the data cannot give (no surveys or complaints table,
    customers without regions), the reason by the same name.
    """
    makers: dict[str, tuple[str, Callable[[], Report]]] = {
        f"satisfaction-{by}": (
            "surveys",
            partial(
                satisfaction_report,
                raw.surveys,
                raw.customers,
                quarter=None,
                config=settings.reports.model_copy(update={"group_by": by}),
                satisfied_score=settings.features.satisfied_score,
            ),
        )
        for by in SATISFACTION_GROUPS
    }
    makers["complaints"] = (
        "complaints",
        partial(
            complaints_report, raw.complaints, month=None, as_of=raw.end, config=settings.reports
        ),
    )
    views: dict[str, ReportView] = {}
    problems: dict[str, str] = {}
    for name, (table, make) in makers.items():
        if getattr(raw, table) is None:
            problems[name] = f"the data folder has no {table} table"
            continue
        try:
            views[name] = report_view(make())
        except ValueError as exc:  # the data cannot give this report; say why
            problems[name] = str(exc)
    return views, problems

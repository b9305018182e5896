"""One report, three files: a self-contained HTML page, the same figures as JSON, CSV tables.

Every report module builds a `Report` (headline figures, sections of text, charts and
tables); `write_report` writes it under a folder as `<name>.html` (inline CSS, charts as
base64 PNG, no external assets), `<name>.json` and one `<table name>.csv` per table, each
file atomically. The HTML tables are rendered from the JSON records themselves, and both
summaries from `summary_json`, so the page and the JSON cannot disagree.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from zerochurn.io import atomic_path, write_json, write_table

FIGURE_DPI = 100
"""Resolution of the embedded chart PNGs."""

MISSING = "n/a"
"""How the page shows a missing value (null in the JSON)."""

PERCENT_WORDS = frozenset({"rate", "share"})
"""A column or summary key holding one of these words is a fraction shown as a percentage."""

MONEY_WORDS = frozenset({"value", "margin", "cost"})
"""A column or summary key holding one of these words is money, shown without decimals."""

CHANGE_WORD = "change"
"""A key holding this word is a difference, shown with its sign (percentages in points)."""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; }
th { background: #f3f3f3; text-align: left; } td.number { text-align: right; }
tr.highlight td { background: #fde2e1; font-weight: bold; }
img { max-width: 100%; display: block; margin: 1rem 0; }
""".strip()


@dataclass(frozen=True)
class Table:
    """A table of a report.

    name: file stem of its CSV and key in the JSON's "tables" (e.g. "satisfaction_items");
    frame: the rows, with str, int, float or bool columns (NaN for missing numbers);
    highlight: a boolean column of frame marking the rows the page highlights, or None.
    """

    name: str
    caption: str
    frame: pd.DataFrame
    highlight: str | None = None


@dataclass(frozen=True)
class Section:
    """A part of a report page: a heading, a paragraph, charts, then tables."""

    title: str
    text: str = ""
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Report:
    """A whole report.

    name: file stem of the HTML and JSON (e.g. "satisfaction"); summary: the headline
    figures, key -> str, int, float, bool, None or a list of str.
    """

    name: str
    title: str
    summary: dict[str, Any]
    sections: tuple[Section, ...]

    @property
    def tables(self) -> tuple[Table, ...]:
        """Every table of every section, in page order."""
        return tuple(table for section in self.sections for table in section.tables)


def _words(key: str) -> set[str]:
    return set(key.split("_"))


def format_value(key: str, value: Any) -> str:
    """How the page shows `value` of column or summary key `key` (a JSON value).

    None: MISSING; bool: yes/no; list: comma-separated; numbers by the words of the key
    (PERCENT_WORDS: percent with one decimal, MONEY_WORDS: no decimals, other floats: one
    decimal), with a sign when the key holds CHANGE_WORD (percentages then in points).
    """
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, str):
        return value
    words = _words(key)
    sign = "+" if CHANGE_WORD in words else ""
    if words & PERCENT_WORDS:
        number = f"{value * 100:{sign},.1f}"
        return f"{number} pp" if sign else f"{number}%"
    if isinstance(value, int):
        return f"{value:{sign},d}"
    decimals = 0 if words & MONEY_WORDS else 1
    return f"{value:{sign},.{decimals}f}"


def _json_scalar(value: Any) -> Any:
    """A JSON-ready copy of one summary value: numpy scalars unwrapped, NaN and <NA> as None."""
    if isinstance(value, list | tuple):
        return [_json_scalar(item) for item in value]
    if value is None or pd.isna(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def summary_json(report: Report) -> dict[str, Any]:
    """The report's summary as JSON values."""
    return {key: _json_scalar(value) for key, value in report.summary.items()}


def table_records(table: Table) -> list[dict[str, Any]]:
    """The rows of `table` as JSON records (NaN as null), the form both outputs use."""
    return json.loads(table.frame.to_json(orient="records", double_precision=15))


def report_json(report: Report) -> dict[str, Any]:
    """Everything the report shows except its charts: name, title, summary and tables."""
    return {
        "report": report.name,
        "title": report.title,
        "summary": summary_json(report),
        "tables": {table.name: table_records(table) for table in report.tables},
    }


def figure_data_uri(figure: Figure) -> str:
    """`figure` as a PNG data URI, to embed without a separate file."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure_title(figure: Figure) -> str:
    return next((ax.get_title() for ax in figure.axes if ax.get_title()), "chart")


def _cell(key: str, value: Any, tag: str = "td") -> str:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    css = ' class="number"' if numeric else ""
    text = html.escape(format_value(key, value))
    return f'<{tag}{css} data-key="{html.escape(key)}">{text}</{tag}>'


def _label(key: str) -> str:
    return html.escape(key.replace("_", " "))


def _table_html(table: Table, records: Sequence[dict[str, Any]]) -> str:
    columns = [str(column) for column in table.frame.columns]
    shown = [column for column in columns if column != table.highlight]
    head = "".join(f"<th>{_label(column)}</th>" for column in shown)
    rows = []
    for record in records:
        css = ' class="highlight"' if table.highlight and record[table.highlight] else ""
        cells = "".join(_cell(column, record[column]) for column in shown)
        rows.append(f"<tr{css}>{cells}</tr>")
    return (
        f'<table id="{html.escape(table.name)}"><caption>{html.escape(table.caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _section_html(section: Section, tables: dict[str, list[dict[str, Any]]]) -> str:
    parts = [f"<h2>{html.escape(section.title)}</h2>"]
    if section.text:
        parts.append(f"<p>{html.escape(section.text)}</p>")
    parts += [
        f'<img alt="{html.escape(_figure_title(figure))}" src="{figure_data_uri(figure)}">'
        for figure in section.figures
    ]
    parts += [_table_html(table, tables[table.name]) for table in section.tables]
    return "<section>" + "\n".join(parts) + "</section>"


def render_html(report: Report) -> str:
    """The report as one HTML page with inline CSS and embedded charts, from its JSON form."""
    data = report_json(report)
    summary = "".join(
        f"<tr><th>{_label(key)}</th>{_cell(key, value)}</tr>"
        for key, value in data["summary"].items()
    )
    body = "\n".join(_section_html(section, data["tables"]) for section in report.sections)
    title = html.escape(report.title)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style></head>\n<body><h1>{title}</h1>\n"
        f'<section><h2>Summary</h2><table id="summary">{summary}</table></section>\n'
        f"{body}\n</body></html>\n"
    )


def write_report(report: Report, directory: Path) -> list[Path]:
    """Write `<name>.html`, `<name>.json` and `<table>.csv` per table under `directory`.

    Each file is written atomically; returns their paths, HTML first.
    """
    directory = Path(directory)
    page = directory / f"{report.name}.html"
    with atomic_path(page) as tmp:
        tmp.write_text(render_html(report), encoding="utf-8")
    paths = [page, write_json(report_json(report), directory / f"{report.name}.json")]
    paths += [write_table(t.frame, directory / f"{t.name}.csv") for t in report.tables]
    return paths

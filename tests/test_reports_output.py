"""Report files: self-contained HTML that agrees with the JSON, CSV tables, and the commands."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from typer.testing import CliRunner

from zerochurn.cli import app
from zerochurn.cli.reports import REPORTS_DIR, report_app
from zerochurn.reports.html import (
    MISSING,
    Report,
    Section,
    Table,
    format_value,
    render_html,
    write_report,
)

REPORT_FILES = {
    "satisfaction": [
        "satisfaction_items",
        "satisfaction_groups",
        "satisfaction_group_items",
        "satisfaction_quarters",
        "satisfaction_target",
    ],
    "complaints": ["complaints_month", "complaints_monthly"],
    "churn": [
        "churn_monthly",
        "churn_by_satisfaction",
        "churn_by_resolution",
        "churn_by_followup",
        "seed_lifetimes",
    ],
}


class _Cells(HTMLParser):
    """Every table of a page by id: its rows, each a list of (data-key, text) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self.highlighted: dict[str, list[bool]] = {}
        self.sources: list[str] = []
        self._table: str | None = None
        self._key: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.sources += [value or "" for name, value in attrs if name in ("src", "href")]
        if tag == "table":
            self._table = attributes["id"]
            self.tables[self._table], self.highlighted[self._table] = [], []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
            self.highlighted[self._table].append(attributes.get("class") == "highlight")
        elif tag == "td":
            self._key = attributes["data-key"]

    def handle_data(self, data: str) -> None:
        if self._key is not None and self._table is not None:
            self.tables[self._table][-1].append((self._key, data))
            self._key = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None


def _parse(page: str) -> _Cells:
    cells = _Cells()
    cells.feed(page)
    return cells


def _assert_self_contained(page: str, parsed: _Cells) -> None:
    assert parsed.sources, "expected embedded charts"
    assert all(source.startswith("data:image/png;base64,") for source in parsed.sources)
    assert not re.search(r"https?://|<link|<script", page)


def _assert_html_matches_json(page: str, data: dict) -> None:
    parsed = _parse(page)
    summary = [dict(row) for row in parsed.tables.pop("summary")]
    assert {k: v for row in summary for k, v in row.items()} == {
        key: format_value(key, value) for key, value in data["summary"].items()
    }
    assert parsed.tables.keys() == data["tables"].keys()
    for name, records in data["tables"].items():
        rows = [row for row in parsed.tables[name] if row]  # the header row has no td
        assert len(rows) == len(records), name
        for row, record in zip(rows, records, strict=True):
            for key, text in row:
                assert text == format_value(key, record[key]), (name, key)


def _literal_report() -> Report:
    figure = Figure()
    figure.subplots().set_title("A chart")
    frame = pd.DataFrame(
        {
            "name": ["<b>x</b>", "y"],
            "churn_rate": [0.125, np.nan],
            "rate_change": [0.015, -0.02],
            "value_lost": [1234.56, 0.0],
            "answers": [3, 1200],
            "mean_score": [66.666, 75.0],
            "weakest": [True, False],
        }
    )
    return Report(
        name="demo",
        title="Demo & co",
        summary={"count": np.int64(2), "share": np.float64(0.5), "names": ["a", "b"], "gap": None},
        sections=(
            Section("One", "Some text", (figure,), (Table("demo_rows", "Rows", frame, "weakest"),)),
        ),
    )


def test_format_value_by_key_words() -> None:
    assert format_value("churn_rate", 0.125) == "12.5%"
    assert format_value("on_time_rate_change", -0.025) == "-2.5 pp"
    assert format_value("mean_score_change", 3.25) == "+3.2"
    assert format_value("value_lost", 1234.56) == "1,235"
    assert format_value("open_backlog_change", 3) == "+3"
    assert format_value("answers", 1200) == "1,200"
    assert format_value("mean_score", 66.666) == "66.7"
    assert format_value("weakest", True) == "yes"
    assert format_value("weakest_items", ["a", "b"]) == "a, b"
    assert format_value("anything", None) == MISSING


def test_page_is_self_contained_escaped_and_highlighted() -> None:
    page = render_html(_literal_report())
    parsed = _parse(page)
    _assert_self_contained(page, parsed)
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "<title>Demo &amp; co</title>" in page
    assert parsed.highlighted["demo_rows"] == [False, True, False]  # header, x, y
    assert [key for key, _ in parsed.tables["demo_rows"][1]] == [
        "name",
        "churn_rate",
        "rate_change",
        "value_lost",
        "answers",
        "mean_score",
    ]  # the highlight column is not shown


def test_write_report_writes_html_json_and_csv(tmp_path: Path) -> None:
    report = _literal_report()
    paths = write_report(report, tmp_path)
    assert [path.name for path in paths] == ["demo.html", "demo.json", "demo_rows.csv"]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(p.name for p in paths)
    data = json.loads((tmp_path / "demo.json").read_text())
    assert data["summary"] == {"count": 2, "share": 0.5, "names": ["a", "b"], "gap": None}
    assert data["tables"]["demo_rows"][1]["churn_rate"] is None
    _assert_html_matches_json((tmp_path / "demo.html").read_text(), data)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "demo_rows.csv"), report.tables[0].frame, check_dtype=False
    )


@pytest.fixture(scope="module")
def cli():
    """The zerochurn app with the report commands, registered once."""
    if not any(group.name == "report" for group in app.registered_groups):
        app.add_typer(report_app, name="report")
    return CliRunner()


@pytest.fixture(scope="module")
def workspace(cli, tmp_path_factory) -> Path:
    """A small synthetic world: nine months, about 200 customers, every table."""
    root = tmp_path_factory.mktemp("reports")
    result = cli.invoke(
        app, ["--workspace", str(root), "generate", "--customers", "150", "--months", "9"]
    )
    assert result.exit_code == 0, result.output
    return root


@pytest.mark.parametrize("report", list(REPORT_FILES))
def test_commands_write_agreeing_files(cli, workspace: Path, report: str) -> None:
    result = cli.invoke(app, ["--workspace", str(workspace), "report", report])
    assert result.exit_code == 0, result.output
    folder = workspace / REPORTS_DIR
    for table in REPORT_FILES[report]:
        assert (folder / f"{table}.csv").is_file()
    page = (folder / f"{report}.html").read_text()
    data = json.loads((folder / f"{report}.json").read_text())
    assert list(data["tables"]) == REPORT_FILES[report]
    _assert_self_contained(page, _parse(page))
    _assert_html_matches_json(page, data)
    assert not list(folder.glob(".*.tmp"))


def test_options_reach_the_report(cli, workspace: Path) -> None:
    result = cli.invoke(
        app, ["--workspace", str(workspace), "report", "satisfaction", "--by", "segment"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((workspace / REPORTS_DIR / "satisfaction.json").read_text())
    assert data["summary"]["group_by"] == "segment"
    assert "segment" in data["tables"]["satisfaction_groups"][0]


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["satisfaction", "--quarter", "2024-3"], 2, "expected YYYYQn"),
        (["satisfaction", "--quarter", "2019Q1"], 1, "no answers in 2019Q1"),
        (["satisfaction", "--by", "plan"], 2, "reports.group_by"),
        (["complaints", "--month", "2024/01"], 2, "expected YYYY-MM"),
    ],
)
def test_bad_options(cli, workspace: Path, arguments, code, message) -> None:
    result = cli.invoke(app, ["--workspace", str(workspace), "report", *arguments])
    assert result.exit_code == code
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("report", "table"), [("satisfaction", "surveys"), ("complaints", "complaints")]
)
def test_missing_table_exits_1(cli, workspace: Path, tmp_path: Path, report, table) -> None:
    data = tmp_path / "data"
    shutil.copytree(workspace / "data", data, ignore=shutil.ignore_patterns(f"{table}.*"))
    result = cli.invoke(app, ["--workspace", str(tmp_path), "report", report, str(data)])
    assert result.exit_code == 1
    assert f"has no {table} table" in " ".join(result.output.split())

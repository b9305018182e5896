"""`zerochurn report ...`: the satisfaction, complaint and churn reports.

zerochurn.cli.app registers `report_app` with `app.add_typer(report_app, name="report")`.
Each command writes `<workspace>/reports/<report>.html`, `<report>.json` and one CSV per
table; only the Typer and Rich basics are imported here, the report code inside commands.
Without DATA_DIR a report reads the data folder the latest batch scores were built from
(recorded in the snapshot store), else the configured one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.markup import escape

from zerochurn.cli.common import DataDirArgument, load_raw_or_exit
from zerochurn.configs import Settings
from zerochurn.console import console, progress

if TYPE_CHECKING:
    import pandas as pd

    from zerochurn.contract.dataset import RawData
    from zerochurn.reports.html import Report

REPORTS_DIR = "reports"
"""Folder of the workspace the reports are written to."""

report_app = typer.Typer(
    help="Satisfaction, complaint and churn reports: HTML, CSV and JSON under <workspace>/reports.",
    no_args_is_help=True,
)

_Parsed = TypeVar("_Parsed")


def _fail(message: object) -> NoReturn:
    console.print(f"[red]error:[/] {escape(str(message))}")
    raise typer.Exit(1)


def _option(parse: Callable[[str], _Parsed], text: str | None, name: str) -> _Parsed | None:
    """`parse(text)`, None when the option was not given, a usage error when it is malformed."""
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=name) from exc


def _table(raw: RawData, name: str, source: Path, report: str) -> pd.DataFrame:
    """The optional table `name` of raw, or exit 1 saying the report needs it."""
    frame = getattr(raw, name)
    if frame is None:
        _fail(f"{source} has no {name} table: the {report} report needs {name}.parquet or .csv")
    return frame


def _build(title: str, make: Callable[[Callable[[str], None]], Report]) -> Report:
    """Run `make(progress callback)` under a spinner; a ValueError (bad data) exits 1."""
    try:
        with progress(title) as report:
            return make(report)
    except ValueError as exc:
        _fail(exc)


def _write(report: Report, settings: Settings) -> Path:
    """Write the report's files; return its HTML page."""
    from zerochurn.reports.html import write_report

    html, *others = write_report(report, settings.workspace / REPORTS_DIR)
    console.print(f"wrote {html} with {', '.join(path.name for path in others)}")
    return html


def data_dir_of(settings: Settings, given: Path | None) -> Path:
    """DATA_DIR when given, else the folder of the latest batch scores, else the configured one."""
    from zerochurn.serving.batch import snapshot_store
    from zerochurn.serving.store import SnapshotMissingError

    if given is not None:
        return given
    try:
        folder = snapshot_store(settings).info().data_dir
    except SnapshotMissingError:
        folder = None
    if folder is not None and Path(folder).is_dir():
        console.print(f"data: {folder} (the latest batch scores were built from it)")
        return Path(folder)
    return settings.data_dir


@report_app.command()
def satisfaction(
    ctx: typer.Context,
    data_dir: DataDirArgument = None,
    quarter: Annotated[
        str | None,
        typer.Option(help="Quarter to report, YYYYQn [default: the latest answered]."),
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="region or segment [default: reports.group_by].")
    ] = None,
) -> Path:
    """Survey scores per item and region or segment, quarter over quarter, against the target."""
    from zerochurn.reports.satisfaction import parse_quarter, satisfaction_report

    settings = ctx.obj.settings(**{"reports.group_by": by})
    period = _option(parse_quarter, quarter, "--quarter")
    source = data_dir_of(settings, data_dir)
    raw = load_raw_or_exit(settings, source)
    surveys = _table(raw, "surveys", source, "satisfaction")
    report = _build(
        "satisfaction report",
        lambda _: satisfaction_report(
            surveys,
            raw.customers,
            quarter=period,
            config=settings.reports,
            satisfied_score=settings.features.satisfied_score,
        ),
    )
    return _write(report, settings)


@report_app.command()
def complaints(
    ctx: typer.Context,
    data_dir: DataDirArgument = None,
    month: Annotated[
        str | None,
        typer.Option(help="Month to report, YYYY-MM [default: the latest with complaints]."),
    ] = None,
) -> Path:
    """The complaint process per department and month: volume, timeliness, follow-up, backlog."""
    from zerochurn.reports.complaints import complaints_report, parse_month

    settings = ctx.obj.settings()
    period = _option(parse_month, month, "--month")
    source = data_dir_of(settings, data_dir)
    raw = load_raw_or_exit(settings, source)
    table = _table(raw, "complaints", source, "complaints")
    report = _build(
        "complaints report",
        lambda _: complaints_report(table, month=period, as_of=raw.end, config=settings.reports),
    )
    return _write(report, settings)


@report_app.command()
def churn(ctx: typer.Context, data_dir: DataDirArgument = None) -> Path:
    """Monthly and annualised churn, by satisfaction and complaint outcome, and value lost."""
    from zerochurn.reports.churn import churn_report

    settings = ctx.obj.settings()
    raw = load_raw_or_exit(settings, data_dir)
    report = _build(
        "churn report",
        lambda step: churn_report(
            raw,
            churn=settings.churn,
            features=settings.features,
            config=settings.reports,
            progress=step,
        ),
    )
    return _write(report, settings)

"""Commands of the monitoring stage: `zerochurn monitor` and `zerochurn retrain`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zerochurn.cli.common import DataDirArgument, load_raw_or_exit
from zerochurn.cli.common import data_dir as data_dir_of
from zerochurn.cli.training import train_with_progress
from zerochurn.configs import Settings
from zerochurn.console import console, progress

if TYPE_CHECKING:
    from zerochurn.contract.dataset import RawData
    from zerochurn.monitoring.policy import Decision
    from zerochurn.monitoring.summary import MonitoringSummary

SinceOption = Annotated[
    dt.datetime | None,
    typer.Option(
        formats=["%Y-%m-%d"],
        help="Check prediction-log rows scored since this day, UTC "
        "(default: the last monitoring.window_days days).",
    ),
]
AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option(
        formats=["%Y-%m-%d"],
        help="Check the customers active at this date in the data, scored by the champion, "
        "instead of the prediction log (default with DATA_DIR: the end of the data).",
    ),
]
IfNeededOption = Annotated[
    bool,
    typer.Option(
        "--if-needed", help="Run the monitor first and train only when its policy says retrain."
    ),
]


def _check_and_save(
    settings: Settings,
    raw: RawData | None,
    *,
    from_data: bool,
    since: dt.datetime | None,
    as_of: dt.datetime | None,
) -> Decision:
    """Run one monitoring check, save it, print it; exit 1 when monitoring cannot run."""
    import pandas as pd

    from zerochurn.monitoring.champion import load_champion_context
    from zerochurn.monitoring.current import current_from_data, current_from_log
    from zerochurn.monitoring.errors import MonitoringError
    from zerochurn.monitoring.monitor import check
    from zerochurn.monitoring.precedent import load_precedent
    from zerochurn.monitoring.record import save

    now = dt.datetime.now(dt.UTC)
    try:
        with progress("monitoring") as report:
            report("loading the champion and its reference rows")
            champion = load_champion_context(settings)
            report("gathering the current rows")
            if from_data:
                when = raw.end if as_of is None else pd.Timestamp(as_of)
                current = current_from_data(raw, when, champion, settings)
            else:
                until = pd.Timestamp(now)
                start = (
                    until - pd.Timedelta(days=settings.monitoring.window_days)
                    if since is None
                    else pd.Timestamp(since, tz="UTC")
                )
                current = current_from_log(
                    settings, champion, raw, since=start, until=until, report=report
                )
            report("reading the monitoring history and the newest trained version")
            precedent = load_precedent(settings)
            report("running the Evidently reports")
            outcome = check(champion, current, settings, now=now, precedent=precedent)
            report("writing the reports")
            folder = save(outcome, settings)
    except MonitoringError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    _print_summary(outcome.summary, folder)
    return outcome.decision


def _print_summary(summary: MonitoringSummary, folder: Path) -> None:
    from rich.table import Table

    from zerochurn.features.catalog import column_spec

    drift = summary.data_drift
    title = (
        f"model version {summary.model.version}: {summary.current_rows:,} current rows "
        f"({summary.current.source}) vs {summary.reference.rows:,} reference rows"
    )
    table = Table(title=title)
    for column in ("drifted feature", "group", "method", "score", "threshold"):
        table.add_column(
            column, justify="left" if column in ("drifted feature", "group") else "right"
        )
    for entry in drift.columns:
        if not entry.drifted:
            continue
        score = "" if entry.score is None else f"{entry.score:.3f}"
        threshold = "" if entry.threshold is None else f"{entry.threshold:g}"
        table.add_row(entry.column, column_spec(entry.column).group, entry.method, score, threshold)
    if drift.drifted:
        console.print(table)
    else:
        console.print(title)
    prediction = summary.prediction_drift
    console.print(
        f"prediction drift: {prediction.drift.method} {prediction.drift.score:.3f} "
        f"(mean {prediction.reference_mean:.3f} -> {prediction.current_mean:.3f})"
    )
    performance = summary.performance
    if performance.judged:
        console.print(
            f"performance on {performance.rows:,} labelled rows: ROC-AUC "
            f"{performance.roc_auc:.4f} (test {performance.test_roc_auc:.4f}), "
            f"ECE {performance.ece:.4f} (test {performance.test_ece:.4f})"
        )
    else:
        console.print(
            f"performance not judged: {performance.rows:,} labelled rows, "
            f"{performance.churners:,} churners"
        )
    console.print(f"compared: {summary.compared}", markup=False, highlight=False)
    decision = summary.decision
    colour = {"retrain": "yellow", "ok": "green"}.get(decision.action, "cyan")
    until = "" if decision.hold is None else f" (until {decision.hold.until})"
    console.print(f"decision: [bold {colour}]{decision.action}[/]{until}")
    for reason in decision.reasons:
        console.print(f"  - {reason}", markup=False, highlight=False)
    console.print(f"report: {folder}")


def _raw_for(settings: Settings, data_dir: Path | None, *, required: bool) -> RawData | None:
    """The raw data of DATA_DIR (or the configured folder); None when optional and absent."""
    source = data_dir_of(settings, data_dir)
    if not required and not source.is_dir():
        return None
    return load_raw_or_exit(settings, source)


def _reject_since_with_data(since: dt.datetime | None, from_data: bool) -> None:
    if since is not None and from_data:
        raise typer.BadParameter(
            "--since selects prediction-log rows; it does not combine with DATA_DIR or --as-of",
            param_hint="--since",
        )


def monitor(
    ctx: typer.Context,
    data_dir: DataDirArgument = None,
    since: SinceOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Compare recent scores with the champion's training data: drift, delayed-label
    performance, and whether to retrain.

    Without DATA_DIR or --as-of the current rows come from the prediction log, and labels
    from the configured data folder when it exists. Writes
    <workspace>/monitoring/<run>/ (HTML reports, summary.json, figures) and the history.
    """
    settings = ctx.obj.settings()
    from_data = data_dir is not None or as_of is not None
    _reject_since_with_data(since, from_data)
    raw = _raw_for(settings, data_dir, required=from_data)
    _check_and_save(settings, raw, from_data=from_data, since=since, as_of=as_of)


def retrain(
    ctx: typer.Context,
    data_dir: DataDirArgument = None,
    if_needed: IfNeededOption = False,
    since: SinceOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Train a challenger on the data; the promotion gate decides whether it becomes champion.

    With --if-needed, first run the monitor (same DATA_DIR, --since and --as-of as
    `zerochurn monitor`) and train only when its policy says retrain: not while it waits
    for labels (retrain_pending_labels) or cools down after the last retrain (cooldown).
    """
    settings = ctx.obj.settings()
    from_data = data_dir is not None or as_of is not None
    _reject_since_with_data(since, from_data)
    if not if_needed and (since is not None or as_of is not None):
        raise typer.BadParameter(
            "--since and --as-of choose what the monitor checks: add --if-needed"
        )
    raw = _raw_for(settings, data_dir, required=True)
    reasons: tuple[str, ...] = ("asked for without --if-needed",)
    if if_needed:
        decision = _check_and_save(settings, raw, from_data=from_data, since=since, as_of=as_of)
        if decision.action == "ok":
            console.print("[green]no retraining needed[/]")
            return
        if decision.hold is not None:
            console.print(
                f"[cyan]no retraining now[/]: {decision.action} until {decision.hold.until}"
            )
            return
        reasons = decision.reasons
    source = data_dir_of(settings, data_dir)
    outcome = train_with_progress(settings, raw, source, title="training a challenger")
    console.print("retrained because:")
    for reason in reasons:
        console.print(f"  - {reason}", highlight=False)
    console.print(
        f"challenger version {outcome.version}: ROC-AUC {outcome.metrics['roc_auc']:.4f}, "
        f"ECE {outcome.metrics['ece']:.4f} on its test period"
    )
    verdict = "[green]passed[/]" if outcome.decision.passed else "[yellow]refused[/]"
    console.print(f"gate vs {outcome.decision.compared_with}: {verdict}")
    for reason in outcome.decision.reasons:
        console.print(f"  - {reason}", highlight=False)
    if outcome.champion == outcome.version:
        console.print(f"champion is now version {outcome.champion}")
    else:
        console.print(f"champion stays version {outcome.champion}")

"""Commands of the training stage: `train`, and the registry's `models`, `promote`, `rollback`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from zerochurn.cli.common import (
    DataDirArgument,
    exit_on,
    ground_truth,
    load_raw_or_exit,
    print_error,
    print_problems,
)
from zerochurn.cli.common import data_dir as data_dir_of
from zerochurn.configs import Settings
from zerochurn.console import console, data_console, progress


def _train(
    settings: Settings, snapshots, source: Path, *, tune_trials: int, title: str, truth=None
):
    """Check the costs against the rows, then train, register and gate with progress."""
    from zerochurn.model.champion import RegistryUnavailableError
    from zerochurn.training.train import check_costs, train_and_register

    try:
        check_costs(snapshots, settings.costs)
    except ValueError as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    with exit_on(RegistryUnavailableError), progress(title) as report:
        return train_and_register(
            snapshots,
            settings,
            data_dir=source,
            ground_truth=truth,
            tune_trials=tune_trials,
            progress=report,
        )


def train_with_progress(
    settings: Settings, raw, source: Path, *, tune_trials: int = 0, title: str = "training"
):
    """Build the monthly snapshots, then train, register and gate a model, showing progress."""
    from zerochurn.features.build import ChurnDefinitionError
    from zerochurn.training.data import build_snapshots
    from zerochurn.training.split import TrainingDataError

    try:
        with progress("building monthly snapshots") as report:
            snapshots = build_snapshots(raw, settings, progress=report)
    except (ChurnDefinitionError, TrainingDataError) as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    return _train(
        settings,
        snapshots,
        source,
        tune_trials=tune_trials,
        title=title,
        truth=ground_truth(source),
    )


def train_table_with_progress(settings: Settings, path: Path, *, tune_trials: int = 0):
    """Read a flat customer table, report its column notes, then train, register and gate."""
    from zerochurn.contract.table import read_customer_table
    from zerochurn.contract.validate import DataValidationError
    from zerochurn.training.data import table_snapshots

    config = settings.table
    try:
        table = read_customer_table(
            path,
            id_column=config.id_column,
            target_column=config.target_column,
            positive_label=config.positive_label,
        )
        snapshots = table_snapshots(table, settings)
    except DataValidationError as exc:
        print_problems(path, exc.problems)
        raise typer.Exit(1) from exc
    except ValueError as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    for note in snapshots.notes:
        style = "yellow" if note.kind == "warning" else "dim"
        console.print(f"[{style}]{note.kind}[/] ", end="")
        console.print(str(note), markup=False, highlight=False)
    features = len(snapshots.features)
    console.print(f"{len(table.frame):,} customers, {features} feature columns from {path}")
    return _train(settings, snapshots, path, tune_trials=tune_trials, title="training")


def train(
    ctx: typer.Context,
    data_dir: DataDirArgument = None,
    tune: Annotated[
        int, typer.Option(help="Hyperparameter trials before the final fit (nested runs).")
    ] = 0,
    churn: Annotated[
        str | None, typer.Option(help="cancellation | inactivity [default: churn.definition].")
    ] = None,
    inactivity_days: Annotated[
        int | None,
        typer.Option(help="Days without a purchase that count as churn [churn.inactivity_days]."),
    ] = None,
    table: Annotated[
        Path | None,
        typer.Option(help="A flat customer table (CSV or Parquet) instead of the raw tables."),
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="Id column of --table [table.id_column].")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Churn label column of --table [table.target_column].")
    ] = None,
    positive: Annotated[
        str | None,
        typer.Option(
            help="The --target value that means churned, any other stayed [table.positive_label]."
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="A --table column never to learn from (repeatable).")
    ] = None,
) -> None:
    """Fit the candidate models, select the best, log to MLflow, register, run the gate.

    Candidates: LightGBM, the logistic baseline and their blend. On the raw tables they
    are validated out of time; a flat --table is split at random and cross-validated.
    """
    from zerochurn.io import write_json

    settings = ctx.obj.settings(
        **{
            "churn.definition": churn,
            "churn.inactivity_days": inactivity_days,
            "table.id_column": id_column,
            "table.target_column": target,
            "table.positive_label": positive,
            "table.exclude": exclude or None,
        }
    )
    if table is not None:
        if data_dir is not None:
            raise typer.BadParameter(
                "give either DATA_DIR or --table, not both", param_hint="--table"
            )
        outcome = train_table_with_progress(settings, table, tune_trials=tune)
    else:
        source = data_dir_of(settings, data_dir)
        outcome = train_with_progress(
            settings, load_raw_or_exit(settings, source), source, tune_trials=tune
        )
    _print_outcome(outcome)
    summary = write_json(asdict(outcome), settings.workspace / "training" / "last_run.json")
    console.print(f"wrote {summary}")


def _print_survival(metrics: dict[str, float] | None, skipped: str) -> None:
    """One line on the time-to-churn model: concordance against Cox, calibration of S(t)."""
    if not metrics:
        console.print(f"time to churn: no model ({skipped})", highlight=False)
        return
    model = "hazard" if "survival_hazard_concordance" in metrics else "hazard_unanchored"
    months = sorted(
        int(name.rsplit("_", 1)[1][:-1])
        for name in metrics
        if name.startswith(f"survival_{model}_calibration_max_error_")
    )
    longest = months[-1]
    console.print(
        f"time to churn (out of time): concordance {metrics[f'survival_{model}_concordance']:.4f} "
        f"(Cox {metrics['survival_cox_concordance']:.4f}), S({longest} months) off by at most "
        f"{metrics[f'survival_{model}_calibration_max_error_{longest}m']:.3f} per decile",
        highlight=False,
    )


def _print_outcome(outcome) -> None:
    table = Table(title=f"model version {outcome.version} (run {outcome.run_id[:8]}): test rows")
    families = list(outcome.candidate_metrics)
    table.add_column("metric")
    for family in families:
        chosen = " (chosen)" if family == outcome.family else ""
        table.add_column(f"{family}{chosen}", justify="right")
    table.add_column("champion", justify="right")
    champion = outcome.champion_metrics or {}
    columns = [
        outcome.metrics if family == outcome.family else outcome.candidate_metrics[family]
        for family in families  # the selected model's metrics carry the oracle's figures
    ]
    for name in outcome.metrics:
        table.add_row(
            name,
            *("" if name not in metrics else f"{metrics[name]:.4f}" for metrics in columns),
            "" if name not in champion else f"{champion[name]:.4f}",
        )
    console.print(table)
    console.print(f"selected {outcome.family}: {outcome.selection}")
    verdict = "[green]passed[/]" if outcome.decision.passed else "[yellow]refused[/]"
    console.print(f"gate vs {outcome.decision.compared_with}: {verdict}")
    for reason in outcome.decision.reasons:
        console.print(f"  - {reason}")
    if outcome.savings is not None:
        console.print(
            f"costs (threshold from held-out scores of the training data, test savings): "
            f"{outcome.savings}"
        )
        for row in outcome.savings_top_k:
            console.print(
                f"  contacting the top {row['customers']:,} ({row['share']:.1%}) saves "
                f"{row['realised_savings']:,.0f} (expected {row['expected_savings']:,.0f})"
            )
    _print_survival(outcome.survival_metrics, outcome.survival_skipped)
    if outcome.champion is None:
        console.print(
            f"no champion yet: the gate refused version {outcome.version}; "
            f"`zerochurn promote {outcome.version}` makes it champion anyway"
        )
    else:
        console.print(f"champion is now version {outcome.champion}")


def _registry(settings: Settings):
    from zerochurn.model.registry import champion_registry

    return champion_registry(settings)


def models(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the versions as JSON (for scripts).")
    ] = False,
) -> None:
    """Every registered model version: metrics, aliases and when it was champion.

    The table (or with --json a list of versions) goes to stdout.
    """
    from zerochurn.model.champion import RegistryUnavailableError

    with exit_on(RegistryUnavailableError):
        _models(ctx.obj.settings(), as_json=as_json)


def _gate_words(summary) -> str:
    """The gate column of `models`: the decision, or why there is none."""
    gate = summary.gate
    if gate is None:
        return "no record"
    if gate.passed and not summary.champion_periods:
        return f"passed vs {gate.compared_with}, never promoted"
    return f"{'passed' if gate.passed else 'refused'} vs {gate.compared_with}"


def _models(settings: Settings, *, as_json: bool) -> None:
    registry = _registry(settings)
    summaries = registry.summaries()
    if as_json:
        versions = [
            asdict(summary)
            | {"champion_periods": [{"from": a, "to": b} for a, b in summary.champion_periods]}
            for summary in summaries
        ]
        data_console.print_json(data=versions)
        return
    table = Table(title=f"registered model {registry.name}")
    columns = ("version", "created", "aliases", "test AUC", "test ECE", "gate", "champion periods")
    for column in columns:
        table.add_column(column)
    for summary in summaries:
        periods = "; ".join(
            f"{start or '(not recorded)'} .. {end or 'now'}"
            for start, end in summary.champion_periods
        )
        table.add_row(
            summary.version,
            summary.created_at,
            ", ".join(summary.aliases),
            f"{summary.metrics.get('test_roc_auc', float('nan')):.4f}",
            f"{summary.metrics.get('test_ece', float('nan')):.4f}",
            _gate_words(summary),
            periods,
        )
    data_console.print(table)
    for summary in summaries:
        if summary.gate is not None and not summary.gate.passed:
            data_console.print(f"version {summary.version} refused by the gate:")
            for reason in summary.gate.reasons:
                data_console.print(f"  - {reason}", highlight=False, markup=False)


def promote(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="Model version to make champion.")],
    reason: Annotated[str, typer.Option(help="Why, for the record.")] = "manual promotion",
) -> None:
    """Make VERSION the champion by hand; the event is recorded in the registry."""
    from mlflow.exceptions import MlflowException

    from zerochurn.model.champion import RegistryUnavailableError

    with exit_on(RegistryUnavailableError):
        registry = _registry(ctx.obj.settings())
        try:
            event = registry.promote(version, reason=reason)
        except MlflowException as exc:
            console.print(f"[red]error:[/] no version {version} of {registry.name}")
            raise typer.Exit(1) from exc
    if event is None:
        console.print(f"version {version} is already the champion: nothing changed")
    else:
        console.print(f"champion is now version {event.version} ({event.reason})")


def rollback(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option(help="Why, for the record.")] = "manual rollback",
) -> None:
    """Give the champion role back to the version that held it before the current one."""
    from zerochurn.model.champion import RegistryUnavailableError

    with exit_on(RegistryUnavailableError, ValueError):
        event = _registry(ctx.obj.settings()).rollback(reason=reason)
    console.print(f"champion is back to version {event.version} ({event.reason})")

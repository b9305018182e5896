"""The `zerochurn` command line: one command per stage, settings parsed once at start-up.

Nothing heavy is imported at module level, so `zerochurn --help` stays fast; each
command imports the stage it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from zerochurn.cli_support import (
    AsOfOption,
    DataDirArgument,
    Options,
    load_raw_or_exit,
    print_problems,
    train_table_with_progress,
    train_with_progress,
)
from zerochurn.cli_support import data_dir as data_dir_of
from zerochurn.configs import Settings
from zerochurn.console import console
from zerochurn.monitoring.commands import monitor, retrain
from zerochurn.reports.commands import report_app
from zerochurn.serving.commands import at_risk, build_bento, import_model, score, serve

app = typer.Typer(
    name="zerochurn",
    help="Predict which customers will leave, what they are worth, and why.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts name settings as [section.key], not markup
)
app.add_typer(report_app, name="report")


def _parse_set(pairs: list[str]) -> dict[str, Any]:
    import yaml

    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--set")
        overrides[key.strip()] = yaml.safe_load(raw)
    return overrides


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="YAML file overriding configs/default.yaml."),
    ] = None,
    workspace: Annotated[
        Path | None,
        typer.Option(help="Workspace folder (data, MLflow, scores, reports).", envvar=None),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override any setting: --set churn.horizon_days=60."),
    ] = None,
) -> None:
    """zerochurn: churn risk, customer value and reasons, with MLflow, BentoML and Evidently."""
    overrides = _parse_set(set_ or [])
    if workspace is not None:
        overrides["workspace"] = str(workspace)
    ctx.obj = Options(config, overrides)


@app.command()
def generate(
    ctx: typer.Context,
    customers: Annotated[int | None, typer.Option(help="Customers at the start.")] = None,
    months: Annotated[int | None, typer.Option(help="Months of history.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: <workspace>/data].")
    ] = None,
    drift: Annotated[
        str | None, typer.Option(help="price_increase | service_outage | new_segment.")
    ] = None,
    drift_from: Annotated[str | None, typer.Option(help="First drifted month, YYYY-MM.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    hidden_state: Annotated[
        bool | None,
        typer.Option(
            "--hidden-state",
            help="Also write each customer's hidden churn drivers into the ground truth, "
            "for diagnostics [generate.hidden_state].",
        ),
    ] = None,
) -> None:
    """Write a synthetic world: customers, transactions, surveys, complaints and ground truth."""
    settings = ctx.obj.settings(
        **{
            "generate.customers": customers,
            "generate.months": months,
            "generate.seed": seed,
            "generate.drift": drift,
            "generate.drift_from": drift_from,
            "generate.hidden_state": hidden_state,
        }
    )
    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter(f"expected parquet or csv, got {fmt!r}", param_hint="--format")
    from zerochurn.console import progress
    from zerochurn.synthetic import generate_world, write_world

    target = data_dir_of(settings, out)
    with progress(f"generating {settings.generate.customers:,} customers") as report:
        world = generate_world(
            settings.generate, horizon_days=settings.churn.horizon_days, progress=report
        )
        write_world(world, target, fmt=fmt)
    rows = ", ".join(f"{name} {len(frame):,}" for name, frame in world.tables.items())
    console.print(f"wrote {target}: {rows}")


@app.command()
def validate(
    ctx: typer.Context,
    data_dir: DataDirArgument = None,
) -> None:
    """Check a raw data folder against the data contract; report every problem at once."""
    from zerochurn.contract.validate import validate_dir

    target = data_dir_of(ctx.obj.settings(), data_dir)
    raw, problems = validate_dir(target)
    if problems:
        print_problems(target, problems)
        raise typer.Exit(1)
    counts = {"customers": raw.customers, "transactions": raw.transactions}
    counts |= {"surveys": raw.surveys, "complaints": raw.complaints}
    summary = ", ".join(f"{k} {len(v):,}" for k, v in counts.items() if v is not None)
    if raw.customers_derived:
        summary = summary.replace("customers", "customers (derived from transactions)", 1)
    console.print(f"[green]valid[/] {target}: {summary}")


@app.command()
def features(
    ctx: typer.Context,
    data_dir: DataDirArgument = None,
    as_of: AsOfOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Parquet or CSV file [default: <workspace>/features/features_T.parquet]."
        ),
    ] = None,
) -> None:
    """Build the point-in-time feature table of every customer active at T (data before T)."""
    import pandas as pd

    from zerochurn.features import build_features
    from zerochurn.io import write_table

    settings = ctx.obj.settings()
    raw = load_raw_or_exit(data_dir_of(settings, data_dir))
    when = pd.Timestamp(as_of) if as_of is not None else raw.end
    table = build_features(raw, when, settings.features, settings.churn)
    target = out or settings.workspace / "features" / f"features_{when:%Y-%m-%d}.parquet"
    write_table(table, target)
    console.print(f"wrote {target}: {len(table):,} customers x {table.shape[1]} columns")


@app.command()
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
    """Train LightGBM and the baseline, log to MLflow, register, run the gate.

    On the raw tables the split is out of time; a flat --table is split at random.
    """
    from dataclasses import asdict

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
        outcome = train_with_progress(settings, load_raw_or_exit(source), source, tune_trials=tune)
    _print_outcome(outcome)
    summary = write_json(asdict(outcome), settings.workspace / "training" / "last_run.json")
    console.print(f"wrote {summary}")


def _print_outcome(outcome) -> None:
    from rich.table import Table

    table = Table(title=f"model version {outcome.version} (run {outcome.run_id[:8]})")
    for column in ("metric", "lightgbm", "baseline", "champion"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    champion = outcome.champion_metrics or {}
    for name, value in outcome.metrics.items():
        base = outcome.baseline_metrics.get(name)
        table.add_row(
            name,
            f"{value:.4f}",
            "" if base is None else f"{base:.4f}",
            "" if name not in champion else f"{champion[name]:.4f}",
        )
    console.print(table)
    verdict = "[green]passed[/]" if outcome.decision.passed else "[yellow]refused[/]"
    console.print(f"gate vs {outcome.decision.compared_with}: {verdict}")
    for reason in outcome.decision.reasons:
        console.print(f"  - {reason}")
    if outcome.savings is not None:
        console.print(
            f"costs (threshold from the calibration period, test savings): {outcome.savings}"
        )
        for row in outcome.savings_top_k:
            console.print(
                f"  contacting the top {row['customers']:,} ({row['share']:.1%}) saves "
                f"{row['realised_savings']:,.0f} (expected {row['expected_savings']:,.0f})"
            )
    if outcome.champion is None:
        console.print(
            f"no champion yet: the gate refused version {outcome.version}; "
            f"`zerochurn promote {outcome.version}` makes it champion anyway"
        )
    else:
        console.print(f"champion is now version {outcome.champion}")


def _registry(settings: Settings):
    from zerochurn.training.registry import ChampionRegistry
    from zerochurn.training.tracking import configure

    return ChampionRegistry(configure(settings), settings.mlflow.registered_model)


@app.command()
def models(ctx: typer.Context) -> None:
    """Every registered model version: metrics, aliases and when it was champion."""
    from rich.table import Table

    registry = _registry(ctx.obj.settings())
    table = Table(title=f"registered model {registry.name}")
    for column in ("version", "created", "aliases", "test AUC", "test ECE", "champion periods"):
        table.add_column(column)
    for summary in registry.summaries():
        periods = "; ".join(f"{start} .. {end or 'now'}" for start, end in summary.champion_periods)
        table.add_row(
            summary.version,
            summary.created_at,
            ", ".join(summary.aliases),
            f"{summary.metrics.get('test_roc_auc', float('nan')):.4f}",
            f"{summary.metrics.get('test_ece', float('nan')):.4f}",
            periods,
        )
    console.print(table)


@app.command()
def promote(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="Model version to make champion.")],
    reason: Annotated[str, typer.Option(help="Why, for the record.")] = "manual promotion",
) -> None:
    """Make VERSION the champion by hand; the event is recorded in the registry."""
    from mlflow.exceptions import MlflowException

    registry = _registry(ctx.obj.settings())
    try:
        event = registry.promote(version, reason=reason)
    except MlflowException as exc:
        console.print(f"[red]error:[/] no version {version} of {registry.name}")
        raise typer.Exit(1) from exc
    console.print(f"champion is now version {event.version} ({event.reason})")


@app.command()
def rollback(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option(help="Why, for the record.")] = "manual rollback",
) -> None:
    """Give the champion role back to the version that held it before the current one."""
    registry = _registry(ctx.obj.settings())
    try:
        event = registry.rollback(reason=reason)
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"champion is back to version {event.version} ({event.reason})")


@app.command()
def run(
    ctx: typer.Context,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the service at the end.")
    ] = True,
) -> None:
    """The whole job on the embedded defaults, then the service.

    Generate a world and check it, build features, train and register, batch-score and
    write the at-risk list; then simulate `run.later_months` more months with
    `run.later_drift`, monitor them against the champion, retrain if the policy fires,
    re-score, and serve on 127.0.0.1.
    """
    from zerochurn.pipeline import (
        describe_outputs,
        ensure_api_key,
        later_world_flags,
    )

    settings = ctx.obj.settings()
    generate(ctx)
    validate(ctx)
    features(ctx)
    train(ctx)
    later_dir = settings.workspace / "data_later"
    generate(ctx, **later_world_flags(settings), out=later_dir)
    retrain(ctx, data_dir=later_dir, if_needed=True)
    score(ctx, data_dir=later_dir)
    at_risk_csv = settings.workspace / "at_risk.csv"
    at_risk(ctx, out=at_risk_csv, top=settings.run.at_risk_top)
    api_key = ensure_api_key(settings)
    describe_outputs(settings, at_risk_csv, api_key)
    console.print(f"[bold green]zerochurn run finished[/]; everything is in {settings.workspace}")
    if serve_after:
        serve(ctx)


@app.command("config")
def show_config(ctx: typer.Context) -> None:
    """Print the effective configuration as YAML (defaults < --config < env < flags)."""
    import yaml

    settings = ctx.obj.settings()
    typer.echo(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False))


# Stage commands that live with their stage, in pipeline order after the ones above.
app.command()(score)
app.command("at-risk")(at_risk)
app.command()(serve)
app.command("import-model")(import_model)
app.command("build-bento")(build_bento)
app.command()(monitor)
app.command()(retrain)


if __name__ == "__main__":
    app()

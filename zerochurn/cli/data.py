"""Commands of the data stages: generate a world, validate raw tables, build features, config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from zerochurn.cli.common import (
    AsOfOption,
    DataDirArgument,
    load_raw_or_exit,
    print_problems,
)
from zerochurn.cli.common import data_dir as data_dir_of
from zerochurn.console import console, progress


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
    from zerochurn.synthetic import generate_world, write_world

    target = data_dir_of(settings, out)
    with progress(f"generating {settings.generate.customers:,} customers") as report:
        world = generate_world(
            settings.generate, horizon_days=settings.churn.horizon_days, progress=report
        )
        write_world(world, target, fmt=fmt)
    rows = ", ".join(f"{name} {len(frame):,}" for name, frame in world.tables.items())
    console.print(f"wrote {target}: {rows}")


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

    from zerochurn.features.build import build_features
    from zerochurn.io import write_table

    settings = ctx.obj.settings()
    raw = load_raw_or_exit(data_dir_of(settings, data_dir))
    when = pd.Timestamp(as_of) if as_of is not None else raw.end
    table = build_features(raw, when, settings.features, settings.churn)
    target = out or settings.workspace / "features" / f"features_{when:%Y-%m-%d}.parquet"
    write_table(table, target)
    console.print(f"wrote {target}: {len(table):,} customers x {table.shape[1]} columns")


def show_config(ctx: typer.Context) -> None:
    """Print the effective configuration as YAML (defaults < --config < env < flags)."""
    settings = ctx.obj.settings()
    typer.echo(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False))

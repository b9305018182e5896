"""Commands of the data stages: generate a world, validate raw tables, build features, config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from zerochurn.cli.common import (
    AsOfOption,
    DataDirArgument,
    DataLocationArgument,
    EngineOption,
    as_of_or_exit,
    load_raw_or_exit,
    print_error,
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
    chunks: Annotated[
        int,
        typer.Option(
            min=1,
            help="Generate in this many chunks of customers, one in memory at a time, each "
            "table a folder of Parquet part files (worlds larger than memory).",
        ),
    ] = 1,
    hidden_state: Annotated[
        bool | None,
        typer.Option(
            "--hidden-state",
            help="Also write each customer's hidden churn drivers into the ground truth, "
            "for diagnostics [generate.hidden_state].",
        ),
    ] = None,
    campaign: Annotated[
        str | None,
        typer.Option(
            help="Apply the retention action to this recorded campaign's treatment group on "
            "its date, and write every member's true effect (treatment_truth.parquet).",
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
    if chunks > 1 and fmt != "parquet":
        raise typer.BadParameter("chunks are written as Parquet part files", param_hint="--chunks")
    if chunks > 1 and campaign is not None:
        raise typer.BadParameter(
            "a campaign's action is applied to a world generated whole", param_hint="--chunks"
        )
    from zerochurn.synthetic import generate_world, write_world

    treatment = None if campaign is None else _treatment_or_exit(settings, campaign)
    target = data_dir_of(settings, out)
    if chunks > 1:
        from zerochurn.synthetic.chunks import write_world_in_chunks

        title = f"generating {settings.generate.customers:,} customers in {chunks} chunks"
        with progress(title) as report:
            written = write_world_in_chunks(
                settings.generate,
                chunks,
                target,
                horizon_days=settings.churn.horizon_days,
                progress=report,
            )
        console.print(f"wrote {target}: " + ", ".join(f"{k} {v:,}" for k, v in written.items()))
        return
    with progress(f"generating {settings.generate.customers:,} customers") as report:
        try:
            world = generate_world(
                settings.generate,
                horizon_days=settings.churn.horizon_days,
                progress=report,
                treatment=treatment,
            )
        except ValueError as exc:
            print_error(str(exc))
            raise typer.Exit(1) from exc
        write_world(world, target, fmt=fmt)
    rows = ", ".join(f"{name} {len(frame):,}" for name, frame in world.tables.items())
    console.print(f"wrote {target}: {rows}")


def _treatment_or_exit(settings, name: str):
    """The synthetic treatment of recorded campaign `name`: its date and treatment group."""
    import datetime as dt

    from zerochurn.campaigns.assign import TREATMENT
    from zerochurn.campaigns.store import CampaignError, CampaignStore
    from zerochurn.synthetic.action import Treatment

    store = CampaignStore(settings.campaigns_dir)
    try:
        campaign = store.get(name)
        members = store.members(campaign)
        return Treatment(
            campaign=name,
            start=dt.date.fromisoformat(campaign.as_of),
            members=members["customer_id"].to_numpy(dtype=object),
            treated=(members["group"] == TREATMENT).to_numpy(),
        )
    except (CampaignError, ValueError) as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc


def validate(
    ctx: typer.Context,
    data_dir: DataDirArgument = None,
) -> None:
    """Check a raw data folder against the data contract; report every problem at once."""
    from zerochurn.contract.validate import validate_dir

    settings = ctx.obj.settings()
    target = data_dir_of(settings, data_dir)
    raw, problems = validate_dir(target, as_of=settings.data.as_of)
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
    data_dir: DataLocationArgument = None,
    as_of: AsOfOption = None,
    out: Annotated[
        str | None,
        typer.Option(
            help="Parquet or CSV file [default: <workspace>/features/features_T.parquet]; "
            "Spark writes a folder of part files there."
        ),
    ] = None,
    engine: EngineOption = None,
) -> None:
    """Build the point-in-time feature table of every customer active at T (data before T)."""
    settings = ctx.obj.settings(**{"engine.name": engine})
    when = as_of_or_exit(settings, as_of)
    location = data_dir if data_dir is not None else str(settings.data_dir)
    if settings.engine.name == "spark":
        from zerochurn.cli import spark

        spark.features(settings, location, when, out)
        return
    from zerochurn.features.build import build_features
    from zerochurn.io import write_table

    raw = load_raw_or_exit(settings, Path(location))
    when = as_of_or_exit(settings, as_of, raw.end)
    table = build_features(raw, when, settings.features, settings.churn)
    target = (
        Path(out) if out else settings.workspace / "features" / f"features_{when:%Y-%m-%d}.parquet"
    )
    write_table(table, target)
    console.print(f"wrote {target}: {len(table):,} customers x {table.shape[1]} columns")


def sample(
    ctx: typer.Context,
    out: Annotated[str, typer.Option(help="Folder (or Hadoop URI) to write the sample to.")],
    customers: Annotated[int, typer.Option(min=1, help="Customers to draw (about).")],
    data_dir: DataLocationArgument = None,
    seed: Annotated[
        int, typer.Option(help="Seed of the draw: the same seed, the same customers.")
    ] = 0,
) -> None:
    """Draw customers with Spark, every row of each, into a data folder for train and monitor.

    Features and scores of a large base run on Spark (--engine spark); training and
    monitoring run on one machine, on such a sample (docs/spark.md says how many).
    """
    from zerochurn.cli import spark

    settings = ctx.obj.settings()
    location = data_dir if data_dir is not None else str(settings.data_dir)
    spark.sample(settings, location, customers, out, seed)


def show_config(ctx: typer.Context) -> None:
    """Print the effective configuration as YAML (defaults < --config < env < flags);
    secrets (API keys, a password in the tracking URI) are shown as ****."""
    from zerochurn.configs.secrets import redacted

    settings = ctx.obj.settings()
    typer.echo(yaml.safe_dump(redacted(settings), sort_keys=False))

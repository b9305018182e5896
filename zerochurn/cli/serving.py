"""Commands of the serving stage: batch scores, at-risk lists, the service, the Bento."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Annotated, get_args

import typer
from rich.table import Table

from zerochurn.cli.common import (
    AsOfOption,
    DataLocationArgument,
    EngineOption,
    as_of_or_exit,
    load_raw_or_exit,
    print_error,
    print_problems,
)
from zerochurn.configs import Settings
from zerochurn.console import console, data_console, progress
from zerochurn.serving.launch import BENTOML_HOME_ENV, bentoml_environment, serve_command


def _champion_or_exit(settings: Settings):
    """The MLflow champion as a ScoringModel, or exit 1 saying why there is none."""
    from zerochurn.model.champion import ModelUnavailableError
    from zerochurn.serving.model import load_from_mlflow

    try:
        return load_from_mlflow(settings)
    except ModelUnavailableError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


def _print_tiers(scores, title: str) -> None:
    """Customers and value at risk per risk tier, largest value at risk first."""
    table = Table(title=title)
    for column in ("risk tier", "customers", "value at risk"):
        table.add_column(column, justify="left" if column == "risk tier" else "right")
    tiers = scores.groupby("risk_tier")["value_at_risk"].agg(["size", "sum"])
    for tier, row in tiers.sort_values("sum", ascending=False).iterrows():
        table.add_row(str(tier), f"{int(row['size']):,}", f"{row['sum']:,.0f}")
    data_console.print(table)
    if "contact" in scores:
        contact = scores[scores["contact"]]
        unknown = int(contact["expected_savings"].isna().sum())
        console.print(
            f"worth a retention offer: {len(contact):,} customers, expected savings "
            f"{contact['expected_savings'].sum():,.0f}"
            + (
                f" ({unknown:,} without known costs: their cost columns are missing)"
                if unknown
                else ""
            )
        )


def _print_outputs(outputs, extra: Path | None = None) -> None:
    """Where batch scores went, and whether (and why) the snapshot store was refreshed."""
    if outputs.removed:
        names = ", ".join(path.name for path in outputs.removed)
        console.print(f"removed temporary files an interrupted run left: {names}")
    console.print(f"wrote {outputs.parquet} and {outputs.csv}" + (f" and {extra}" if extra else ""))
    if outputs.note is not None:
        console.print("[yellow]note:[/] ", end="")
        console.print(outputs.note, markup=False, highlight=False, soft_wrap=True)
    if outputs.snapshot is not None:
        console.print(f"refreshed the snapshot store {outputs.snapshot}")


def _with_saved_value(settings: Settings, result):
    """The batch with uplift and expected_saved_value when a validated uplift model exists."""
    from zerochurn.model.registry import load_validated_uplift
    from zerochurn.serving.batch import with_saved_value

    validated = load_validated_uplift(settings)
    if validated is None:
        return result
    console.print(
        f"uplift model version {validated.version} (validated) adds uplift and "
        "expected_saved_value: the at-risk list ranks by expected saved value"
    )
    return with_saved_value(result, validated.model)


def score_table(
    settings: Settings, path: Path, out: Path | None, *, replace_snapshot: bool = False
) -> None:
    """Score the rows of a flat customer table with a champion trained on such a table."""
    from zerochurn.contract.cells import TableValueError
    from zerochurn.contract.table import read_frame
    from zerochurn.contract.validate import DataValidationError
    from zerochurn.io import write_table
    from zerochurn.serving.batch import now_utc, score_table_batch, write_batch
    from zerochurn.serving.table import ModelKindError, require_kind, table_rows

    model = _champion_or_exit(settings)
    try:
        require_kind(model, "table", "score the raw tables with `zerochurn score DATA_DIR`")
        frame = read_frame(path)
        frame.index += 1  # errors name data rows as the contract does: 1 = first after the header
        rows = table_rows(frame, model)
    except DataValidationError as exc:
        print_problems(path, exc.problems)
        raise typer.Exit(1) from exc
    except (ModelKindError, TableValueError) as exc:
        print_error(f"{path}: {exc}")
        raise typer.Exit(1) from exc
    result = _with_saved_value(
        settings, score_table_batch(rows, model, settings, scored_at=now_utc())
    )
    outputs = write_batch(result, model, settings, replace_snapshot=replace_snapshot)
    if out is not None:
        write_table(result.scores, out)
    _print_tiers(result.scores, f"{len(result.scores):,} customers of {path.name}")
    _print_outputs(outputs, out)


def score(
    ctx: typer.Context,
    data_dir: DataLocationArgument = None,
    as_of: AsOfOption = None,
    table: Annotated[
        Path | None,
        typer.Option(
            help="Score a flat customer table (CSV or Parquet) instead of the raw tables."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write the scores of --table to this CSV or Parquet file."),
    ] = None,
    engine: EngineOption = None,
    replace_snapshot: Annotated[
        bool,
        typer.Option(
            "--replace-snapshot",
            help="Refresh the snapshot store even when it holds a later as-of date.",
        ),
    ] = False,
) -> None:
    """Score every customer active at T with the champion; write scores and the snapshot.

    The snapshot store keeps the latest as-of date: scoring an earlier one leaves it as it
    is unless --replace-snapshot. With --table, score each row of a flat customer table
    shaped like the training table.
    """

    from zerochurn.serving.batch import now_utc, score_batch, write_batch
    from zerochurn.serving.table import ModelKindError, require_kind

    settings = ctx.obj.settings(**{"engine.name": engine})
    if table is not None:
        if data_dir is not None or as_of is not None:
            raise typer.BadParameter("--table takes no DATA_DIR or --as-of", param_hint="--table")
        score_table(settings, table, out, replace_snapshot=replace_snapshot)
        return
    location = data_dir if data_dir is not None else str(settings.data_dir)
    if settings.engine.name == "spark":
        from zerochurn.cli import spark

        outputs, when, model = spark.score(
            settings, location, as_of_or_exit(settings, as_of), replace_snapshot=replace_snapshot
        )
        _print_tiers(outputs.summary, f"{outputs.customers:,} customers at {when:%Y-%m-%d}")
        _print_outputs(outputs, outputs.dataset)
        return
    model = _champion_or_exit(settings)
    try:
        require_kind(model, "contract", "score its table with `zerochurn score --table FILE`")
    except ModelKindError as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    raw = load_raw_or_exit(settings, Path(location))
    when = as_of_or_exit(settings, as_of, raw.end)
    with progress(f"scoring at {when:%Y-%m-%d} with model version {model.version}") as report:
        result = score_batch(raw, when, model, settings, scored_at=now_utc(), progress=report)
        report("uplift")
        result = _with_saved_value(settings, result)
        report("writing scores")
        outputs = write_batch(
            result, model, settings, data_dir=Path(location), replace_snapshot=replace_snapshot
        )
    _print_tiers(result.scores, f"{len(result.scores):,} customers at {when:%Y-%m-%d}")
    _print_outputs(outputs)


TopOption = Annotated[
    int | None, typer.Option(min=1, help="Customers to list [default: serving.at_risk_limit].")
]
RegionOption = Annotated[str | None, typer.Option(help="Only this region.")]
SegmentOption = Annotated[str | None, typer.Option(help="Only this segment.")]
PlanOption = Annotated[str | None, typer.Option(help="Only this plan.")]
TierOption = Annotated[str | None, typer.Option(help="Only this risk tier.")]
MinValueOption = Annotated[
    float | None, typer.Option(help="Only customers worth at least this (money).")
]
MinChurnIndexOption = Annotated[
    int | None, typer.Option(min=0, help="Only customers at or above this churn index.")
]
SortOption = Annotated[
    str, typer.Option(help="value_at_risk, clv_at_risk or churn_probability, largest first.")
]


def at_risk_query(
    settings: Settings,
    *,
    top: int | None,
    region: str | None,
    segment: str | None,
    plan: str | None,
    tier: str | None,
    min_value: float | None,
    min_churn_index: int | None,
    sort: str | None,
):
    """The at-risk list's query from the filter flags, which are checked first."""
    from zerochurn.model.value import LOW_TIER
    from zerochurn.serving.store import AtRiskQuery, AtRiskSort

    if sort is not None and sort not in get_args(AtRiskSort):
        raise typer.BadParameter(
            f"expected one of {', '.join(get_args(AtRiskSort))}, got {sort!r}", param_hint="--sort"
        )
    tiers = (LOW_TIER, *settings.serving.tier_cutoffs)
    if tier is not None and tier not in tiers:
        raise typer.BadParameter(
            f"expected one of {', '.join(tiers)}, got {tier!r}", param_hint="--tier"
        )
    return AtRiskQuery(
        region=region,
        segment=segment,
        plan=plan,
        tier=tier,
        min_value=min_value,
        min_churn_index=min_churn_index,
        sort=sort,
        limit=top or settings.serving.at_risk_limit,
    )


def at_risk_page(settings: Settings, query):
    """The snapshot's info and the query's page of the at-risk list, or exit 1 without one."""
    from zerochurn.serving.batch import at_risk_list, snapshot_store
    from zerochurn.serving.store import (
        AtRiskSortError,
        SnapshotMissingError,
        SnapshotUnusableError,
    )

    store = snapshot_store(settings)
    try:
        return store.info(), at_risk_list(store, query)
    except (SnapshotMissingError, SnapshotUnusableError, AtRiskSortError) as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc


def at_risk(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="CSV file to write the list to.")],
    top: TopOption = None,
    region: RegionOption = None,
    segment: SegmentOption = None,
    plan: PlanOption = None,
    tier: TierOption = None,
    min_value: MinValueOption = None,
    min_churn_index: MinChurnIndexOption = None,
    sort: SortOption = None,
) -> None:
    """Write the retention team's list of customers at risk, from the latest batch scores."""
    from zerochurn.io import write_table
    from zerochurn.serving.batch import rounded_for_people

    settings = ctx.obj.settings()
    query = at_risk_query(
        settings,
        top=top,
        region=region,
        segment=segment,
        plan=plan,
        tier=tier,
        min_value=min_value,
        min_churn_index=min_churn_index,
        sort=sort,
    )
    info, table = at_risk_page(settings, query)
    write_table(rounded_for_people(table), out)
    saved = (
        f", expected saved value {table['expected_saved_value'].sum():,.0f}"
        if "expected_saved_value" in table
        else ""
    )
    console.print(
        f"wrote {out}: {len(table):,} customers at {info.as_of} (model version "
        f"{info.model_version}), value at risk {table['value_at_risk'].sum():,.0f}{saved}"
    )


def serve(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option(help="Port [default: serving.port].")] = None,
) -> None:
    """Start the scoring service on serving.host (127.0.0.1) until Ctrl-C.

    The command becomes the BentoML server process (exec), so signals reach it directly.
    """
    from zerochurn.model.champion import ModelUnavailableError, RegistryUnavailableError
    from zerochurn.serving.auth import api_keys

    settings = ctx.obj.settings(**{"serving.port": port})
    if not api_keys(settings.serving, os.environ):
        console.print(
            "[red]error:[/] no API key: set ZEROCHURN_API_KEYS=key1,key2 (or serving.api_keys)"
        )
        raise typer.Exit(2)
    if settings.serving.model_source == "mlflow":
        from zerochurn.model.registry import find_champion
        from zerochurn.serving.last_model import kept_version, unreachable_note

        try:
            found = find_champion(settings)
        except RegistryUnavailableError as exc:
            kept = kept_version(settings)
            if kept is None:
                print_error(f"{exc}; no champion is kept from an earlier start of the service")
                raise typer.Exit(1) from exc
            console.print(f"[yellow]warning:[/] {unreachable_note(exc, settings, kept.version)}")
        except ModelUnavailableError as exc:
            print_error(str(exc))
            raise typer.Exit(1) from exc
        else:
            console.print(f"champion is version {found.version}")
    argv, env = serve_command(settings, dict(os.environ))
    console.print(
        f"serving on http://{settings.serving.host}:{settings.serving.port} (Ctrl-C stops)"
    )
    sys.stderr.flush()
    os.execve(argv[0], argv, env)


def _import_champion_or_exit(settings: Settings) -> str:
    """Set BENTOML_HOME, copy the MLflow champion into the BentoML model store; its tag.

    BENTOML_HOME goes into os.environ before bentoml first reads it (once per process).
    """
    os.environ.update(bentoml_environment(settings, dict(os.environ)))
    from zerochurn.model.champion import ModelUnavailableError
    from zerochurn.serving.model import import_champion

    try:
        tag, new = import_champion(settings)
    except ModelUnavailableError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    state = "imported" if new else "already in the store as"
    console.print(f"{state} {tag} (BENTOML_HOME={os.environ[BENTOML_HOME_ENV]})")
    return tag


def import_model(ctx: typer.Context) -> None:
    """Copy the MLflow champion into the BentoML model store, for `bentoml build`."""
    _import_champion_or_exit(ctx.obj.settings())


def build_bento(ctx: typer.Context) -> None:
    """Import the champion, build the zerochurn wheel and a Bento that serves without MLflow.

    The Bento holds the champion and the wheel (python.wheels), so `bentoml containerize`
    needs nothing else from this checkout. Everything goes to the workspace.
    """
    from zerochurn.serving.auth import API_KEY_FILE
    from zerochurn.serving.bento import BentoBuildError, build

    settings = ctx.obj.settings()
    model_tag = _import_champion_or_exit(settings)
    console.print("building the zerochurn wheel and the Bento")
    try:
        bento = build(settings, model_tag)
    except BentoBuildError as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    workspace = settings.workspace.resolve()
    key_file = workspace / API_KEY_FILE
    keys = f'"$(cat {shlex.quote(str(key_file))})"' if key_file.is_file() else "KEY1,KEY2"
    lines = [
        f"built Bento {bento.tag} with {', '.join(bento.models)} and {bento.wheel.name}",
        f"  Bento:      {bento.path}",
        f"  build file: {bento.bentofile}",
        "next (ZEROCHURN_WORKSPACE: the batch scores /at_risk and /score_customers read):",
        f"  export BENTOML_HOME={shlex.quote(os.environ[BENTOML_HOME_ENV])} BENTOML_DO_NOT_TRACK=true",
        f"  ZEROCHURN_SERVING__MODEL_SOURCE=bentoml ZEROCHURN_API_KEYS={keys} "
        f"ZEROCHURN_WORKSPACE={shlex.quote(str(workspace))} bentoml serve {bento.tag}",
        f"  bentoml containerize {bento.tag}",
    ]
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)

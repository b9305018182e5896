"""`zerochurn campaign ...` and `zerochurn uplift`: retention campaigns and who to treat.

create draws the members from the at-risk list (the same query as `zerochurn at-risk`),
randomises them by risk tier and records the campaign; record stores what happened;
measure compares the groups once the outcome window has passed; list shows them all.
uplift trains the model of who responds to the action on the measured campaigns.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from zerochurn.cli.common import load_raw_or_exit, print_error
from zerochurn.cli.serving import (
    MinChurnIndexOption,
    MinValueOption,
    PlanOption,
    RegionOption,
    SegmentOption,
    SortOption,
    TierOption,
    at_risk_page,
    at_risk_query,
)
from zerochurn.configs import Settings
from zerochurn.console import console, progress

campaign_app = typer.Typer(
    help="Retention campaigns with a control group: create, record outcomes, measure.",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The campaign's name.")]
SEED_BITS = 31
"""A fresh randomisation seed is drawn from [0, 2**SEED_BITS)."""
MEASUREMENT_FOLDER = "measurement"
"""Sub-folder of a campaign's folder holding its measurement."""


def _store(settings: Settings):
    from zerochurn.campaigns.store import CampaignStore

    return CampaignStore(settings.campaigns_dir)


def _get_or_exit(store, name: str):
    from zerochurn.campaigns.store import CampaignError

    try:
        return store.get(name)
    except CampaignError as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc


@campaign_app.command()
def create(
    ctx: typer.Context,
    name: NameArgument,
    top: Annotated[int, typer.Option(min=1, help="Customers of the at-risk list to take.")],
    region: RegionOption = None,
    segment: SegmentOption = None,
    plan: PlanOption = None,
    tier: TierOption = None,
    min_value: MinValueOption = None,
    min_churn_index: MinChurnIndexOption = None,
    sort: SortOption = None,
    holdout: Annotated[
        float | None,
        typer.Option(help="Share of each risk tier kept as the control [campaigns.holdout]."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the randomisation [campaigns.seed; default: a fresh one]."),
    ] = None,
) -> None:
    """Take the top of the at-risk list, randomise treatment and control, record the campaign.

    Writes the treatment group's list to <campaigns>/NAME/treatment.csv for the retention
    team (also served at /campaign); the control group gets no action.
    """
    import pandas as pd

    from zerochurn.campaigns.assign import CONTROL, TREATMENT, assign_groups
    from zerochurn.campaigns.store import TREATMENT_FILE, Campaign, CampaignError, check_name
    from zerochurn.serving.batch import now_utc, snapshot_store

    settings = ctx.obj.settings(**{"campaigns.holdout": holdout, "campaigns.seed": seed})
    try:
        check_name(name)
    except CampaignError as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME") from exc
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
    info, page = at_risk_page(settings, query)
    if page.empty:
        print_error(f"no customer of the scores of {info.as_of} matches the filters")
        raise typer.Exit(1)
    features = snapshot_store(settings).features(page["customer_id"])
    chosen = settings.campaigns.seed
    chosen = secrets.randbelow(2**SEED_BITS) if chosen is None else chosen
    groups = assign_groups(page["risk_tier"], settings.campaigns.holdout, chosen)
    members = pd.concat(
        [page[["customer_id"]], pd.DataFrame({"group": groups}), page.drop(columns="customer_id")],
        axis=1,
    )
    campaign = Campaign(
        name=name,
        created_at=now_utc(),
        as_of=info.as_of,
        model_version=info.model_version,
        horizon_days=settings.churn.horizon_days,
        holdout=settings.campaigns.holdout,
        seed=chosen,
        selection={k: v for k, v in vars(query).items() if k != "offset"}
        | {"sort": query.sort or snapshot_store(settings).default_sort()},
        customers=len(members),
        treatment=int((groups == TREATMENT).sum()),
        control=int((groups == CONTROL).sum()),
        value_column="clv" if "clv" in page else "customer_value",
    )
    store = _store(settings)
    try:
        store.create(campaign, members, features)
    except CampaignError as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    console.print(
        f"recorded campaign {name}: {campaign.customers:,} customers of the scores of "
        f"{campaign.as_of} (model version {campaign.model_version}), {campaign.treatment:,} "
        f"treatment and {campaign.control:,} control (seed {chosen})",
        highlight=False,
    )
    console.print(f"treatment list: {store.path(campaign, TREATMENT_FILE)}", highlight=False)


@campaign_app.command()
def record(
    ctx: typer.Context,
    name: NameArgument,
    outcomes: Annotated[
        Path | None,
        typer.Option(
            help="CSV or Parquet with customer_id and any of churned, contacted (yes/no). "
            "Without churned, churn is derived from the data."
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Raw data covering the outcome window [default: <workspace>/data]."),
    ] = None,
    observed_through: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Last day the file's churned column covers [default: today, UTC].",
        ),
    ] = None,
) -> None:
    """Record who was contacted and who churned in the outcome window."""
    import pandas as pd

    from zerochurn.campaigns.outcomes import (
        churned_in_window,
        read_outcomes_file,
    )
    from zerochurn.campaigns.outcomes import (
        observed_through as data_observed_through,
    )
    from zerochurn.campaigns.store import CampaignError
    from zerochurn.cli.common import data_dir as data_dir_of
    from zerochurn.contract.validate import DataValidationError

    settings = ctx.obj.settings()
    store = _store(settings)
    campaign = _get_or_exit(store, name)
    members = store.members(campaign)["customer_id"]
    try:
        given = None if outcomes is None else read_outcomes_file(outcomes, members)
        if given is not None and given["churned"].notna().any():
            if given["churned"].isna().any():
                raise CampaignError(
                    f"{outcomes}: churned is given for {int(given['churned'].notna().sum())} of "
                    f"{len(members)} members: give it for every member, or leave the column "
                    "out to derive it from the data"
                )
            churned = given["churned"]
            through = (observed_through or dt.datetime.now(dt.UTC)).date()
            source = f"file {outcomes}"
        else:
            folder = data_dir_of(settings, data)
            raw = load_raw_or_exit(settings, folder)
            churned = churned_in_window(raw, campaign, settings.churn, members)
            through = data_observed_through(raw)
            source = f"data {folder}"
        contacted = (
            pd.Series(pd.NA, index=range(len(members)), dtype="boolean")
            if given is None
            else given["contacted"]
        )
        table = pd.DataFrame(
            {
                "customer_id": members.to_numpy(),
                "churned": churned.to_numpy(),
                "contacted": contacted.to_numpy(),
            }
        )
        campaign = store.record_outcomes(name, table, source=source, observed_through=through)
    except (CampaignError, DataValidationError) as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    console.print(
        f"recorded outcomes of campaign {name} from {source}: "
        f"{int(table['churned'].sum()):,} of {len(table):,} members churned by "
        f"{campaign.window_end}"
        + (
            f", {int(table['contacted'].fillna(False).sum()):,} contacted"
            if campaign.outcomes is not None and campaign.outcomes.contacted_known
            else ""
        ),
        highlight=False,
    )


def _print_measurement(m) -> None:
    table = Table(title=f"campaign {m.campaign} of {m.as_of}, outcome window to {m.window_end}")
    for column in ("", "estimate", f"{m.confidence:.0%} interval"):
        table.add_column(column, justify="left" if not column else "right")
    table.add_row("treatment churn rate", f"{m.treatment_churn_rate:.1%}", "")
    table.add_row("control churn rate", f"{m.control_churn_rate:.1%}", "")
    for label, interval, fmt in (
        ("churn drop (points)", m.churn_rate_drop, lambda v: f"{v * 100:+.1f}"),
        ("customers saved", m.customers_saved, lambda v: f"{v:,.0f}"),
        (f"value saved ({m.value_column})", m.value_saved, lambda v: f"{v:,.0f}"),
        ("net of offer cost", m.net_value, lambda v: f"{v:,.0f}"),
    ):
        table.add_row(label, fmt(interval.estimate), f"{fmt(interval.low)} to {fmt(interval.high)}")
    table.add_row("offers", f"{m.offers:,}", f"cost {m.offer_cost:,.0f}")
    console.print(table)


@campaign_app.command()
def measure(ctx: typer.Context, name: NameArgument) -> None:
    """Churn of treatment against control, customers and value saved, net of the offers' cost.

    Before the outcome window has passed, or with too few customers, it says why the
    campaign is not yet measurable (and writes that to campaign.json).
    """
    from zerochurn.campaigns.measure import measure as measure_campaign
    from zerochurn.campaigns.measure import not_measurable_reason
    from zerochurn.campaigns.report import summary, write_measurement, write_not_measurable
    from zerochurn.campaigns.tracking import log_measurement

    settings = ctx.obj.settings()
    store = _store(settings)
    campaign = _get_or_exit(store, name)
    outcomes = store.outcomes(campaign)
    folder = store.path(campaign, MEASUREMENT_FOLDER)
    reason = not_measurable_reason(campaign, outcomes, settings.campaigns)
    if reason is not None:
        path = write_not_measurable(name, reason, folder)
        console.print(f"[yellow]campaign {name} is not yet measurable:[/] ", end="")
        console.print(reason, markup=False, highlight=False, soft_wrap=True)
        console.print(f"wrote {path}", highlight=False)
        return
    result = measure_campaign(campaign, store.members(campaign), outcomes, settings.campaigns)
    paths = write_measurement(result, folder)
    run_id = log_measurement(settings, campaign, summary(result), paths)
    _print_measurement(result)
    console.print(f"report: {paths[0]}", highlight=False)
    console.print(f"MLflow run {run_id}", highlight=False)


@campaign_app.command("list")
def list_campaigns(ctx: typer.Context) -> None:
    """Every recorded campaign: date, groups, and whether outcomes are in."""
    settings = ctx.obj.settings()
    campaigns = _store(settings).campaigns()
    if not campaigns:
        console.print(f"no campaigns in {settings.campaigns_dir}", highlight=False)
        return
    table = Table(title=f"campaigns in {settings.campaigns_dir}")
    for column in ("name", "date", "model", "treatment", "control", "window ends", "outcomes"):
        table.add_column(column)
    for c in campaigns:
        recorded = "-" if c.outcomes is None else f"through {c.outcomes.observed_through}"
        table.add_row(
            c.name,
            c.as_of,
            c.model_version,
            f"{c.treatment:,}",
            f"{c.control:,}",
            str(c.window_end),
            recorded,
        )
    console.print(table)


def _truth_frame(paths: list[Path]):
    """The true effects of generated worlds: each path a treatment_truth.parquet or its folder."""
    import pandas as pd

    from zerochurn.synthetic.output import TREATMENT_TRUTH_FILE

    files = [path / TREATMENT_TRUTH_FILE if path.is_dir() else path for path in paths]
    missing = [str(file) for file in files if not file.is_file()]
    if missing:
        print_error(f"no true effects at {', '.join(missing)}: expected {TREATMENT_TRUTH_FILE}")
        raise typer.Exit(1)
    return pd.concat([pd.read_parquet(file) for file in files], ignore_index=True)


def uplift(
    ctx: typer.Context,
    campaign: Annotated[
        list[str] | None,
        typer.Option(help="Learn from this measured campaign (repeat) [default: every one]."),
    ] = None,
    truth: Annotated[
        list[Path] | None,
        typer.Option(
            help="A generated world's treatment_truth.parquet (or its data folder): also "
            "judge the model against the true effects (repeat)."
        ),
    ] = None,
) -> None:
    """Train the uplift model on measured campaigns, validate it, register it in MLflow.

    A validated model makes batch scores carry uplift and expected_saved_value, by which
    the at-risk list is then ranked (docs/campaigns.md#uplift).
    """
    from zerochurn.campaigns.learning import campaign_rows
    from zerochurn.campaigns.store import CampaignError
    from zerochurn.training.uplift_run import train_and_register_uplift

    settings = ctx.obj.settings()
    try:
        rows = campaign_rows(_store(settings), campaign or None, settings.campaigns)
    except CampaignError as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    effects = _truth_frame(truth) if truth else None
    title = f"training the uplift model on {len(rows):,} members of {', '.join(rows.names)}"
    with progress(title):
        outcome = train_and_register_uplift(rows, settings, effects)
    e = outcome.evaluation
    table = Table(title=f"uplift model version {outcome.version}: {e.customers:,} held-out members")
    for column in ("", "uplift model", "churn risk"):
        table.add_column(column, justify="left" if not column else "right")
    k = f"{settings.uplift.top_share:.0%}"
    table.add_row("Qini (realised)", f"{e.qini:.4f}", f"{e.risk_qini:.4f}")
    table.add_row(
        f"uplift at {k} (points)", f"{e.uplift_at_k * 100:+.1f}", f"{e.risk_uplift_at_k * 100:+.1f}"
    )
    if e.true_qini is not None:
        table.add_row("Qini (true effects)", f"{e.true_qini:.3f}", f"{e.risk_true_qini:.3f}")
        table.add_row(
            f"true effect of the top {k} (points)",
            f"{e.true_uplift_at_k * 100:.1f}",
            f"{e.risk_true_uplift_at_k * 100:.1f}",
        )
    console.print(table)
    colour = "green" if e.validated else "yellow"
    console.print(f"[{colour}]{e.verdict}[/]", highlight=False)
    if e.validated:
        console.print(
            "batch scores (zerochurn score) now carry uplift and expected_saved_value, and the "
            "at-risk list ranks by expected saved value"
        )
    console.print(f"MLflow run {outcome.run_id}", highlight=False)

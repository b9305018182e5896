"""`zerochurn run`: the whole job on the embedded defaults, then the service.

Besides the stage commands it needs the later, drifted world's flags and the summary of
where everything went.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from zerochurn.cli.data import features, generate, validate
from zerochurn.cli.monitoring import retrain
from zerochurn.cli.reports import churn, complaints, satisfaction
from zerochurn.cli.serving import at_risk, score, serve
from zerochurn.cli.training import train
from zerochurn.configs import Settings
from zerochurn.console import console
from zerochurn.logs import LOG_FILE

MASK_SHOWN = 4
"""Characters of the API key shown at each end when it is printed masked."""
REPORT_NAMES = ("satisfaction", "complaints", "churn")


def later_world_flags(settings: Settings) -> dict[str, object]:
    """`generate` flags for the same world run on `run.later_months` more months, drifted.

    The generator draws each month from its own seeded stream, so every month before the
    drift is identical to the training world; only the later months differ.
    """
    import pandas as pd

    first_later = pd.Timestamp(settings.generate.start) + pd.DateOffset(
        months=settings.generate.months
    )
    return {
        "months": settings.generate.months + settings.run.later_months,
        "drift": settings.run.later_drift,
        "drift_from": f"{first_later:%Y-%m}",
    }


def start_campaign(ctx: typer.Context, settings: Settings) -> str:
    """Start the demo campaign on the latest batch scores (the end of the training data); its name.

    The riskiest customers, not the most valuable: their churn is what a campaign of a few
    thousand can measure. The name carries the time, so a second run starts its own.
    """
    import datetime as dt

    from zerochurn.cli.campaigns import create

    name = f"run-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    create(ctx, name=name, top=settings.run.campaign_top, sort="churn_probability")
    return name


def finish_campaign(ctx: typer.Context, settings: Settings, name: str, data_dir: Path) -> None:
    """Record what happened in the later data, measure, and learn who responds (when measurable).

    A world too small to have transactions on the last days of the later months ends before
    the outcome window does: the campaign is then left not yet measurable, and said so.
    """
    from zerochurn.campaigns.measure import not_measurable_reason
    from zerochurn.campaigns.outcomes import observed_through
    from zerochurn.campaigns.store import CampaignStore
    from zerochurn.cli.campaigns import measure, record, uplift
    from zerochurn.contract.validate import load_raw

    store = CampaignStore(settings.campaigns_dir)
    window_end = store.get(name).window_end
    through = observed_through(load_raw(data_dir, as_of=settings.data.as_of))
    if through < window_end:
        console.print(
            f"[yellow]campaign {name} is not yet measurable: its outcome window ends on "
            f"{window_end}, the later data on {through} (run.later_months)[/]"
        )
        return
    record(ctx, name=name, data=data_dir)
    measure(ctx, name=name)
    campaign = store.get(name)
    if not_measurable_reason(campaign, store.outcomes(campaign), settings.campaigns) is None:
        uplift(ctx, campaign=[name], truth=[data_dir])


def latest_monitoring_report(workspace: Path) -> Path | None:
    """The newest Evidently drift report under <workspace>/monitoring, if any."""
    reports = sorted(
        (workspace / "monitoring").glob("*/drift.html"), key=lambda path: path.stat().st_mtime
    )
    return reports[-1] if reports else None


def masked(key: str) -> str:
    """An API key as it may be printed: its first and last characters only."""
    shown = min(MASK_SHOWN, len(key) // 4)
    return f"{key[:shown]}...{key[len(key) - shown :]}" if shown else "..."


def key_expression(settings: Settings, key: str) -> tuple[str, str]:
    """Where the service's key can be read, and a shell expression that reads it.

    The workspace's api_key file when it holds the key (`ensure_api_key` made it), else
    ZEROCHURN_API_KEYS when the key came from there, else a placeholder for a key
    configured in serving.api_keys.
    """
    from zerochurn.serving.auth import API_KEY_FILE, API_KEYS_ENV

    key_file = (settings.workspace / API_KEY_FILE).resolve()
    if key_file.is_file() and key_file.read_text().strip() == key:
        return str(key_file), f"$(cat {shlex.quote(str(key_file))})"
    if key in os.environ.get(API_KEYS_ENV, "").split(","):
        return API_KEYS_ENV, f"${{{API_KEYS_ENV}%%,*}}"
    return "serving.api_keys", "KEY"


def describe_outputs(
    settings: Settings, at_risk_csv: Path, reports: Sequence[Path], api_key: str
) -> None:
    """Tell people where the results are and how to call the service (key masked)."""
    host, port = settings.serving.host, settings.serving.port
    report = latest_monitoring_report(settings.workspace)
    where, expression = key_expression(settings, api_key)
    campaign_reports = sorted(settings.campaigns_dir.glob("*/measurement/campaign.html"))
    lines = [
        "Results",
        f"  at-risk list:        {at_risk_csv.resolve()}",
        *(
            f"  {name + ' report:':<21}{path.resolve()}"
            for name, path in zip(REPORT_NAMES, reports, strict=True)
        ),
        f"  Evidently report:    {report.resolve() if report else '(none)'}",
        f"  MLflow UI:           .venv/bin/mlflow ui --backend-store-uri {settings.tracking_uri}",
        f"  library log:         {(settings.workspace / LOG_FILE).resolve()}",
        f"  web workspace:       http://{host}:{port}/app/ (sign in with the API key)",
        *(f"  campaign report:     {path.resolve()}" for path in campaign_reports[-1:]),
        f"Call the service (API key {masked(api_key)} in {where}):",
        f'  curl -s -X POST http://{host}:{port}/at_risk -H "Authorization: Bearer {expression}"'
        " -H 'Content-Type: application/json' -d '{\"limit\": 5}'",
    ]
    for line in lines:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def run(
    ctx: typer.Context,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the service at the end.")
    ] = True,
) -> None:
    """The whole job on the embedded defaults, then the service.

    Generate a world and check it, build features, train and register; score the end of
    the data and start a retention campaign on the `run.campaign_top` riskiest customers;
    then simulate `run.later_months` more months with `run.later_drift` and the campaign's
    action, measure the campaign and train the uplift model on it, monitor the later months
    against the champion, retrain if the policy fires, re-score (ranked by expected saved
    value if the uplift model was validated), write the at-risk list and the satisfaction,
    complaint and churn reports, and serve on 127.0.0.1 (the JSON API and the web workspace
    at /app/).
    """
    from zerochurn.serving.auth import ensure_api_key

    settings = ctx.obj.settings()
    generate(ctx)
    validate(ctx)
    features(ctx)
    train(ctx)
    score(ctx)  # the end of the training data: the first point of every score history
    later_dir = settings.workspace / "data_later"
    campaign = start_campaign(ctx, settings) if settings.run.campaign_top else None
    generate(ctx, **later_world_flags(settings), out=later_dir, campaign=campaign)
    if campaign is not None:
        finish_campaign(ctx, settings, campaign, later_dir)
    retrain(ctx, data_dir=later_dir, if_needed=True)
    score(ctx, data_dir=later_dir)
    at_risk_csv = settings.workspace / "at_risk.csv"
    at_risk(ctx, out=at_risk_csv, top=settings.run.at_risk_top)
    reports = [
        satisfaction(ctx, data_dir=later_dir),
        complaints(ctx, data_dir=later_dir),
        churn(ctx, data_dir=later_dir),
    ]
    api_key = ensure_api_key(settings)
    describe_outputs(settings, at_risk_csv, reports, api_key)
    console.print(f"[bold green]zerochurn run finished[/]; everything is in {settings.workspace}")
    if serve_after:
        serve(ctx)

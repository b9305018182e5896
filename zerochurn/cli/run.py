"""`zerochurn run`: the whole job on the embedded defaults, then the service.

Besides the stage commands it needs the later, drifted world's flags and the summary of
where everything went.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zerochurn.cli.data import features, generate, validate
from zerochurn.cli.monitoring import retrain
from zerochurn.cli.serving import at_risk, score, serve
from zerochurn.cli.training import train
from zerochurn.configs import Settings
from zerochurn.console import console


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


def latest_monitoring_report(workspace: Path) -> Path | None:
    """The newest Evidently drift report under <workspace>/monitoring, if any."""
    reports = sorted(
        (workspace / "monitoring").glob("*/drift.html"), key=lambda path: path.stat().st_mtime
    )
    return reports[-1] if reports else None


def describe_outputs(settings: Settings, at_risk_csv: Path, api_key: str) -> None:
    """Tell people where the results are and how to call the service."""
    host, port = settings.serving.host, settings.serving.port
    report = latest_monitoring_report(settings.workspace)
    console.print("[bold]Results[/]")
    console.print(f"  at-risk list:      {at_risk_csv.resolve()}")
    console.print(f"  Evidently report:  {report.resolve() if report else '(none)'}")
    console.print(
        f"  MLflow UI:         .venv/bin/mlflow ui --backend-store-uri {settings.tracking_uri}"
    )
    console.print("  reports:           zerochurn report satisfaction|complaints|churn")
    console.print(
        f"  web workspace:     http://{host}:{port}/app/ (sign in with the API key below)"
    )
    console.print("[bold]Call the service[/] (API key in ZEROCHURN_API_KEYS or the workspace):")
    console.print(
        f"  curl -s -X POST http://{host}:{port}/at_risk -H 'Authorization: Bearer {api_key}'"
        " -H 'Content-Type: application/json' -d '{\"limit\": 5}'",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def run(
    ctx: typer.Context,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the service at the end.")
    ] = True,
) -> None:
    """The whole job on the embedded defaults, then the service.

    Generate a world and check it, build features, train and register, batch-score;
    then simulate `run.later_months` more months with `run.later_drift`, monitor them
    against the champion, retrain if the policy fires, re-score, write the at-risk list,
    and serve on 127.0.0.1 (the JSON API and the web workspace at /app/).
    """
    from zerochurn.serving.auth import ensure_api_key

    settings = ctx.obj.settings()
    generate(ctx)
    validate(ctx)
    features(ctx)
    train(ctx)
    score(ctx)  # the end of the training data: the first point of every score history
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

"""Pieces of `zerochurn run` that are not stages: the later world, the API key, the summary."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pandas as pd

from zerochurn.configs import Settings
from zerochurn.console import console

API_KEYS_ENV = "ZEROCHURN_API_KEYS"
API_KEY_FILE = "api_key"
API_KEY_BYTES = 24


def later_world_flags(settings: Settings) -> dict[str, object]:
    """`generate` flags for the same world run on `run.later_months` more months, drifted.

    The generator draws each month from its own seeded stream, so every month before the
    drift is identical to the training world; only the later months differ.
    """
    first_later = pd.Timestamp(settings.generate.start) + pd.DateOffset(
        months=settings.generate.months
    )
    return {
        "months": settings.generate.months + settings.run.later_months,
        "drift": settings.run.later_drift,
        "drift_from": f"{first_later:%Y-%m}",
    }


def ensure_api_key(settings: Settings) -> str:
    """An API key the service will accept: a configured one, else a new random key.

    A new key is put in ZEROCHURN_API_KEYS for the service started by this process and
    written to <workspace>/api_key (readable by the owner only).
    """
    configured = [k for k in os.environ.get(API_KEYS_ENV, "").split(",") if k.strip()]
    configured += list(settings.serving.api_keys)
    if configured:
        return configured[0].strip()
    key = secrets.token_urlsafe(API_KEY_BYTES)
    os.environ[API_KEYS_ENV] = key
    path = settings.workspace / API_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


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
    console.print("[bold]Call the service[/] (API key in ZEROCHURN_API_KEYS or the workspace):")
    console.print(
        f"  curl -s -X POST http://{host}:{port}/at_risk -H 'Authorization: Bearer {api_key}'"
        " -H 'Content-Type: application/json' -d '{\"limit\": 5}'",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )

"""What every page shares: the app's state, the templates with their number filters, and
`render`, which adds the session's CSRF token and sign-in state to a template's context."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from zerochurn.configs.settings import Settings
from zerochurn.serving.runtime import ScoringRuntime
from zerochurn.serving.web.folder import DataViews
from zerochurn.serving.web.health import HealthCache
from zerochurn.serving.web.history import ScoreHistory
from zerochurn.serving.web.session import APP_PREFIX, csrf_token, signed_in

HERE = Path(__file__).parent
MISSING = "n/a"
"""How a page shows a missing number."""


@dataclass(frozen=True)
class WebState:
    """What the pages share: settings, the runtime, the at-risk request model, raw-data views,
    score history and the model-health facts."""

    settings: Settings
    runtime: Callable[[], ScoringRuntime]
    at_risk_request: type[BaseModel]
    data: DataViews
    history: ScoreHistory
    health: HealthCache
    templates: Jinja2Templates


def _missing(value: float | None) -> bool:
    return value is None or value != value  # None or NaN


def money(value: float | None) -> str:
    """An amount of money without decimals, thousands separated: 12,345."""
    return MISSING if _missing(value) else f"{value:,.0f}"


def percent(value: float | None, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.1234 -> 12.3%."""
    return MISSING if _missing(value) else f"{value * 100:,.{decimals}f}%"


def number(value: float | None, decimals: int = 0) -> str:
    """A number with thousands separators and `decimals` decimals."""
    return MISSING if _missing(value) else f"{value:,.{decimals}f}"


def when(stamp: str | None) -> str:
    """An ISO 8601 time as the pages show it: 2026-11-24 19:40 UTC (a date stays a date)."""
    if not stamp:
        return MISSING
    moment = pd.Timestamp(stamp)
    if moment.tzinfo is None and moment == moment.normalize():
        return f"{moment:%Y-%m-%d}"
    return f"{moment.tz_convert('UTC') if moment.tzinfo else moment:%Y-%m-%d %H:%M} UTC"


def shown_path(path: Path, workspace: Path) -> str:
    """A folder as the pages name it: from the workspace's own name when inside it
    (workspace/data_later), else in full."""
    root = workspace.resolve()
    resolved = Path(path).resolve()
    if resolved.is_relative_to(root):
        return str(Path(root.name) / resolved.relative_to(root))
    return str(resolved)


def _label(name: str) -> str:
    return name.replace("_", " ")


def templates() -> Jinja2Templates:
    """The page templates (package data of serving/web) with the number filters they use."""
    found = Jinja2Templates(directory=HERE / "templates")
    environment: Environment = found.env
    environment.filters.update(money=money, percent=percent, number=number, label=_label, when=when)
    environment.globals.update(app=APP_PREFIX)
    return found


def web_state(request: Request) -> WebState:
    """The state of the app that received `request`."""
    return request.app.state.web


def render(
    request: Request, name: str, context: Mapping[str, Any], status_code: int = 200
) -> Response:
    """Template `name` with the session's CSRF token and sign-in state added to `context`."""
    full = {"csrf_token": csrf_token(request), "signed_in": signed_in(request), **context}
    return web_state(request).templates.TemplateResponse(
        request, name, full, status_code=status_code
    )

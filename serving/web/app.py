"""The web workspace as a Starlette app, which the BentoML service mounts at /app.

`build_web_app` wires the pages (pages.py) to their paths, the signed session cookie
(session.py), security headers on every answer, the templates and the static files. The
pages reach the service's live runtime through `runtime` (by default the running
service instance's, `bentoml.get_current_service()`), so a page calls the same runtime
method as the JSON API. `root_app` answers GET / of the service with a redirect here.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from zerochurn.configs.settings import Settings
from zerochurn.serving.batch import snapshot_store
from zerochurn.serving.runtime import ScoringRuntime
from zerochurn.serving.schemas import request_models
from zerochurn.serving.store import SnapshotMissingError, SnapshotUnusableError
from zerochurn.serving.web import pages
from zerochurn.serving.web.folder import DataViews
from zerochurn.serving.web.health import HealthCache
from zerochurn.serving.web.history import ScoreHistory
from zerochurn.serving.web.rendering import WebState, templates
from zerochurn.serving.web.session import (
    APP_PREFIX,
    HOME,
    SESSION_COOKIE,
    fingerprint,
    session_secret,
)

HERE = Path(__file__).parent
SECONDS_PER_HOUR = 3600
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""Headers of every answer of the workspace, unless the route set its own (a report's CSP)."""


def current_runtime() -> ScoringRuntime:
    """The runtime of the service instance this process serves (set when BentoML starts it)."""
    import bentoml

    return bentoml.get_current_service().runtime


class SecurityHeaders:
    """ASGI middleware: SECURITY_HEADERS on every response that does not set them itself."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_web_app(
    settings: Settings,
    keys: frozenset[str],
    runtime: Callable[[], ScoringRuntime] = current_runtime,
    *,
    environ: Mapping[str, str] = os.environ,
    warm: bool = True,
) -> Starlette:
    """The workspace app: signs in with any of `keys` (the service's API keys).

    warm: build the raw-data views in the background when the app starts.
    """
    store = snapshot_store(settings)
    state = WebState(
        settings=settings,
        runtime=runtime,
        at_risk_request=request_models(settings).at_risk,
        data=DataViews(settings, store),
        history=ScoreHistory(settings),
        health=HealthCache(settings, settings.web.registry_seconds),
        templates=templates(),
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if warm:
            state.data.warm()
        yield

    app = Starlette(
        routes=[
            Route("/", pages.at_risk, name="at_risk"),
            Route("/at-risk.csv", pages.at_risk_csv, name="at_risk_csv"),
            Route("/customers/{customer_id:path}", pages.customer, name="customer"),
            Route("/segments", pages.segments, name="segments"),
            Route("/satisfaction", pages.satisfaction, name="satisfaction"),
            Route("/complaints", pages.complaints, name="complaints"),
            Route("/model", pages.model, name="model"),
            Route("/charts/{report}/{chart}.svg", pages.report_chart, name="report_chart"),
            Route("/monitoring/{run}/{file}", pages.monitoring_file, name="monitoring_file"),
            Route("/signin", pages.signin_form, methods=["GET"], name="signin"),
            Route("/signin", pages.signin, methods=["POST"]),
            Route("/signout", pages.signout, methods=["POST"], name="signout"),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=session_secret(keys, environ),
                session_cookie=SESSION_COOKIE,
                max_age=round(settings.web.session_hours * SECONDS_PER_HOUR),
                path=APP_PREFIX,
                same_site="lax",
                https_only=settings.web.secure_cookie,
            ),
        ],
        exception_handlers={
            SnapshotMissingError: pages.no_scores,
            SnapshotUnusableError: pages.no_scores,
        },
        lifespan=lifespan,
    )
    app.state.web = state
    app.state.fingerprints = frozenset(fingerprint(key) for key in keys)
    return app


def root_app() -> Starlette:
    """An app for the service's "/": GET / goes to the workspace.

    Mounted at "/", it takes over BentoML's index page at "/" (mounted apps come first in
    BentoML's router; only paths this app has a route for are taken).
    """

    async def home(_: Request) -> Response:
        return RedirectResponse(HOME, status_code=307)

    return Starlette(routes=[Route("/", home, methods=["GET", "HEAD"])])

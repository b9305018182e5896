"""API-key authentication of the scoring service: `Authorization: Bearer KEY` on every call.

Keys come from ServingConfig.api_keys and the ZEROCHURN_API_KEYS environment variable
(comma-separated; keep secrets there, not in files). The paths answered without a key are
declared here, in one list (`open_paths`, `OPEN_PREFIXES`): the probes, the API
documentation and the static files of its page, "/" and the web workspace under /app (its
own sign-in), and /metrics when serving.metrics is "open". With no key
configured at all every other call is refused.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

from zerochurn.configs.settings import ServingConfig, Settings
from zerochurn.serving.docs import DOCS_PATH, DOCUMENT_PATH, PROBES, STATIC_PREFIX
from zerochurn.serving.http import error_body, under

API_KEYS_ENV = "ZEROCHURN_API_KEYS"
API_KEY_FILE = "api_key"
"""File of the workspace holding the key `ensure_api_key` made."""
API_KEY_BYTES = 24
METRICS_PATH = "/metrics"
OPEN_PATHS = frozenset({*PROBES, "/", DOCS_PATH, DOCUMENT_PATH})
"""Paths answered without a key: BentoML's probes, the API docs, and "/" (a redirect to the
web workspace)."""
OPEN_PREFIXES = ("/app", STATIC_PREFIX.rstrip("/"))
"""Trees of paths answered without a key: the web workspace, which signs its visitors in
itself with a session cookie (serving/web/session.py; the cookie opens nothing else), and
the Swagger UI files of the docs page."""
BEARER = "bearer "
"""Authorization scheme prefix, compared case-insensitively (RFC 6750)."""

Scope = dict[str, Any]
ASGIApp = Callable[..., Awaitable[None]]


def api_keys(config: ServingConfig, environ: Mapping[str, str]) -> frozenset[str]:
    """Every accepted key: the configured ones and those in ZEROCHURN_API_KEYS."""
    from_env = environ.get(API_KEYS_ENV, "").split(",")
    return frozenset(key.strip() for key in (*config.api_keys, *from_env) if key.strip())


def open_paths(config: ServingConfig) -> frozenset[str]:
    """OPEN_PATHS, and /metrics when serving.metrics is "open"."""
    return OPEN_PATHS | ({METRICS_PATH} if config.metrics == "open" else set())


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


def is_open(path: str, open: frozenset[str] = OPEN_PATHS) -> bool:
    """Whether `path` is answered without a key: in `open` (`open_paths`), or a prefix of
    OPEN_PREFIXES itself or below it ("/app", "/app/..." but not "/application")."""
    return path in open or under(path, OPEN_PREFIXES)


def _bearer_token(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            if value[: len(BEARER)].lower() == BEARER.encode():
                return value[len(BEARER) :].strip()
            return None
    return None


class BearerAuth:
    """ASGI middleware: 401 unless the request carries one of `keys` as a bearer token.

    Keys are compared in constant time, against every key, so timing reveals nothing.
    Paths in `open` and under OPEN_PREFIXES need no key (`is_open`).
    """

    def __init__(self, app: ASGIApp, keys: frozenset[str], open: frozenset[str]) -> None:
        self.app = app
        self.keys = tuple(key.encode() for key in keys)
        self.open = open

    def _allowed(self, token: bytes | None) -> bool:
        matches = [hmac.compare_digest(token, key) for key in self.keys] if token else []
        return any(matches)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or is_open(scope["path"], self.open):
            await self.app(scope, receive, send)
            return
        if not self._allowed(_bearer_token(scope)):
            response = JSONResponse(
                error_body("missing or invalid API key: send the header Authorization: Bearer KEY"),
                status_code=HTTPStatus.UNAUTHORIZED,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

"""Sign-in to the web workspace: a signed session cookie holding an API key's fingerprint.

A visitor signs in with one of the service's API keys (auth.api_keys). The session
(Starlette's SessionMiddleware: base64 JSON signed with itsdangerous, HttpOnly, SameSite
Lax, path /app) keeps only a fingerprint of the key, never the key, and every request
checks that fingerprint against the keys configured now, so removing a key signs its
sessions out. Forms carry a per-session CSRF token (synchroniser pattern) checked on
every POST. The signing secret is ZEROCHURN_SESSION_SECRET or, without it, derived from
the API keys, so every worker and every restart accepts the same cookies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import wraps
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

SESSION_SECRET_ENV = "ZEROCHURN_SESSION_SECRET"
"""Environment variable with the cookie-signing secret (optional; secrets stay out of files)."""
SESSION_COOKIE = "zerochurn_session"
CSRF_FIELD = "csrf_token"
"""Hidden form field of the CSRF token."""
CSRF_BYTES = 32
KEY_SESSION = "key"
CSRF_SESSION = "csrf"
FINGERPRINT_CHARS = 32
SECRET_CONTEXT = b"zerochurn web session v1"
"""HMAC key of the derivation: a secret derived from the API keys is used for nothing else."""
APP_PREFIX = "/app"
HOME = APP_PREFIX + "/"
SIGN_IN = APP_PREFIX + "/signin"

Page = Callable[[Request], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


def fingerprint(key: str) -> str:
    """What a session keeps of an API key: a SHA-256 prefix, from which the key cannot be had."""
    return hashlib.sha256(key.encode()).hexdigest()[:FINGERPRINT_CHARS]


def session_secret(keys: Iterable[str], environ: Mapping[str, str]) -> str:
    """The cookie-signing secret: ZEROCHURN_SESSION_SECRET, else an HMAC of every API key.

    Derived, it is the same in every worker and after a restart, changes when any key
    changes (which signs everyone out) and cannot be computed without all the keys.
    Without any key nobody can sign in, and a random secret does.
    """
    configured = environ.get(SESSION_SECRET_ENV, "").strip()
    if configured:
        return configured
    ordered = sorted(set(keys))
    if not ordered:
        return secrets.token_hex(CSRF_BYTES)
    message = "\n".join(ordered).encode()
    return hmac.new(SECRET_CONTEXT, message, hashlib.sha256).hexdigest()


def matching_fingerprint(key: str, known: Iterable[str]) -> str | None:
    """The fingerprint of `key` if it is one of `known`, compared in constant time against all."""
    if not key:
        return None
    candidate = fingerprint(key)
    matches = [hmac.compare_digest(candidate, other) for other in known]
    return candidate if any(matches) else None


def signed_in(request: Request) -> bool:
    """Whether the session holds the fingerprint of a key the service accepts now."""
    held = request.session.get(KEY_SESSION)
    return isinstance(held, str) and held in request.app.state.fingerprints


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_SESSION)
    if not isinstance(token, str):
        token = request.session[CSRF_SESSION] = secrets.token_urlsafe(CSRF_BYTES)
    return token


async def csrf_ok(request: Request) -> bool:
    """Whether a POST carries the session's CSRF token in its form."""
    expected = request.session.get(CSRF_SESSION)
    sent = (await request.form()).get(CSRF_FIELD)
    return (
        isinstance(expected, str)
        and isinstance(sent, str)
        and hmac.compare_digest(sent.encode(), expected.encode())
    )


def start_session(request: Request, key_fingerprint: str) -> None:
    """A fresh session for a signed-in key: nothing carried over, a new CSRF token."""
    request.session.clear()
    request.session[KEY_SESSION] = key_fingerprint
    request.session[CSRF_SESSION] = secrets.token_urlsafe(CSRF_BYTES)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of the workspace, else its home (no open redirect)."""
    if not target:
        return HOME
    parts = urlsplit(target)
    inside = target == APP_PREFIX or target.startswith(HOME)
    if parts.scheme or parts.netloc or target.startswith("//") or "\\" in target or not inside:
        return HOME
    return target


def login_required(page: Page) -> Endpoint:
    """An endpoint running `page` in a worker thread for a signed-in visitor only.

    An anonymous visitor is sent to the sign-in page, then back here; an htmx request
    gets 401 with HX-Redirect instead (it would swap the sign-in page into a part of the
    page). Pages are plain functions: they read SQLite and files, which would block the
    event loop.
    """

    @wraps(page)
    async def guarded(request: Request) -> Response:
        if signed_in(request):
            return await run_in_threadpool(page, request)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": SIGN_IN})
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{SIGN_IN}?next={quote(here, safe='/')}", status_code=303)

    return guarded

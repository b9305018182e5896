"""Signing in to the web workspace: the session cookie, CSRF, redirects and refusals.

The workspace app runs in process (Starlette's TestClient). Nothing here reaches a page's
content, so the app's runtime (the service's) is never asked for; the live service and a
real browser are tests/test_web_e2e.py's.
"""

from __future__ import annotations

import base64
import json
import re
import warnings

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from zerochurn.configs import load_settings
from zerochurn.serving.auth import is_open
from zerochurn.serving.runtime import ScoringRuntime
from zerochurn.serving.web.app import build_web_app, root_app
from zerochurn.serving.web.session import (
    SESSION_COOKIE,
    SESSION_SECRET_ENV,
    fingerprint,
    matching_fingerprint,
    safe_next,
    session_secret,
)

with warnings.catch_warnings():  # starlette 1.x would rather have httpx2; httpx still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

KEY = "key-one"
PAGES = [
    "/app/",
    "/app/?region=north",
    "/app/at-risk.csv",
    "/app/customers/C00000001",
    "/app/segments",
    "/app/satisfaction",
    "/app/complaints",
    "/app/model",
    "/app/charts/complaints/0-0.svg",
    "/app/monitoring/20261124T194044.487974Z/drift.html",
]


def _no_runtime():
    raise AssertionError("an anonymous request reached a page")


def _mounted(web: Starlette) -> Starlette:
    """The workspace at /app, as the service mounts it."""
    return Starlette(routes=[Mount("/app", app=web)])


def _app(tmp_path, keys=frozenset({KEY, "key-two"}), environ=None):
    settings = load_settings(overrides={"workspace": str(tmp_path)}, environ={})
    web = build_web_app(settings, keys, _no_runtime, environ=environ or {}, warm=False)
    return TestClient(_mounted(web), base_url="http://127.0.0.1")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _sign_in(client: TestClient, key: str = KEY, next_page: str = "/app/"):
    token = _csrf(client.get("/app/signin").text)
    form = {"api_key": key, "csrf_token": token, "next": next_page}
    return client.post("/app/signin", data=form, follow_redirects=False)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_and_export_sends_an_anonymous_visitor_to_sign_in(tmp_path, path):
    with _app(tmp_path) as client:
        answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/app/signin?next=/app/")


def test_an_anonymous_htmx_request_is_told_where_to_sign_in(tmp_path):
    with _app(tmp_path) as client:
        answer = client.get("/app/?region=north", headers={"HX-Request": "true"})
    assert (answer.status_code, answer.headers["hx-redirect"]) == (401, "/app/signin")


def test_sign_in_sets_a_guarded_cookie_without_the_key_and_returns_to_the_page(tmp_path):
    with _app(tmp_path) as client:
        answer = _sign_in(client, next_page="/app/segments?by=plan")
        cookie = answer.headers["set-cookie"]
    assert (answer.status_code, answer.headers["location"]) == (303, "/app/segments?by=plan")
    assert all(flag in cookie for flag in ("httponly", "samesite=lax", "path=/app"))
    assert "secure" not in cookie
    assert KEY not in cookie and KEY not in answer.text


def test_a_secure_cookie_when_configured(tmp_path):
    settings = load_settings(
        overrides={"workspace": str(tmp_path), "web.secure_cookie": True}, environ={}
    )
    web = build_web_app(settings, frozenset({KEY}), _no_runtime, environ={}, warm=False)
    with TestClient(_mounted(web), base_url="https://127.0.0.1") as client:
        assert "secure" in _sign_in(client).headers["set-cookie"]


def test_a_wrong_key_is_refused_and_not_echoed(tmp_path):
    with _app(tmp_path) as client:
        answer = _sign_in(client, key="guess-one")
        assert answer.status_code == 401
        assert "is not one of the service" in answer.text
        assert "guess-one" not in answer.text
        assert client.get("/app/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_post_without_the_session_token_is_refused(tmp_path, token):
    with _app(tmp_path) as client:
        client.get("/app/signin")
        form = {"api_key": KEY} | ({} if token is None else {"csrf_token": token})
        assert client.post("/app/signin", data=form).status_code == 403
        assert _sign_in(client).status_code == 303
        assert client.post("/app/signout", data=form).status_code == 403
        assert client.get("/app/signin", follow_redirects=False).status_code == 303  # still in


def _session(client: TestClient) -> dict:
    """The session's data: the cookie is signed, not encrypted, so it can be read."""
    payload = client.cookies.get(SESSION_COOKIE).split(".")[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))


def test_sign_in_starts_a_new_session_holding_a_fingerprint_and_a_new_token(tmp_path):
    with _app(tmp_path) as client:
        before = _csrf(client.get("/app/signin").text)
        _sign_in(client)
        session = _session(client)
        # a signed-in visitor is sent on from the sign-in page
        assert (
            client.get("/app/signin?next=/app/model", follow_redirects=False).headers["location"]
            == "/app/model"
        )
    assert session == {"key": fingerprint(KEY), "csrf": session["csrf"]}
    assert session["csrf"] != before


def test_sign_out_ends_the_session(tmp_path):
    with _app(tmp_path) as client:
        _sign_in(client)
        form = {"csrf_token": _session(client)["csrf"]}
        out = client.post("/app/signout", data=form, follow_redirects=False)
        assert (out.status_code, out.headers["location"]) == (303, "/app/signin")
        assert client.get("/app/", follow_redirects=False).status_code == 303


def test_removing_a_key_signs_its_sessions_out(tmp_path):
    environ = {SESSION_SECRET_ENV: "shared-secret"}  # the same cookies stay valid
    with _app(tmp_path, environ=environ) as client:
        _sign_in(client)
        cookie = client.cookies.get(SESSION_COOKIE)
    with _app(tmp_path, keys=frozenset({"key-two"}), environ=environ) as client:
        client.cookies.set(SESSION_COOKIE, cookie, path="/app")
        assert client.get("/app/", follow_redirects=False).status_code == 303


def test_a_cookie_signed_with_another_secret_is_ignored(tmp_path):
    with _app(tmp_path, environ={SESSION_SECRET_ENV: "one"}) as client:
        _sign_in(client)
        cookie = client.cookies.get(SESSION_COOKIE)
    with _app(tmp_path, environ={SESSION_SECRET_ENV: "two"}) as client:
        client.cookies.set(SESSION_COOKIE, cookie, path="/app")
        assert client.get("/app/", follow_redirects=False).status_code == 303


def _signed_in_get(workspace, path: str):
    """GET `path` signed in, from a workspace's own runtime (its store as it is)."""
    settings = load_settings(overrides={"workspace": str(workspace)}, environ={})
    runtime = ScoringRuntime(settings, loader=lambda _: None)  # the store is asked first
    web = build_web_app(settings, frozenset({KEY}), lambda: runtime, environ={}, warm=False)
    with TestClient(_mounted(web), base_url="http://127.0.0.1") as client:
        _sign_in(client)
        return client.get(path)


def test_before_any_batch_scoring_a_page_says_what_to_run(tmp_path):
    answer = _signed_in_get(tmp_path, "/app/")
    assert answer.status_code == 503
    assert "No scores yet" in answer.text and "run zerochurn score" in answer.text


def test_pages_carry_security_headers(tmp_path):
    with _app(tmp_path) as client:
        answer = client.get("/app/signin")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"


def test_root_redirects_to_the_workspace():
    with TestClient(root_app()) as client:
        answer = client.get("/", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (307, "/app/")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/app/segments?by=plan", "/app/segments?by=plan"),
        ("/app", "/app"),
        (None, "/app/"),
        ("https://evil.example/app/", "/app/"),
        ("//evil.example/app/", "/app/"),
        ("/\\evil.example", "/app/"),
        ("/application", "/app/"),
        ("/at_risk", "/app/"),
        ("javascript:alert(1)", "/app/"),
    ],
)
def test_next_stays_inside_the_workspace(target, expected):
    assert safe_next(target) == expected


def test_session_secret_is_derived_from_every_key_unless_given():
    one = session_secret({"key-a", "key-b"}, {})
    assert one == session_secret(["key-b", "key-a", "key-a"], {})  # every worker, every restart
    assert one not in (session_secret({"key-a"}, {}), session_secret({"key-a", "key-c"}, {}))
    assert "key-a" not in one and "key-b" not in one
    assert session_secret({"key-a"}, {SESSION_SECRET_ENV: "given"}) == "given"
    assert session_secret(set(), {}) != session_secret(set(), {})  # nobody can sign in anyway


def test_a_key_matches_by_fingerprint_only():
    known = {fingerprint("k1"), fingerprint("k2")}
    assert matching_fingerprint("k2", known) == fingerprint("k2")
    assert matching_fingerprint("k3", known) is None
    assert matching_fingerprint("", known) is None
    assert "k1" not in fingerprint("k1")


@pytest.mark.parametrize(
    ("path", "opened"),
    [
        ("/", True),
        ("/app", True),
        ("/app/", True),
        ("/app/customers/C1", True),
        ("/application", False),
        ("/at_risk", False),
        ("/docs.json", True),
        ("/static_content/swagger-ui.css", True),
        ("/metrics", False),
        ("/healthz", True),
    ],
)
def test_the_bearer_middleware_leaves_the_workspace_to_its_sessions(path, opened):
    assert is_open(path) is opened


def test_a_damaged_snapshot_store_is_named_not_a_server_error(tmp_path):
    (tmp_path / "scores").mkdir()
    (tmp_path / "scores" / "snapshot.sqlite").write_bytes(b"not a database at all" * 100)
    answer = _signed_in_get(tmp_path, "/app/segments")
    assert answer.status_code == 503
    assert "Scores unreadable" in answer.text and "snapshot.sqlite" in answer.text

"""API keys: where they come from, and the middleware that checks them."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.responses import PlainTextResponse

from zerochurn.configs.settings import ServingConfig
from zerochurn.serving.auth import API_KEYS_ENV, BearerAuth, api_keys, open_paths


def test_keys_from_config_and_environment():
    config = ServingConfig(api_keys=("from-file",))
    keys = api_keys(config, {API_KEYS_ENV: " k1, ,k2 "})
    assert keys == {"from-file", "k1", "k2"}
    assert api_keys(ServingConfig(), {}) == frozenset()


def _post(
    keys: frozenset[str], path: str, headers: dict[str, str], config: ServingConfig | None = None
) -> httpx.Response:
    """POST to an app that answers "ok", behind BearerAuth with `config`'s open paths."""
    config = config or ServingConfig()

    async def ok(scope, receive, send):
        await PlainTextResponse("ok")(scope, receive, send)

    async def call() -> httpx.Response:
        app = BearerAuth(ok, keys=keys, open=open_paths(config))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(path, headers=headers)

    return asyncio.run(call())


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": "k1"}, 401),
        ({"Authorization": "Basic k1"}, 401),
        ({"Authorization": "Bearer k1"}, 200),
        ({"Authorization": "bearer k2"}, 200),
    ],
)
def test_bearer_token_is_required(headers, status):
    response = _post(frozenset({"k1", "k2"}), "/score", headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json() == {
            "error": "missing or invalid API key: send the header Authorization: Bearer KEY",
            "detail": [],
        }


def test_probes_are_open_and_no_keys_means_nobody_gets_in():
    assert _post(frozenset(), "/readyz", {}).status_code == 200
    assert _post(frozenset(), "/score", {"Authorization": "Bearer "}).status_code == 401


@pytest.mark.parametrize(
    "path", ["/", "/docs", "/docs.json", "/healthz", "/static_content/swagger-ui.css"]
)
def test_docs_and_probes_need_no_key(path):
    assert _post(frozenset({"k1"}), path, {}).status_code == 200


@pytest.mark.parametrize(("exposure", "status"), [("key", 401), ("open", 200), ("off", 401)])
def test_metrics_exposure_is_a_setting(exposure, status):
    config = ServingConfig(metrics=exposure)
    assert _post(frozenset({"k1"}), "/metrics", {}, config).status_code == status
    assert _post(frozenset({"k1"}), "/metrics", {"Authorization": "Bearer k1"}, config).is_success

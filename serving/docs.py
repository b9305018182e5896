"""The API's documentation: an OpenAPI 3.1 document and a Swagger page, readable without a key.

BentoML's own document (/docs.json) is OpenAPI 3.0 with the title "zerochurn", version
"None" outside a Bento, no security scheme, error bodies of another shape than those sent,
and request and response schemas flattened to the first branch of every union (a
`float | None` becomes a plain number). Its Swagger page at "/" loads Google Tag Manager
(the service's "/" now leads to the web workspace: serving/web/app.py, `root_app`).
Here the document is built from the handlers' own pydantic models, with:

- the service's title and zerochurn's version;
- bearer authentication declared (`securitySchemes`), so generated clients send the key;
- every status each operation can return (`service.py` declares them per handler), each
  error with the one Error schema of serving/http.py;

and the page at /docs uses BentoML's bundled Swagger UI files without any tracking script.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel

import zerochurn
from zerochurn.serving.http import FIELD_ERROR_KEYS, JSON_TYPE

TITLE = "zerochurn scoring API"
DOCS_PATH = "/docs"
DOCUMENT_PATH = "/docs.json"
STATIC_PREFIX = "/static_content/"
"""BentoML's bundled Swagger UI files (no tracker among them), served by BentoML."""
REF = "#/components/schemas/{model}"
SCHEME = "bearerAuth"
PROBES = {
    "/healthz": "The process is up.",
    "/livez": "The process is up.",
    "/readyz": "Ready to serve: the model is loaded and the snapshot store, if any, is usable.",
}
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong, for a person to read."},
        "detail": {
            "type": "array",
            "description": "The fields at fault (for 400): pydantic's type, loc and msg; "
            "else empty.",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
                "required": list(FIELD_ERROR_KEYS),
            },
        },
    },
}
PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>{title}</title>
    <link rel="stylesheet" type="text/css" href="{static}swagger-ui.css">
    <link rel="icon" type="image/png" href="{static}favicon-light-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="{static}swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="{static}swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script src="{static}swagger-initializer.js" charset="UTF-8"></script>
  </body>
</html>
"""
"""The Swagger page: BentoML's bundle and initializer (which reads ./docs.json), nothing else."""


def _error(status: int) -> dict[str, Any]:
    return {
        "description": HTTPStatus(status).phrase,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }


def _schema(model: type[BaseModel], mode: str, schemas: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of `model`, its sub-models moved to components.schemas."""
    schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    schemas.update(schema.pop("$defs", {}))
    return schema


def _operation(
    handler: Callable[..., Any], errors: Iterable[int], schemas: dict[str, Any]
) -> dict[str, Any]:
    """A POST operation from a handler `(self, request: Model, /) -> Model` and its errors."""
    hints = typing.get_type_hints(handler)
    request = _schema(hints["request"], "validation", schemas)
    response = _schema(hints["return"], "serialization", schemas)
    summary, _, description = (handler.__doc__ or "").strip().partition("\n")
    return {
        "summary": summary,
        "description": description.strip(),
        "operationId": handler.__name__,
        "requestBody": {
            # BentoML reads an empty body as {}: required only when a field is
            "required": bool(request.get("required")),
            "content": {"application/json": {"schema": request}},
        },
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": response}}},
            **{str(status): _error(status) for status in sorted(set(errors))},
        },
    }


def _probe(summary: str, statuses: Iterable[int]) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "OK"}}
    responses |= {str(status): _error(status) for status in statuses}
    return {"get": {"summary": summary, "security": [], "responses": responses}}


def openapi_document(
    routes: Mapping[str, tuple[Callable[..., Any], Iterable[int]]],
    *,
    description: str,
    metrics: str,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service.

    Parameters
    ----------
    routes : path -> (handler, the error statuses it can answer), every one a POST
    description : what the service does, for the document's info
    metrics : ServingConfig.metrics: "open" (no key), "key" or "off" (no /metrics)
    """
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {
        path: {"post": _operation(handler, errors, schemas)}
        for path, (handler, errors) in routes.items()
    }
    for path, summary in PROBES.items():
        paths[path] = _probe(summary, [HTTPStatus.SERVICE_UNAVAILABLE] if "ready" in path else [])
    if metrics != "off":
        operation = _probe("Prometheus metrics of the service.", [])["get"]
        operation["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
        if metrics == "key":
            del operation["security"]
            operation["responses"]["401"] = _error(HTTPStatus.UNAUTHORIZED)
        paths["/metrics"] = {"get": operation}
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": zerochurn.__version__, "description": description},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key of ZEROCHURN_API_KEYS or serving.api_keys.",
                }
            },
        },
        "security": [{SCHEME: []}],
    }


class ApiDocs:
    """ASGI middleware answering GET /docs (the page) and /docs.json (the document).

    The document is built on the first request and kept.
    """

    def __init__(self, app: Any, document: Callable[[], dict[str, Any]]) -> None:
        self.app = app
        self.document = document
        self._body: bytes | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == DOCUMENT_PATH:
            if self._body is None:
                self._body = json.dumps(self.document()).encode()
            await _send(send, 200, JSON_TYPE, self._body)
        elif path == DOCS_PATH:
            page = PAGE.format(title=TITLE, static=STATIC_PREFIX).encode()
            await _send(send, 200, b"text/html; charset=utf-8", page)
        else:
            await self.app(scope, receive, send)


async def _send(
    send: Any,
    status: int,
    content_type: bytes,
    body: bytes,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    length = str(len(body)).encode()
    start = [(b"content-type", content_type), (b"content-length", length), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})

"""The service's HTTP edge: a size limit, JSON only, and one error shape, as ASGI middlewares.

BentoML reads a request body whole, with no limit, and tries multipart, form and pickle
parsing on other content types (a multipart type without a boundary is a 500 there). Its
errors come in three shapes: {"error", "detail"} for a pydantic failure, a one-item JSON
list for its own 4xx exceptions, plain text for 404/405. These middlewares sit in front of
BentoML's handlers (`add_asgi_middleware`) and use only ASGI, so every error a client sees
has the one documented shape `{"error": message, "detail": [...]}`:

- `RequestLimits`: 413 for a body over the size limit (by Content-Length before reading,
  or while a chunked body streams in), 415 for a POST whose body is not JSON;
- `ErrorShape`: rewrites every error answer (status >= 400) into that shape.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from bentoml.exceptions import BentoMLException

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[..., Awaitable[None]]

JSON_TYPE = b"application/json"
FIELD_ERROR_KEYS = ("type", "loc", "msg")
"""Keys of a field problem in `detail` (pydantic's, without the input value or its context)."""
MORE_PROBLEMS = " (and {n} more)"


def error_body(message: str, detail: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The body of every error answer: {"error": message, "detail": [field problems]}."""
    return {"error": message, "detail": list(detail)}


def _encoded(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()  # ASCII: lone surrogates too


async def send_error(
    send: Callable[[Message], Awaitable[None]],
    status: int,
    message: str,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Answer `status` with error_body(message) on a raw ASGI `send`."""
    data = _encoded(error_body(message))
    start = [(b"content-type", JSON_TYPE), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*start, *headers]})
    await send({"type": "http.response.body", "body": data})


def under(path: str, prefixes: Iterable[str]) -> bool:
    """Whether `path` is one of `prefixes` or below one ("/app", "/app/x"; not "/application")."""
    return any(path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in prefixes)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


class BodyTooLarge(BentoMLException):
    """A streamed body grew past the limit: BentoML answers a 4xx exception with its status."""

    error_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class RequestLimits:
    """413 for a body over `max_bytes`, 415 for a POST body that is not JSON.

    Paths under `own` (a mounted app taking form posts) are spared the JSON-only rule, not
    the size limit. A Content-Length over the limit (or not a number) is answered at once, the body never
    read; otherwise the bytes are counted as BentoML reads them, which covers chunked
    bodies. No content type at all is taken as JSON, as BentoML does.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, own: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.own = own
        self.too_large = f"request body larger than {max_bytes:,} bytes (serving.max_body_bytes)"

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        close = [(b"connection", b"close")]  # the rest of the body is never read
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await send_error(send, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, self.too_large, close)
            return
        content_type = _header(scope, b"content-type")
        json_only = scope["method"] == "POST" and not under(scope["path"], self.own)
        if json_only and content_type is not None:
            media = content_type.split(b";")[0].strip().lower()
            if media != JSON_TYPE:
                await send_error(
                    send,
                    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                    "send the body as JSON with Content-Type: application/json",
                )
                return
        received = 0
        exceeded = False
        answered = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge(self.too_large)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if not exceeded:
                await send(message)
            elif message["type"] == "http.response.start" and not answered:
                # whatever the app made of BodyTooLarge, the client gets a 413
                answered = True
                await send_error(send, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, self.too_large, close)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:  # raised outside BentoML's handler
            if not answered:
                await send_error(send, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, self.too_large, close)


def _field(loc: Iterable[object]) -> str:
    """A pydantic error location as a dotted path: records.0.tenure_days."""
    return ".".join(str(part) for part in loc)


def field_problems(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """pydantic errors as `detail` items: type, loc and msg only (never the input)."""
    return [{key: error[key] for key in FIELD_ERROR_KEYS if key in error} for error in errors]


def problems_message(problems: Sequence[Mapping[str, Any]]) -> str:
    """One line naming the first problem's field: "invalid request: records.0.x: ..."."""
    first = problems[0]
    more = MORE_PROBLEMS.format(n=len(problems) - 1) if len(problems) > 1 else ""
    where = _field(first.get("loc", ())) or "body"
    return f"invalid request: {where}: {first.get('msg', first.get('type', 'invalid'))}{more}"


def _plain_message(status: int, scope: Scope, text: str) -> str:
    """The message of an error answered in plain text (Starlette's 404 and 405, probes)."""
    if status == HTTPStatus.NOT_FOUND:
        return f"no endpoint at {scope['path']}: the endpoints are listed at /docs"
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        return f"{scope['method']} is not allowed on {scope['path']}: see /docs"
    return text or HTTPStatus(status).phrase


def shaped(status: int, scope: Scope, body: bytes, content_type: bytes) -> dict[str, Any]:
    """Any error answer's body in the one shape {"error": message, "detail": [...]}."""
    data: Any = None
    if content_type.split(b";")[0].strip() == JSON_TYPE:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    if isinstance(data, list) and len(data) == 1:  # BentoML's 4xx exceptions: [{"error": ...}]
        data = data[0]
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        detail = data.get("detail")
        if isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
            problems = field_problems(detail)
            return error_body(problems_message(problems), problems)
        return error_body(data["error"])
    text = body.decode("utf-8", "replace").strip()
    return error_body(_plain_message(status, scope, text))


class ErrorShape:
    """Every answer with status >= 400 gets the body {"error": message, "detail": [...]}.

    Error bodies are small: they are gathered whole, rewritten and sent with a new length.
    Answers of paths under `own` (a mounted app with its own error pages) are left alone.
    """

    def __init__(self, app: ASGIApp, own: tuple[str, ...] = ()) -> None:
        self.app = app
        self.own = own

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD" or under(scope["path"], self.own):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewriting_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] >= 400:
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            headers = list(start.get("headers", []))
            content_type = dict(headers).get(b"content-type", b"")
            data = _encoded(shaped(start["status"], scope, b"".join(chunks), content_type))
            kept = [(k, v) for k, v in headers if k not in (b"content-length", b"content-type")]
            length = str(len(data)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": start["status"],
                    "headers": [*kept, (b"content-type", JSON_TYPE), (b"content-length", length)],
                }
            )
            await send({"type": "http.response.body", "body": data})

        await self.app(scope, receive, rewriting_send)

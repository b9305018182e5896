"""Bounded /metrics: requests to paths the service does not have share one label.

BentoML labels its request metrics (`bentoml_service_request_total`, `_duration_seconds`,
`_in_progress`) with the raw request path, in `RunnerTrafficMetricsMiddleware`, which runs
before any middleware of ours. Every request to a new random path therefore adds series:
an attack grew a worker by 130 MiB with 2,000 of them, and the page to 17 MB. BentoML has
no option for this, so `bound_endpoint_labels` wraps that middleware's `__call__` (the one
place that reads the path for the label): a path the service does not serve is counted as
UNMATCHED, and the application still sees the real path (carried in the ASGI scope and put
back by `RestorePath`, which the wrapper puts right inside the metrics middleware), so
routing, the 404 and the access log are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bentoml._internal.server.http.instruments import RunnerTrafficMetricsMiddleware

UNMATCHED = "/__unmatched__"
"""The endpoint label of every request to a path the service does not serve."""
ORIGINAL_PATH = "zerochurn.path"
"""ASGI scope key carrying the real path past the metrics middleware."""


def endpoint_label(path: str, paths: frozenset[str], prefixes: tuple[str, ...]) -> str:
    """The metrics label of a request path: itself when served, its prefix, or UNMATCHED.

    paths are served exactly (API routes, probes, docs); prefixes name trees of paths
    (static files, a mounted app) and label all of theirs as "<prefix>*".
    """
    if path in paths:
        return path
    for prefix in prefixes:
        if path.startswith(prefix):
            return f"{prefix}*"
    return UNMATCHED


def bound_endpoint_labels(paths: Iterable[str], prefixes: Iterable[str]) -> None:
    """Make BentoML's request metrics label unknown paths UNMATCHED (see the module docstring).

    Called once at service import, before the server builds its application; calling it
    again replaces the known paths.
    """
    known = frozenset(paths)
    trees = tuple(prefixes)
    original: Callable[..., Any] = getattr(
        RunnerTrafficMetricsMiddleware,
        "_zerochurn_original",
        RunnerTrafficMetricsMiddleware.__call__,
    )

    async def bounded_call(self: Any, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            label = endpoint_label(scope["path"], known, trees)
            if label != scope["path"]:
                if not isinstance(self.app, RestorePath):
                    self.app = RestorePath(self.app)
                scope = {**scope, "path": label, ORIGINAL_PATH: scope["path"]}
        await original(self, scope, receive, send)

    RunnerTrafficMetricsMiddleware._zerochurn_original = original  # type: ignore[attr-defined]
    RunnerTrafficMetricsMiddleware.__call__ = bounded_call  # type: ignore[method-assign]


class RestorePath:
    """Puts back the path `bound_endpoint_labels` replaced by a label, for everything inside."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if ORIGINAL_PATH in scope:
            path = scope[ORIGINAL_PATH]
            scope = {key: value for key, value in scope.items() if key != ORIGINAL_PATH}
            scope["path"] = path
        await self.app(scope, receive, send)

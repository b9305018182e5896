"""/readyz fails, saying why, while the snapshot store is unusable.

BentoML's /readyz says only whether the service started. A corrupt snapshot store
(`zerochurn score` rebuilds it) makes /score_customers, /at_risk and /churn_index answer
503; `StoreReadiness` makes /readyz answer the same 503 with the same reason, so a load
balancer or an orchestrator stops sending traffic that needs the store. No store at all
is not a fault (batch scoring has not run yet: /score still works).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import anyio

from zerochurn.serving.http import send_error
from zerochurn.serving.store import SnapshotMissingError, SnapshotStore, SnapshotUnusableError

READY_PATH = "/readyz"


def store_problem(store: SnapshotStore) -> str | None:
    """Why the snapshot store cannot be used, or None when it can (or does not exist yet)."""
    try:
        store.check()
    except SnapshotMissingError:
        return None
    except SnapshotUnusableError as exc:
        return str(exc)
    return None


class StoreReadiness:
    """ASGI middleware: GET /readyz is 503 {"error": reason} while the store is unusable."""

    def __init__(self, app: Any, store: SnapshotStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == READY_PATH:
            problem = await anyio.to_thread.run_sync(store_problem, self.store)
            if problem is not None:
                await send_error(send, HTTPStatus.SERVICE_UNAVAILABLE, f"not ready: {problem}")
                return
        await self.app(scope, receive, send)

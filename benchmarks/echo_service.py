"""A bare BentoML service that answers the JSON it is sent: the fastest this stack can be.

benchmarks/bench_serving.py starts it beside the scoring service, with the same workers
and threads (ECHO_WORKERS, ECHO_THREADS) and BentoML's defaults otherwise (the access log
included, as the scoring service has it), and posts it the same bodies.
"""

from __future__ import annotations

import os

import bentoml
from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    """Any JSON object, answered as it came."""

    model_config = ConfigDict(extra="allow")


@bentoml.service(
    name="echo",
    workers=int(os.environ.get("ECHO_WORKERS", "1")),
    threads=int(os.environ.get("ECHO_THREADS", "1")),
)
class Echo:
    """Echo the request body."""

    @bentoml.api
    def echo(self, request: Body, /) -> Body:
        """The body as sent."""
        return request

"""The BentoML scoring service: thin handlers over serving/runtime.py.

Start it with `zerochurn serve`, or `bentoml serve zerochurn.serving.service:ChurnService`.
Settings come from ZEROCHURN_SERVING_SETTINGS (JSON, set by `zerochurn serve`) or from
configs/default.yaml with ZEROCHURN_* variables; they are read when this module is
imported, because request bodies carry configured limits and the server's workers,
threads and metrics are set by the service's decorator (docs/serving.md).

In front of the handlers (outermost first): one error shape for every error answer
(serving/http.py), the API docs without a key (serving/docs.py), a readiness check of the
snapshot store, the API key (serving/auth.py), and the body size and JSON-only limits.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from typing import Any

import anyio
import bentoml
from bentoml._internal.context import server_context
from pydantic import ValidationError
from starlette.responses import JSONResponse
from threadpoolctl import threadpool_limits

from zerochurn.campaigns.store import CampaignError, CampaignStore
from zerochurn.contract.cells import TableValueError
from zerochurn.model.champion import ModelUnavailableError
from zerochurn.serving.auth import BearerAuth, api_keys, open_paths
from zerochurn.serving.batch import snapshot_store
from zerochurn.serving.campaigns import (
    CampaignRequest,
    CampaignResponse,
    CampaignsResponse,
    campaigns,
    treatment_list,
)
from zerochurn.serving.docs import STATIC_PREFIX, ApiDocs, openapi_document
from zerochurn.serving.http import ErrorShape, RequestLimits, error_body
from zerochurn.serving.logs import install_client_error_line
from zerochurn.serving.metrics import bound_endpoint_labels
from zerochurn.serving.model import bento_model_tag, load_scoring_model
from zerochurn.serving.readiness import StoreReadiness
from zerochurn.serving.runtime import ScoringRuntime, service_settings
from zerochurn.serving.schemas import (
    AtRiskResponse,
    ChurnIndexResponse,
    EmptyRequest,
    ModelInfo,
    ReloadResponse,
    ScoreCustomersResponse,
    ScoreResponse,
    request_models,
)
from zerochurn.serving.store import (
    AtRiskQuery,
    AtRiskSortError,
    SnapshotMissingError,
    SnapshotUnusableError,
)
from zerochurn.serving.table import ModelKindError
from zerochurn.serving.web.app import build_web_app, root_app
from zerochurn.serving.web.session import APP_PREFIX
from zerochurn.serving.workers import (
    ModelPin,
    die_with_parent,
    remove_stale_servers,
    server_folder,
)

logger = logging.getLogger(__name__)

SETTINGS = service_settings(os.environ)
KEYS = api_keys(SETTINGS.serving, os.environ)
REQUESTS = request_models(SETTINGS)
ScoreRequest = REQUESTS.score
ScoreRowsRequest = REQUESTS.score_rows
ScoreCustomersRequest = REQUESTS.score_customers
AtRiskRequest = REQUESTS.at_risk
ChurnIndexRequest = REQUESTS.churn_index

PREDICT_THREADS = 1
"""OpenMP threads of LightGBM and BLAS threads of numpy in the service: a request is small,
and waking a thread pool on a busy machine costs milliseconds (measured: 4-8 ms a
single-row predict with 2 OpenMP threads under load, 0.03 ms with one; the reasons'
1,000 x 57 by 57 x 9 product 1.2 ms with OpenBLAS's 2 threads, 0.11 ms with one)."""
_limited = threading.local()

ERROR_STATUS: dict[type[Exception], HTTPStatus] = {
    SnapshotMissingError: HTTPStatus.NOT_FOUND,
    ModelUnavailableError: HTTPStatus.CONFLICT,
    ModelKindError: HTTPStatus.CONFLICT,
    TableValueError: HTTPStatus.BAD_REQUEST,
    CampaignError: HTTPStatus.NOT_FOUND,
    SnapshotUnusableError: HTTPStatus.SERVICE_UNAVAILABLE,
    AtRiskSortError: HTTPStatus.CONFLICT,
}
"""Expected failures and their status; the body is {"error": message, "detail": []}."""
EVERY_API_ERROR = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    HTTPStatus.INTERNAL_SERVER_ERROR,
)
"""What any API can answer: a bad body, no key, too large, not JSON, a server fault."""


def answers(*statuses: HTTPStatus) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the error statuses a handler answers besides EVERY_API_ERROR (for /docs.json)."""

    def declare(handler: Callable[..., Any]) -> Callable[..., Any]:
        handler.error_statuses = (*EVERY_API_ERROR, *statuses)  # type: ignore[attr-defined]
        return handler

    return declare


def _answer(call: Callable[..., Any], *args: Any) -> Any:
    """call(*args), or error_body(message) with the status ERROR_STATUS gives its failure.

    A pydantic ValidationError from inside (an answer the service itself built wrong) is
    a server fault, not the client's: it becomes a 500, with its traceback in the log.
    """
    try:
        return call(*args)
    except tuple(ERROR_STATUS) as exc:
        status = next(code for kind, code in ERROR_STATUS.items() if isinstance(exc, kind))
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            logger.warning("answered %s: %s", int(status), exc)
        return JSONResponse(error_body(str(exc)), status_code=status)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        raise RuntimeError(f"the service built an invalid answer: {errors}") from None


def _limit_threads() -> None:
    """Give LightGBM (OpenMP) and numpy (BLAS) PREDICT_THREADS threads in the calling thread.

    OpenMP's limit is per thread, and sync APIs run in worker threads, not the one
    __init__ ran in; OpenBLAS's is the process's, set again harmlessly by each thread.
    """
    if not getattr(_limited, "done", False):
        threadpool_limits(limits=PREDICT_THREADS)
        _limited.done = True


def _bento_model() -> bentoml.models.BentoModel | None:
    """The model-store reference a Bento is built with, when serving from the store."""
    if SETTINGS.serving.model_source != "bentoml":
        return None
    return bentoml.models.BentoModel(bento_model_tag(SETTINGS))


@bentoml.service(
    name="zerochurn",
    workers=SETTINGS.serving.workers,
    threads=SETTINGS.serving.threads,
    metrics={"enabled": SETTINGS.serving.metrics != "off"},
)
class ChurnService:
    """Churn scores, value at risk and reasons; at-risk lists and segment churn index."""

    bento_model = _bento_model()

    def __init__(self) -> None:
        # runs in each worker process, never in the supervisor
        die_with_parent()
        install_client_error_line()
        bound_endpoint_labels(
            [*(api.route for api in ChurnService.apis.values()), *open_paths(SETTINGS.serving)],
            [STATIC_PREFIX, APP_PREFIX],
        )
        remove_stale_servers(SETTINGS.workspace)
        pins = ModelPin(
            server_folder(SETTINGS.workspace, os.getppid()),
            worker=server_context.worker_index or 1,
            workers=SETTINGS.serving.workers,
        )
        tag = None if self.bento_model is None else str(self.bento_model.tag)
        loader = partial(load_scoring_model, bento_tag=tag)
        self.runtime = ScoringRuntime(SETTINGS, loader, pins)
        self.campaign_store = CampaignStore(SETTINGS.campaigns_dir)

    @bentoml.api
    @answers(HTTPStatus.CONFLICT)
    def score(self, request: ScoreRequest, /) -> ScoreResponse:
        """Score one or more customers from their feature records."""
        _limit_threads()
        return _answer(self.runtime.score_records, request.records)

    @bentoml.api
    @answers(HTTPStatus.CONFLICT)
    def score_rows(self, request: ScoreRowsRequest, /) -> ScoreResponse:
        """Score rows of a flat customer table, for a champion trained on such a table."""
        _limit_threads()
        return _answer(self.runtime.score_rows, request.rows)

    @bentoml.api
    @answers(HTTPStatus.SERVICE_UNAVAILABLE)
    def score_customers(self, request: ScoreCustomersRequest, /) -> ScoreCustomersResponse:
        """Score customers by id from the latest feature snapshot; unknown ids are listed."""
        _limit_threads()
        return _answer(self.runtime.score_customers, request.customer_ids)

    @bentoml.api
    @answers(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT, HTTPStatus.SERVICE_UNAVAILABLE)
    def at_risk(self, request: AtRiskRequest, /) -> AtRiskResponse:
        """The customers most at risk in the latest batch scores, filtered and paged."""
        return _answer(self.runtime.at_risk, AtRiskQuery(**request.model_dump()))

    @bentoml.api
    @answers(HTTPStatus.NOT_FOUND, HTTPStatus.SERVICE_UNAVAILABLE)
    def churn_index(self, request: ChurnIndexRequest, /) -> ChurnIndexResponse:
        """Churn index by region, segment or plan, plain and value-weighted."""
        return _answer(self.runtime.churn_index, request.by)

    @bentoml.api
    @answers()
    def campaigns(self, request: EmptyRequest, /) -> CampaignsResponse:
        """Every recorded retention campaign: date, groups, outcome window."""
        return _answer(campaigns, self.campaign_store)

    @bentoml.api
    @answers(HTTPStatus.NOT_FOUND)
    def campaign(self, request: CampaignRequest, /) -> CampaignResponse:
        """A campaign's treatment list: the customers to act on, with their scores and reasons."""
        return _answer(treatment_list, self.campaign_store, request.name)

    @bentoml.api
    @answers()
    def model_info(self, request: EmptyRequest, /) -> ModelInfo:
        """The champion being served: version, training facts and test metrics."""
        return _answer(self.runtime.model_info)

    @bentoml.api
    @answers(HTTPStatus.CONFLICT)
    async def reload(self, request: EmptyRequest, /) -> ReloadResponse:
        """Move to the registry's current champion, in every worker; scoring goes on meanwhile."""
        return await anyio.to_thread.run_sync(_answer, self.runtime.reload)


def _document() -> dict[str, Any]:
    """The OpenAPI document of this service (serving/docs.py)."""
    routes = {api.route: (api.func, api.func.error_statuses) for api in ChurnService.apis.values()}
    description = (
        f"{ChurnService.inner.__doc__} Send `Authorization: Bearer KEY` with a key of "
        'ZEROCHURN_API_KEYS. Every error answer is {"error": message, "detail": [...]}.'
    )
    return openapi_document(routes, description=description, metrics=SETTINGS.serving.metrics)


ChurnService.mount_asgi_app(build_web_app(SETTINGS, KEYS), path=APP_PREFIX, name="web")
ChurnService.mount_asgi_app(root_app(), path="/", name="root")
WEB = (APP_PREFIX,)
"""The web workspace answers its own errors (HTML pages) and takes form posts."""
ChurnService.add_asgi_middleware(ErrorShape, own=WEB)
ChurnService.add_asgi_middleware(ApiDocs, document=_document)
ChurnService.add_asgi_middleware(StoreReadiness, store=snapshot_store(SETTINGS))
ChurnService.add_asgi_middleware(BearerAuth, keys=KEYS, open=open_paths(SETTINGS.serving))
ChurnService.add_asgi_middleware(RequestLimits, max_bytes=SETTINGS.serving.max_body_bytes, own=WEB)

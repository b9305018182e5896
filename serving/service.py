"""The BentoML scoring service: thin handlers over serving/runtime.py.

Start it with `zerochurn serve`, or `bentoml serve zerochurn.serving.service:ChurnService`.
Settings come from ZEROCHURN_SERVING_SETTINGS (JSON, set by `zerochurn serve`) or from
configs/default.yaml with ZEROCHURN_* variables; they are read when this module is
imported, because request bodies carry configured limits (docs/serving.md).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from typing import Any

import anyio
import bentoml
from starlette.responses import JSONResponse
from threadpoolctl import threadpool_limits

from zerochurn.campaigns.store import CampaignError, CampaignStore
from zerochurn.contract.cells import TableValueError
from zerochurn.model.champion import ModelUnavailableError
from zerochurn.serving.auth import BearerAuth, api_keys
from zerochurn.serving.campaigns import (
    CampaignRequest,
    CampaignResponse,
    CampaignsResponse,
    campaigns,
    treatment_list,
)
from zerochurn.serving.model import bento_model_tag, load_scoring_model
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
from zerochurn.serving.store import AtRiskQuery, SnapshotMissingError, SnapshotUnusableError
from zerochurn.serving.table import ModelKindError
from zerochurn.serving.web.app import build_web_app, root_app

SETTINGS = service_settings(os.environ)
KEYS = api_keys(SETTINGS.serving, os.environ)
REQUESTS = request_models(SETTINGS)
ScoreRequest = REQUESTS.score
ScoreRowsRequest = REQUESTS.score_rows
ScoreCustomersRequest = REQUESTS.score_customers
AtRiskRequest = REQUESTS.at_risk
ChurnIndexRequest = REQUESTS.churn_index

PREDICT_THREADS = 1
"""OpenMP threads of LightGBM in the service: a request is small, and waking a thread pool
on a busy machine costs milliseconds (measured: 4-8 ms a single-row predict with 2 threads
under load, 0.03 ms with one)."""
_openmp = threading.local()

ERROR_STATUS: dict[type[Exception], HTTPStatus] = {
    SnapshotMissingError: HTTPStatus.NOT_FOUND,
    SnapshotUnusableError: HTTPStatus.SERVICE_UNAVAILABLE,
    ModelUnavailableError: HTTPStatus.CONFLICT,
    ModelKindError: HTTPStatus.CONFLICT,
    TableValueError: HTTPStatus.BAD_REQUEST,
    CampaignError: HTTPStatus.NOT_FOUND,
}
"""Expected failures and their status; the body is {"error": message}."""


def _answer(call: Callable[..., Any], *args: Any) -> Any:
    """call(*args), or {"error": message} with the status ERROR_STATUS gives its failure."""
    try:
        return call(*args)
    except tuple(ERROR_STATUS) as exc:
        status = next(code for kind, code in ERROR_STATUS.items() if isinstance(exc, kind))
        return JSONResponse({"error": str(exc)}, status_code=status)


def _limit_openmp() -> None:
    """Give LightGBM PREDICT_THREADS OpenMP threads in the calling thread.

    The limit is per thread, and sync APIs run in worker threads, not the one __init__ ran in.
    """
    if not getattr(_openmp, "limited", False):
        threadpool_limits(limits=PREDICT_THREADS, user_api="openmp")
        _openmp.limited = True


def _bento_model() -> bentoml.models.BentoModel | None:
    """The model-store reference a Bento is built with, when serving from the store."""
    if SETTINGS.serving.model_source != "bentoml":
        return None
    return bentoml.models.BentoModel(bento_model_tag(SETTINGS))


@bentoml.service(name="zerochurn", workers=1)
class ChurnService:
    """Churn scores, value at risk and reasons; at-risk lists and segment churn index."""

    bento_model = _bento_model()

    def __init__(self) -> None:
        tag = None if self.bento_model is None else str(self.bento_model.tag)
        self.runtime = ScoringRuntime(SETTINGS, partial(load_scoring_model, bento_tag=tag))
        self.campaign_store = CampaignStore(SETTINGS.campaigns_dir)

    @bentoml.api
    def score(self, request: ScoreRequest, /) -> ScoreResponse:
        """Score one or more customers from their feature records."""
        _limit_openmp()
        return _answer(self.runtime.score_records, request.records)

    @bentoml.api
    def score_rows(self, request: ScoreRowsRequest, /) -> ScoreResponse:
        """Score rows of a flat customer table, for a champion trained on such a table."""
        _limit_openmp()
        return _answer(self.runtime.score_rows, request.rows)

    @bentoml.api
    def score_customers(self, request: ScoreCustomersRequest, /) -> ScoreCustomersResponse:
        """Score customers by id from the latest feature snapshot; unknown ids are listed."""
        _limit_openmp()
        return _answer(self.runtime.score_customers, request.customer_ids)

    @bentoml.api
    def at_risk(self, request: AtRiskRequest, /) -> AtRiskResponse:
        """The customers most at risk in the latest batch scores, filtered and paged."""
        return _answer(self.runtime.at_risk, AtRiskQuery(**request.model_dump()))

    @bentoml.api
    def churn_index(self, request: ChurnIndexRequest, /) -> ChurnIndexResponse:
        """Churn index by region, segment or plan, plain and value-weighted."""
        return _answer(self.runtime.churn_index, request.by)

    @bentoml.api
    def campaigns(self, request: EmptyRequest, /) -> CampaignsResponse:
        """Every recorded retention campaign: date, groups, outcome window."""
        return campaigns(self.campaign_store)

    @bentoml.api
    def campaign(self, request: CampaignRequest, /) -> CampaignResponse:
        """A campaign's treatment list: the customers to act on, with their scores and reasons."""
        return _answer(treatment_list, self.campaign_store, request.name)

    @bentoml.api
    def model_info(self, request: EmptyRequest, /) -> ModelInfo:
        """The champion being served: version, training facts and test metrics."""
        return self.runtime.model_info()

    @bentoml.api
    async def reload(self, request: EmptyRequest, /) -> ReloadResponse:
        """Move to the registry's current champion; scoring goes on while it loads."""
        return await anyio.to_thread.run_sync(_answer, self.runtime.reload)


ChurnService.mount_asgi_app(build_web_app(SETTINGS, KEYS), path="/app", name="web")
ChurnService.mount_asgi_app(root_app(), path="/", name="root")
ChurnService.add_asgi_middleware(BearerAuth, keys=KEYS)

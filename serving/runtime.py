"""What the service does, as plain methods: the BentoML layer only validates and formats.

`ScoringRuntime` holds the champion (swapped in one assignment by `reload`, so a
request that took the old reference finishes with it) and reads the snapshot store.
In a server of several workers it keeps them on one model (serving/workers.py): a reload
pins the model it loaded, the other workers follow, and the answer waits for them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, TypeAdapter

from zerochurn.configs import load_settings
from zerochurn.configs.settings import Settings
from zerochurn.features.catalog import column_spec
from zerochurn.model.champion import ModelUnavailableError
from zerochurn.serving.batch import now_utc, snapshot_store
from zerochurn.serving.last_model import load_at_start
from zerochurn.serving.launch import SETTINGS_ENV
from zerochurn.serving.model import ScoringModel, load_scoring_model
from zerochurn.serving.reasons import reason_columns
from zerochurn.serving.schemas import (
    AtRiskResponse,
    ChurnIndexResponse,
    CustomerError,
    CustomerScore,
    ModelInfo,
    ReloadResponse,
    ScoreCustomersResponse,
    ScoreResponse,
    SegmentIndex,
)
from zerochurn.serving.scoring import PROFILE_COLUMNS, SURVIVAL_COLUMNS
from zerochurn.serving.scoring_path import score_and_log
from zerochurn.serving.store import AtRiskQuery, SnapshotMissingError
from zerochurn.serving.table import require_kind, table_rows
from zerochurn.serving.workers import ModelPin, Pin, PinFollower

Loader = Callable[..., ScoringModel]
"""loader(settings) loads the current champion; loader(settings, pin=ScoringModel.pin)
loads exactly the pinned model (load_scoring_model)."""
CONFIRM_POLL_SECONDS = 0.05
"""How often a reload looks whether every worker serves the new model yet."""

SCORE_FIELDS = (
    "customer_id",
    *PROFILE_COLUMNS,
    "churn_probability",
    "churn_index",
    "risk_tier",
    "customer_value",
    "value_at_risk",
    *SURVIVAL_COLUMNS,
    "contact",
    "expected_savings",
    "uplift",
    "expected_saved_value",
    "model_version",
    "scored_at",
)
"""Score-table columns copied into each response item."""
_SCORES = TypeAdapter(list[CustomerScore])


def service_settings(environ: Mapping[str, str]) -> Settings:
    """Settings of a service process: ZEROCHURN_SERVING_SETTINGS, else defaults + ZEROCHURN_*."""
    if SETTINGS_ENV in environ:
        return Settings.model_validate_json(environ[SETTINGS_ENV])
    return load_settings(environ=environ)


def _or_none(values: pd.Series | np.ndarray) -> np.ndarray:
    """(n,) object array of Python scalars, None where missing (NaN, None, pandas NA)."""
    array = np.asarray(values, dtype=object)
    return np.where(pd.isna(array), None, array)


def _records(columns: Mapping[str, pd.Series | np.ndarray]) -> list[dict[str, object]]:
    """Rows of equally long columns as dicts of Python scalars, None where missing."""
    lists = {name: _or_none(values).tolist() for name, values in columns.items()}
    return [dict(zip(lists, row, strict=True)) for row in zip(*lists.values(), strict=True)]


def _reason_values(features: pd.DataFrame, names: np.ndarray) -> np.ndarray:
    """(n,) each row's value of the feature named in `names` (None when unknown)."""
    values = np.full(len(names), None, dtype=object)
    for name in pd.unique(names[pd.notna(names)]):
        if name in features:
            rows = names == name
            values[rows] = _or_none(features[name].to_numpy(dtype=object)[rows])
    return values


def _catalog_drivers(names: np.ndarray) -> np.ndarray:
    """(n,) the catalog's driver of each reason's feature (None where no reason)."""
    return np.array(
        [None if name is None else column_spec(name).driver for name in names], dtype=object
    )


def customer_scores(
    scores: Mapping[str, pd.Series | np.ndarray], features: pd.DataFrame, top_reasons: int
) -> list[CustomerScore]:
    """Response items of score columns (`score_columns`, or a score table's columns).

    features holds the same customers in the same order; each reason carries the
    customer's value of its (strongest) feature, read from there.
    """
    items = _records({field: scores[field] for field in SCORE_FIELDS if field in scores})
    for item in items:
        item["top_reasons"] = []
    for rank in range(1, top_reasons + 1):
        columns = reason_columns(rank)
        names = _or_none(scores[columns.feature])
        values = _reason_values(features, names)
        drivers = (
            _or_none(scores[columns.driver])
            if columns.driver in scores
            else _catalog_drivers(names)  # a snapshot scored before reasons had drivers
        )
        texts = np.asarray(scores[columns.text], dtype=object)
        contributions = np.asarray(scores[columns.contribution], dtype=np.float64)
        for row in np.flatnonzero(pd.notna(names)):
            items[row]["top_reasons"].append(
                {
                    "driver": drivers[row],
                    "feature": names[row],
                    "text": texts[row],
                    "value": values[row],
                    "contribution": float(contributions[row]),
                }
            )
    return _SCORES.validate_python(items)


class ScoringRuntime:
    """The service's state and operations.

    Parameters
    ----------
    settings : the service's configuration
    loader : loads the current champion at start and on every reload, and another
        worker's pinned model (see Loader)
    pins : the pin shared by the server's workers; None for a runtime on its own. A
        worker started after a reload loads the pinned model, not the champion.
    """

    def __init__(
        self, settings: Settings, loader: Loader = load_scoring_model, pins: ModelPin | None = None
    ) -> None:
        self.settings = settings
        self.loader = loader
        self.store = snapshot_store(settings)
        self.pins = pins
        pin = None if pins is None else pins.read()
        if pin is None:
            self.model = load_at_start(settings, loader)  # the kept champion if MLflow is down
        else:
            self.model = loader(settings, pin=pin.model)
        self.generation = 0 if pin is None else pin.generation
        self._reloading = threading.Lock()
        if pins is not None:
            pins.confirm(self.generation, self.model.version)
            every = settings.serving.reload_poll_seconds
            PinFollower(pins, lambda: self.generation, self.follow, every).start()

    def _score(self, features: pd.DataFrame) -> list[CustomerScore]:
        """Score feature rows and log them to the prediction log before answering."""
        model = self.model  # one reference for the whole request, whatever reload does
        scores = score_and_log(
            features, model, self.settings, source="service", scored_at=now_utc()
        )
        return customer_scores(scores, features, self.settings.serving.top_reasons)

    def score_records(self, records: Sequence[BaseModel]) -> ScoreResponse:
        """Score posted feature records, in order (a champion of the raw tables only)."""
        require_kind(self.model, "contract", "post its table rows to /score_rows")
        features = pd.DataFrame.from_records([record.model_dump() for record in records])
        return ScoreResponse(scores=self._score(features))

    def score_rows(self, rows: Sequence[Mapping[str, object]]) -> ScoreResponse:
        """Score posted rows of a flat customer table, in order (serving/table.py)."""
        require_kind(self.model, "table", "post its feature records to /score")
        features = table_rows(pd.DataFrame.from_records(list(rows)), self.model)
        return ScoreResponse(scores=self._score(features))

    def score_customers(self, customer_ids: Sequence[str]) -> ScoreCustomersResponse:
        """Score customers from the latest feature snapshot; unknown ids get an error each."""
        try:
            known = self.store.features(customer_ids)
            as_of = self.store.info().as_of
        except SnapshotMissingError as exc:
            errors = [CustomerError(customer_id=cid, error=str(exc)) for cid in customer_ids]
            return ScoreCustomersResponse(as_of=None, scores=[], errors=errors)
        row_of = dict(zip(known["customer_id"], range(len(known)), strict=True))
        rows = [row_of[cid] for cid in customer_ids if cid in row_of]  # request order
        errors = [
            CustomerError(
                customer_id=cid,
                error=f"customer_id {cid!r} is not in the feature snapshot of {as_of}",
            )
            for cid in customer_ids
            if cid not in row_of
        ]
        if rows != list(range(len(known))):  # the store's order is not the request's
            known = known.take(rows).reset_index(drop=True)
        scores = self._score(known) if rows else []
        return ScoreCustomersResponse(as_of=as_of, scores=scores, errors=errors)

    def at_risk(self, query: AtRiskQuery) -> AtRiskResponse:
        """A page of the latest batch scores, filtered and sorted as asked."""
        info = self.store.info()
        totals = self.store.at_risk_totals(query)
        page = self.store.at_risk_page(query)
        features = self.store.features(page["customer_id"]).set_index("customer_id")
        aligned = features.reindex(page["customer_id"]).reset_index()
        return AtRiskResponse(
            as_of=info.as_of,
            model_version=info.model_version,
            total=totals.customers,
            value_at_risk=totals.value_at_risk,
            offset=query.offset,
            limit=query.limit,
            customers=customer_scores(page, aligned, self.settings.serving.top_reasons),
        )

    def churn_index(self, by: str) -> ChurnIndexResponse:
        """Segment churn index of the latest batch, grouped by region, segment or plan."""
        info = self.store.info()
        table = self.store.segments(by)
        return ChurnIndexResponse(
            by=by,
            as_of=info.as_of,
            model_version=info.model_version,
            reference_churn_rate=info.reference_churn_rate,
            segments=[
                SegmentIndex(**row) for row in _records({c: table[c] for c in table.columns})
            ],
        )

    def model_info(self) -> ModelInfo:
        """The champion being served."""
        return ModelInfo(**self.model.info())

    def reload(self) -> ReloadResponse:
        """Load the current champion and swap it in; on failure the old one keeps serving.

        Reloads are serialised; requests keep being answered while the new model loads.
        Any failure to load is a ModelUnavailableError naming the version still served.
        With pins, the model is pinned for the other workers and the answer comes once
        all serve it, or after serving.reload_timeout_seconds with those that do.
        """
        with self._reloading:
            previous = self.model
            try:
                loaded = self.loader(self.settings)
            except Exception as exc:
                raise ModelUnavailableError(
                    f"reload failed, still serving version {previous.version}: {exc}"
                ) from exc
            self.model = loaded
            if self.pins is not None:
                self.generation = self.pins.publish(loaded.pin)
                self.pins.confirm(self.generation, loaded.version)
            generation = self.generation
        serving, workers = self._await_workers(generation)
        return ReloadResponse(
            previous_version=previous.version,
            version=loaded.version,
            changed=loaded.version != previous.version,
            model=ModelInfo(**loaded.info()),
            workers=workers,
            workers_serving=serving,
        )

    def follow(self, pin: Pin) -> None:
        """Serve the model another worker pinned (loaded while the old one serves)."""
        with self._reloading:
            if pin.generation <= self.generation:
                return
            loaded = self.loader(self.settings, pin=pin.model)
            self.model, self.generation = loaded, pin.generation
        if self.pins is not None:
            self.pins.confirm(pin.generation, loaded.version)

    def _await_workers(self, generation: int) -> tuple[int, int]:
        """Workers serving `generation` once all do or the reload timeout passed, and all."""
        if self.pins is None:
            return 1, 1
        deadline = time.monotonic() + self.settings.serving.reload_timeout_seconds
        serving = self.pins.confirmed(generation)
        while serving < self.pins.workers and time.monotonic() < deadline:
            time.sleep(CONFIRM_POLL_SECONDS)
            serving = self.pins.confirmed(generation)
        return serving, self.pins.workers

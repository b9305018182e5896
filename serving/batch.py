"""Batch scoring: every active customer at an as-of date, for the retention team and the service.

`score_batch` builds features with the same `features.build_features` as training,
scores them and logs them to the prediction log (serving/scoring_path.py, as the service
does); `write_batch` writes <scores_dir>/scores_<date>.parquet and .csv and refreshes the
snapshot store the service reads (only with the latest date, see `snapshot_plan`).

The order makes a killed run safe: the batch is in the prediction log before any file of
it is written, so a refreshed snapshot's scores are always logged; each file is written
whole and renamed (zerochurn.io), under the scores folder's lock, and the next run
deletes the temp files a killed one left.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from zerochurn.configs.settings import Settings
from zerochurn.console import ProgressCallback
from zerochurn.contract.dataset import RawData
from zerochurn.contract.schema import data_as_of
from zerochurn.crash import crash_point
from zerochurn.features.build import build_features
from zerochurn.io import exclusive, remove_temporaries, write_table
from zerochurn.model.uplift import UpliftModel, saved_value_columns
from zerochurn.serving.model import ScoringModel
from zerochurn.serving.scoring import (
    PROFILE_COLUMNS,
    SEGMENT_COLUMNS,
    SURVIVAL_COLUMNS,
    segment_index,
    segment_sums,
)
from zerochurn.serving.scoring_path import score_and_log
from zerochurn.serving.store import (
    SNAPSHOT_FILE,
    AtRiskQuery,
    SnapshotInfo,
    SnapshotMissingError,
    SnapshotStore,
    SnapshotUnusableError,
    write_snapshot,
)
from zerochurn.serving.table import require_kind

DEFAULT_SCORES_DIR = "scores"
"""Folder of batch scores inside the workspace when ServingConfig.scores_dir is None."""
DATE_FORMAT = "%Y-%m-%d"
SCORES_PREFIX = "scores_"
"""Batch score files are <scores_dir>/scores_<as-of date>.parquet and .csv."""
AT_RISK_COLUMNS = (
    "customer_id",
    "as_of",
    "region",
    "segment",
    "churn_probability",
    "churn_index",
    "risk_tier",
    "customer_value",
    "value_at_risk",
    *SURVIVAL_COLUMNS,
    "uplift",
    "expected_saved_value",
    "contact",
    "expected_savings",
    "reasons",
    "model_version",
)
"""Columns of the retention team's at-risk list."""
AT_RISK_DECIMALS = {
    "churn_probability": 4,
    "customer_value": 2,
    "value_at_risk": 2,
    "expected_savings": 2,
}
"""Decimals the at-risk list keeps: probabilities to 4, money to cents."""


def scores_dir(settings: Settings) -> Path:
    """Folder of batch scores and the snapshot store."""
    configured = settings.serving.scores_dir
    return configured if configured is not None else settings.workspace / DEFAULT_SCORES_DIR


def batch_score_files(settings: Settings) -> dict[str, Path]:
    """Every batch score Parquet file of the scores folder by its as-of date, oldest first."""
    found = {
        path.stem.removeprefix(SCORES_PREFIX): path
        for path in scores_dir(settings).glob(f"{SCORES_PREFIX}*.parquet")
    }
    return dict(sorted(found.items()))


def snapshot_store(settings: Settings) -> SnapshotStore:
    """The snapshot store of the configured scores folder (it may not exist yet)."""
    return SnapshotStore(scores_dir(settings) / SNAPSHOT_FILE)


def now_utc() -> str:
    """The current time in UTC, ISO 8601 to the second: the scored_at of new scores."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class BatchResult:
    """Features and scores of every active customer at as_of, and the segment churn index."""

    as_of: pd.Timestamp
    scored_at: str
    features: pd.DataFrame
    scores: pd.DataFrame
    segments: pd.DataFrame


@dataclass(frozen=True)
class BatchOutputs:
    """Files written by `write_batch`; snapshot is None when a later snapshot was kept.

    note: why the snapshot store was kept, or replaced against the latest-date rule
    (`snapshot_plan`); removed: temp files of an interrupted run that were deleted.
    """

    parquet: Path
    csv: Path
    snapshot: Path | None
    note: str | None = None
    removed: tuple[Path, ...] = ()


@dataclass(frozen=True)
class SnapshotPlan:
    """Whether a batch refreshes the snapshot store, and why when it is not the usual case."""

    write: bool
    note: str | None = None


def segment_table(scores: pd.DataFrame, reference_churn_rate: float) -> pd.DataFrame:
    """Segment churn index by every profile column the scores have, stacked; column `by`.

    Without profile columns (customers derived from a transaction log) the table is empty.
    """
    sums = {column: segment_sums(scores, column) for column in PROFILE_COLUMNS if column in scores}
    return segment_table_of_sums(sums, reference_churn_rate)


def segment_table_of_sums(
    sums: Mapping[str, pd.DataFrame], reference_churn_rate: float
) -> pd.DataFrame:
    """`segment_table` from the segment sums (scoring.segment_sums) of each profile column."""
    tables = [
        segment_index(table, reference_churn_rate).assign(by=column)
        for column, table in sums.items()
    ]
    if not tables:
        return pd.DataFrame(columns=[*SEGMENT_COLUMNS, "by"])
    return pd.concat(tables, ignore_index=True)


def score_batch(
    raw: RawData,
    as_of: pd.Timestamp,
    model: ScoringModel,
    settings: Settings,
    *,
    scored_at: str,
    progress: ProgressCallback | None = None,
) -> BatchResult:
    """Build the features of every customer active at `as_of`, score them and log the scores.

    Who is active follows the churn definition the model was trained under. The scores
    are in the prediction log of settings.workspace (source "batch") when this returns.
    """
    require_kind(model, "contract", "score its table with `zerochurn score --table FILE`")
    report = progress or (lambda message: None)
    report("building features")
    churn = model.churn_config(settings.churn)
    features = build_features(raw, as_of, settings.features, churn)
    report(f"scoring {len(features):,} customers and logging the scores")
    scores = pd.DataFrame(
        score_and_log(features, model, settings, source="batch", scored_at=scored_at)
    )
    segments = segment_table(scores, model.card.reference_churn_rate)
    return BatchResult(pd.Timestamp(as_of), scored_at, features, scores, segments)


def score_table_batch(
    rows: pd.DataFrame, model: ScoringModel, settings: Settings, *, scored_at: str
) -> BatchResult:
    """Score flat-table rows (serving.table.table_rows) as one batch dated by the scoring day,
    and log the scores (source "batch").

    A table has no as-of date: the day of scoring stands in for it, so the snapshot
    store, the at-risk list and /score_customers work for a table model too.
    """
    scores = pd.DataFrame(score_and_log(rows, model, settings, source="batch", scored_at=scored_at))
    segments = segment_table(scores, model.card.reference_churn_rate)
    as_of = pd.Timestamp(scored_at).tz_convert(None).normalize()
    return BatchResult(as_of, scored_at, rows, scores, segments)


def snapshot_plan(settings: Settings, date: str, *, replace: bool = False) -> SnapshotPlan:
    """Whether a batch dated `date` (YYYY-MM-DD) refreshes the snapshot store.

    The store holds the latest batch: scoring an earlier date (a backfill) keeps a later
    snapshot, unless `replace` (`zerochurn score --replace-snapshot`). A snapshot dated
    after the day that follows the data's as-of date (data.as_of, default today) cannot
    come from correct data, and one that cannot be read is no snapshot: both are
    replaced, so no bad date or damaged file locks correct runs out.
    """
    latest = pd.Timestamp(data_as_of(settings.data.as_of)) + pd.Timedelta(days=1)
    try:
        held = snapshot_store(settings).info().as_of
    except SnapshotMissingError:
        return SnapshotPlan(True)
    except SnapshotUnusableError as exc:
        return SnapshotPlan(True, f"rebuilt the snapshot store from this batch: {exc.__cause__}")
    if held <= date:
        return SnapshotPlan(True)
    if replace:
        return SnapshotPlan(True, f"replaced the snapshot of the later date {held}, as asked")
    if held > latest.strftime(DATE_FORMAT):
        return SnapshotPlan(
            True,
            f"replaced the snapshot dated {held}: it is after the data's as-of date, so no "
            "correct batch could ever replace it",
        )
    return SnapshotPlan(
        False,
        f"kept the snapshot store: it holds the later date {held} (--replace-snapshot replaces it)",
    )


def snapshot_info(
    model: ScoringModel,
    date: str,
    scored_at: str,
    customers: int,
    data_dir: Path | None = None,
) -> SnapshotInfo:
    """What a snapshot of `customers` scores at as-of `date` by `model` says about itself.

    data_dir: the raw data folder the batch was built from, recorded so that readers (the
    web workspace's customer pages) find the customers' raw rows.
    """
    return SnapshotInfo(
        as_of=date,
        model_version=model.version,
        scored_at=scored_at,
        reference_churn_rate=model.card.reference_churn_rate,
        customers=customers,
        data_dir=None if data_dir is None else str(Path(data_dir).resolve()),
    )


def write_batch(
    result: BatchResult,
    model: ScoringModel,
    settings: Settings,
    *,
    data_dir: Path | None = None,
    replace_snapshot: bool = False,
) -> BatchOutputs:
    """Write scores_<date>.parquet and .csv, then refresh the snapshot store (`snapshot_plan`).

    Holds the scores folder's lock and first deletes the temp files an interrupted run
    left there. data_dir: the raw data folder of the batch, recorded in the snapshot
    (`snapshot_info`).
    """
    folder = scores_dir(settings)
    date = result.as_of.strftime(DATE_FORMAT)
    with exclusive(folder):
        removed = tuple(remove_temporaries(folder))
        parquet = write_table(result.scores, folder / f"{SCORES_PREFIX}{date}.parquet")
        csv = write_table(result.scores, folder / f"{SCORES_PREFIX}{date}.csv")
        plan = snapshot_plan(settings, date, replace=replace_snapshot)
        if not plan.write:
            return BatchOutputs(parquet, csv, None, plan.note, removed)
        snapshot = write_snapshot(
            snapshot_store(settings).path,
            features=result.features,
            scores=result.scores,
            segments=result.segments,
            info=snapshot_info(model, date, result.scored_at, len(result.scores), data_dir),
        )
        crash_point("batch:snapshot-refreshed")
    return BatchOutputs(parquet, csv, snapshot, plan.note, removed)


def with_saved_value(result: BatchResult, uplift: UpliftModel) -> BatchResult:
    """The batch with the uplift and expected_saved_value of a validated uplift model added.

    The at-risk list of a snapshot holding them is ranked by expected saved value
    (serving/store.py); they are not in the prediction log, which holds what the churn
    model said.
    """
    columns = saved_value_columns(uplift, result.features, result.scores)
    return dataclasses.replace(result, scores=result.scores.assign(**columns))


def at_risk_list(store: SnapshotStore, query: AtRiskQuery) -> pd.DataFrame:
    """The retention team's list: the query's page of customers, AT_RISK_COLUMNS only
    (as_of from the snapshot), at full precision (campaigns record these numbers)."""
    page = store.at_risk_page(query).assign(as_of=store.info().as_of)
    return page.loc[:, [column for column in AT_RISK_COLUMNS if column in page]]


def rounded_for_people(page: pd.DataFrame) -> pd.DataFrame:
    """The at-risk list as people read it (CSV, spreadsheets): money and probabilities
    rounded as AT_RISK_DECIMALS says."""
    rounded = {  # a column of the store with a null in it reads back as objects
        column: page[column].astype("float64").round(decimals)
        for column, decimals in AT_RISK_DECIMALS.items()
        if column in page
    }
    return page.assign(**rounded)

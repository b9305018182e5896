"""Labelled rows for training, split into train/calibration/test periods.

Monthly snapshots of the raw tables are split out of time (`build_snapshots`); a flat
customer table without a time axis is split at random into train and test, stratified
(`table_snapshots`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zerochurn.configs.settings import Settings
from zerochurn.console import ProgressCallback
from zerochurn.contract.dataset import RawData
from zerochurn.contract.table import ID, CustomerTable
from zerochurn.features.build import build_training_frame, monthly_as_of_dates
from zerochurn.features.catalog import feature_roles
from zerochurn.features.population import label_window_days
from zerochurn.model.card import DataKind
from zerochurn.model.periods import OutOfTimeSplit, out_of_time_split
from zerochurn.training.columns import ColumnNote, choose_columns
from zerochurn.training.split import RandomSplit, TrainingDataError, stratified_split
from zerochurn.training.survival_data import SurvivalRows, SurvivalSkipped, survival_rows

LABEL = "churned"
KEYS = ("customer_id", "as_of")


@dataclass(frozen=True)
class Snapshots:
    """Labelled feature rows of each period, the feature roles and where the rows came from.

    Every frame has customer_id, the feature columns and LABEL (and as_of for snapshots).
    A flat table has no calibration period (empty): its models are calibrated on
    out-of-fold scores of the train rows.
    For a flat table, id_column and target_column name the file's columns and notes say
    which columns were left out or look leaky. survival: the rows of the time-to-churn
    model (training/survival_data.py), None for a flat table, with survival disabled or
    when the data is too short (survival_skipped says why).
    """

    split: OutOfTimeSplit | RandomSplit
    train: pd.DataFrame
    calibration: pd.DataFrame
    test: pd.DataFrame
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    kind: DataKind = "contract"
    id_column: str = ID
    target_column: str | None = None
    margin_column: str = "monthly_margin"
    notes: tuple[ColumnNote, ...] = ()
    survival: SurvivalRows | None = None
    survival_skipped: str = ""

    @property
    def features(self) -> list[str]:
        """Feature columns the models read, numeric first."""
        return [*self.numeric, *self.categorical]


def check_labels(snapshots: Snapshots) -> None:
    """Raise TrainingDataError unless every period has churners and customers who stayed.

    A model cannot be fitted, calibrated or tested on one label alone.
    """
    for period, dates in snapshots.split.describe().items():
        labels = getattr(snapshots, period)[LABEL].to_numpy()
        churners = int(labels.sum())
        stayed = len(labels) - churners
        if churners and stayed:
            continue
        when = dates[0] if len(dates) == 1 else f"{dates[0]} .. {dates[-1]}"
        raise TrainingDataError(
            f"the {period} period ({when}) has {churners:,} churners and {stayed:,} customers "
            "who stayed: a model needs both. Check that the data records churn "
            "(customers.cancel_date, or --churn inactivity for a transaction log) and covers "
            "churn.horizon_days after each as-of date"
        )


def build_snapshots(
    raw: RawData, settings: Settings, progress: ProgressCallback | None = None
) -> Snapshots:
    """Feature rows with 0/1 labels for the train, calibration and test as-of dates.

    Raises TrainingDataError when the data is too short to split or a period lacks churners
    or customers who stayed.
    """
    try:
        split = out_of_time_split(
            monthly_as_of_dates(raw, min_history_months=settings.training.min_history_months),
            data_end=raw.end,
            window_days=label_window_days(settings.churn),
            config=settings.training,
        )
    except ValueError as error:  # the data is too short for the three periods
        raise TrainingDataError(str(error)) from error
    frame = build_training_frame(
        raw,
        [*split.train, *split.calibration, *split.test],
        settings.features,
        settings.churn,
        progress=progress,
    )
    frame = frame[frame[LABEL].notna()]
    frame = frame.assign(**{LABEL: frame[LABEL].astype(np.int64)})
    numeric, categorical = feature_roles(frame)

    def period(dates: tuple[pd.Timestamp, ...]) -> pd.DataFrame:
        return frame[frame["as_of"].isin(dates)].reset_index(drop=True)

    snapshots = Snapshots(
        split=split,
        train=period(split.train),
        calibration=period(split.calibration),
        test=period(split.test),
        numeric=tuple(numeric),
        categorical=tuple(categorical),
    )
    check_labels(snapshots)
    if not settings.survival.enabled:
        return dataclasses.replace(snapshots, survival_skipped="survival.enabled is false")
    try:
        return dataclasses.replace(snapshots, survival=survival_rows(raw, frame, settings))
    except SurvivalSkipped as exc:
        return dataclasses.replace(snapshots, survival_skipped=str(exc))


def table_snapshots(
    table: CustomerTable,
    settings: Settings,
    split: tuple[np.ndarray, np.ndarray] | None = None,
) -> Snapshots:
    """Labelled rows of a flat customer table, split into train and test; the calibration
    period is empty.

    split: (train, test) positions among the labelled rows (a benchmark's folds); None:
    a random split stratified by the label, settings.table.test_fraction for the test.

    Rows with an empty label are dropped; settings.table says which columns to exclude,
    the test fraction and the id / leakage checks (training.columns.choose_columns).
    Cost columns (settings.costs) are carried along for the savings report, never learnt.
    Raises ValueError naming an excluded column the table lacks, or when no usable
    feature column is left.
    """
    config = settings.table
    named = {"table.exclude": config.exclude, "table.margin_column": (config.margin_column,)}
    for setting, columns in named.items():
        unknown = [column for column in columns if column and column not in table.columns]
        if unknown:
            raise ValueError(
                f"{table.path.name}: {setting} names {unknown}, not in the table; "
                f"the columns are {table.columns}"
            )
    labelled = table.labels.notna().to_numpy()
    frame = table.frame[labelled].reset_index(drop=True)
    labels = table.labels[labelled].to_numpy(dtype=np.int64)
    costs = [column for column in settings.costs.columns if column in table.columns]
    left_out = {*config.exclude, *costs}
    candidates = [column for column in table.columns if column not in left_out]
    choice = choose_columns(frame, labels, candidates, config)
    roles = choice.roles
    if not roles.numeric and not roles.categorical:
        reasons = "; ".join(str(note) for note in choice.notes) or "no column besides id and label"
        raise ValueError(f"{table.path.name} has no usable feature column: {reasons}")
    notes = choice.notes
    if not labelled.all():
        blank = int((~labelled).sum())
        message = f"{blank} rows without a label were not used"
        notes += (ColumnNote(str(table.target_column), "warning", message),)
    rows = pd.concat([frame[[ID]], choice.typed, frame[costs]], axis=1).assign(**{LABEL: labels})
    seed = settings.training.random_state
    if split is None:
        split = stratified_split(labels, test_fraction=config.test_fraction, seed=seed)
    train, test = split
    return Snapshots(
        split=RandomSplit(len(train), len(test), seed),
        train=rows.iloc[train].reset_index(drop=True),
        calibration=rows.iloc[:0],
        test=rows.iloc[test].reset_index(drop=True),
        numeric=roles.numeric,
        categorical=roles.categorical,
        kind="table",
        id_column=table.id_column,
        target_column=table.target_column,
        margin_column=config.margin_column or "",
        notes=notes,
        survival_skipped="a flat table has no time axis",
    )

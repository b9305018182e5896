"""Splits of labelled rows into train, calibration and test periods.

Monthly snapshots are split out of time (`out_of_time_split`); a flat table without a
time axis gets a stratified random split (`stratified_split`).

A snapshot's label looks `window` days past its as-of date. So that no label of an
earlier period overlaps a later period, each period's label windows end before the next
period starts: train labels end before the first calibration as-of date, calibration
labels before the first test as-of date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from zerochurn.configs.settings import TrainingConfig

MIN_ROWS_PER_CLASS = 10
"""Fewest churners (and stayers) a random split accepts: a few per period and fold."""


@dataclass(frozen=True)
class OutOfTimeSplit:
    """As-of dates of each period, oldest first."""

    train: tuple[pd.Timestamp, ...]
    calibration: tuple[pd.Timestamp, ...]
    test: tuple[pd.Timestamp, ...]

    def describe(self) -> dict[str, list[str]]:
        """The dates as ISO strings, per period, for run logs."""
        return {
            period: [f"{date:%Y-%m-%d}" for date in getattr(self, period)]
            for period in ("train", "calibration", "test")
        }


def _latest_before(
    dates: Sequence[pd.Timestamp], cutoff: pd.Timestamp, window: pd.Timedelta, count: int
) -> tuple[pd.Timestamp, ...]:
    """The latest `count` dates whose label window [d, d + window) ends by `cutoff`."""
    eligible = [d for d in dates if d + window <= cutoff]
    return tuple(eligible[-count:])


def out_of_time_split(
    as_of_dates: Sequence[pd.Timestamp],
    *,
    data_end: pd.Timestamp,
    window_days: int,
    config: TrainingConfig,
) -> OutOfTimeSplit:
    """Split sorted monthly as-of dates into purged train/calibration/test periods.

    Parameters
    ----------
    as_of_dates : candidate as-of dates, any order
    data_end : first day after the data; a label needs its window to end by then
    window_days : days a label looks ahead (the churn definition's window)
    config : how many snapshots each period gets
    """
    dates = sorted(pd.Timestamp(d) for d in as_of_dates)
    window = pd.Timedelta(days=window_days)
    test = _latest_before(dates, data_end, window, config.test_snapshots)
    if len(test) < config.test_snapshots:
        raise ValueError(
            f"no as-of date has a complete {window_days}-day label window before {data_end:%Y-%m-%d}:"
            " the data is too short for training"
        )
    calibration = _latest_before(dates, test[0], window, config.calibration_snapshots)
    train = _latest_before(
        dates, calibration[0] if calibration else test[0], window, config.train_snapshots
    )
    if not calibration or not train:
        raise ValueError(
            f"the data ({dates[0]:%Y-%m-%d} .. {data_end:%Y-%m-%d}) is too short for separate train,"
            f" calibration and test periods with a {window_days}-day label window;"
            " generate or load more months"
        )
    return OutOfTimeSplit(train=train, calibration=calibration, test=test)


@dataclass(frozen=True)
class RandomSplit:
    """Row counts of a stratified random split, for data without a time axis."""

    train_rows: int
    calibration_rows: int
    test_rows: int
    seed: int

    def describe(self) -> dict[str, list[str]]:
        """Each period as "stratified random, N rows", for run logs."""
        return {
            period: [f"stratified random, {getattr(self, f'{period}_rows')} rows"]
            for period in ("train", "calibration", "test")
        }


def stratified_split(
    labels: np.ndarray, *, test_fraction: float, calibration_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions of train, calibration and test, each with the overall churn rate.

    test_fraction of the rows are held out for the test, then calibration_fraction of the
    rest for calibration. Raises ValueError when a period would miss churners or stayers.
    """
    labels = np.asarray(labels)
    rows = np.arange(len(labels))
    smallest = int(np.bincount(labels.astype(np.int64), minlength=2).min())
    if smallest < MIN_ROWS_PER_CLASS:
        raise ValueError(
            f"only {smallest} rows of the rarer label: a stratified train/calibration/test split "
            f"needs at least {MIN_ROWS_PER_CLASS} churners and as many customers who stayed"
        )
    rest, test = train_test_split(rows, test_size=test_fraction, stratify=labels, random_state=seed)
    train, calibration = train_test_split(
        rest, test_size=calibration_fraction, stratify=labels[rest], random_state=seed
    )
    return np.sort(train), np.sort(calibration), np.sort(test)

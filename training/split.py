"""Out-of-time split of monthly snapshots into train, calibration and test periods.

A snapshot's label looks `window` days past its as-of date. So that no label of an
earlier period overlaps a later period, each period's label windows end before the next
period starts: train labels end before the first calibration as-of date, calibration
labels before the first test as-of date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from zerochurn.configs.settings import TrainingConfig


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

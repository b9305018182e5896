"""The out-of-time periods of a model: train, calibration and test as-of dates.

Training splits its monthly snapshots with `out_of_time_split`; monitoring asks the same
rule from when a retrain would learn from a given month (`first_data_end_training_on`).

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

MAX_SEARCH_MONTHS = 240
"""Longest look-ahead of `first_data_end_training_on`, in months."""


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


def first_data_end_training_on(
    month: pd.Timestamp, *, window_days: int, config: TrainingConfig
) -> pd.Timestamp:
    """The first data end at which `out_of_time_split` puts as-of `month` in the train period.

    month: a month start. A data end t + window makes month start t the latest test date,
    so the search walks t forward from `month`, a month at a time, until the purged
    calibration and test periods after `month` fit. Raises ValueError when none does
    within MAX_SEARCH_MONTHS.
    """
    month = pd.Timestamp(month)
    window = pd.Timedelta(days=window_days)
    for ahead in range(1, MAX_SEARCH_MONTHS + 1):
        dates = pd.date_range(month, periods=ahead + 1, freq="MS")
        data_end = dates[-1] + window
        try:
            split = out_of_time_split(
                dates, data_end=data_end, window_days=window_days, config=config
            )
        except ValueError:  # too few months yet for three periods
            continue
        if month in split.train:
            return data_end
    raise ValueError(
        f"{month:%Y-%m-%d} is in no train period within {MAX_SEARCH_MONTHS} months: "
        f"check the {window_days}-day window and the training snapshot counts"
    )

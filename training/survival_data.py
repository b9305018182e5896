"""Rows of the time-to-churn model: its out-of-time split and its censored targets.

The split (`survival_split`) differs from the churn model's, because a curve needs a
year of follow-up to be judged at 12 months:

- test: the latest as-of date followed for max(evaluation_months) months before the data
  ends (or, in shorter data, the earliest date that leaves min_train_months of training
  follow-up before it; then only the evaluation months that fit are judged);
- train: up to train_snapshots as-of dates before it, snapshot_step_months apart, from the
  latest date with `months` of follow-up before the test date (else the oldest), their
  targets censored at the test date: nothing after it is read;
- anchor: the churn model refitted the same way on dates whose labels end before the test
  date (training/survival.anchor_probability), so the curve judged at the test date is
  anchored (model/lifetime.anchor_to_horizon) to a churn probability that is out of time
  too, as served curves are anchored to the champion's.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from zerochurn.configs.settings import Settings, SurvivalConfig
from zerochurn.contract.dataset import RawData
from zerochurn.features.build import build_time_to_churn
from zerochurn.features.population import label_window_days

MONTHS, EVENT = "survival_months", "survival_event"
SEGMENT = "segment"


class SurvivalSkipped(ValueError):
    """The data cannot train or judge a time-to-churn model; the message says why."""


@dataclass(frozen=True)
class SurvivalSplit:
    """As-of dates of the time-to-churn model (see the module docstring)."""

    train: tuple[pd.Timestamp, ...]
    test: pd.Timestamp
    evaluation_months: tuple[int, ...]
    anchor_train: tuple[pd.Timestamp, ...]
    anchor_calibration: pd.Timestamp | None

    def describe(self) -> dict[str, str]:
        """The dates and months as text, for run tags."""
        return {
            "train": ",".join(f"{d:%Y-%m-%d}" for d in self.train),
            "test": f"{self.test:%Y-%m-%d}",
            "evaluation_months": ",".join(map(str, self.evaluation_months)),
            "anchor_train": ",".join(f"{d:%Y-%m-%d}" for d in self.anchor_train),
            "anchor_calibration": ""
            if self.anchor_calibration is None
            else f"{self.anchor_calibration:%Y-%m-%d}",
        }


@dataclass(frozen=True)
class SurvivalRows:
    """Feature rows with survival_months and survival_event: train censored at the test
    date, test censored at the end of the data."""

    split: SurvivalSplit
    train: pd.DataFrame
    test: pd.DataFrame


def _months_between(start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Whole calendar months from start that end by `end`."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months if start + pd.DateOffset(months=months) <= end else months - 1


def survival_split(
    dates: list[pd.Timestamp], *, data_end: pd.Timestamp, window_days: int, config: SurvivalConfig
) -> SurvivalSplit:
    """Split sorted as-of dates (those with features built) for the time-to-churn model.

    Raises SurvivalSkipped when no date leaves min_train_months of follow-up before it and
    the shortest evaluation month after it.
    """
    dates = sorted(dates)
    first = dates[0]
    candidates = [
        d
        for d in dates
        if _months_between(d, data_end) >= config.evaluation_months[0]
        and _months_between(first, d) >= config.min_train_months
    ]
    if not candidates:
        raise SurvivalSkipped(
            f"the data ({first:%Y-%m-%d} .. {data_end:%Y-%m-%d}) is too short for a time-to-churn "
            f"model: it needs {config.min_train_months} months of follow-up to train on and "
            f"{config.evaluation_months[0]} more to test on"
        )
    longest = max(config.evaluation_months)
    full = [d for d in candidates if _months_between(d, data_end) >= longest]
    test = full[-1] if full else candidates[0]
    follow_up = _months_between(test, data_end)
    before = [d for d in dates if _months_between(d, test) >= 1]
    long_enough = [d for d in before if _months_between(d, test) >= config.months]
    start = long_enough[-1] if long_enough else before[0]
    train = tuple(
        d
        for d in before
        if d >= start and _months_between(start, d) % config.snapshot_step_months == 0
    )[: config.train_snapshots]
    window = pd.Timedelta(days=window_days)
    labelled = [d for d in dates if d + window <= test]
    calibration = labelled[-1] if labelled else None
    anchor_train = (
        tuple(d for d in dates if d + window <= calibration) if calibration is not None else ()
    )
    return SurvivalSplit(
        train=train,
        test=test,
        evaluation_months=tuple(m for m in config.evaluation_months if m <= follow_up),
        anchor_train=anchor_train,
        anchor_calibration=calibration if anchor_train else None,
    )


def survival_rows(raw: RawData, features: pd.DataFrame, settings: Settings) -> SurvivalRows:
    """Targets of the split's dates joined to their feature rows (customer_id, as_of).

    features: the labelled feature rows of every as-of date built for training.
    Raises SurvivalSkipped as survival_split does.
    """
    dates = sorted(pd.unique(features["as_of"]))
    split = survival_split(
        [pd.Timestamp(d) for d in dates],
        data_end=raw.end,
        window_days=label_window_days(settings.churn),
        config=settings.survival,
    )
    keys = ["customer_id", "as_of"]

    def rows(as_of: tuple[pd.Timestamp, ...], censor_at: pd.Timestamp) -> pd.DataFrame:
        targets = build_time_to_churn(raw, as_of, settings.churn, censor_at=censor_at)
        chosen = features[features["as_of"].isin(as_of)]
        return chosen.merge(targets, on=keys, validate="one_to_one").reset_index(drop=True)

    return SurvivalRows(split, rows(split.train, split.test), rows((split.test,), raw.end))

"""Labelled monthly snapshots for training, split out of time into train/calibration/test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zerochurn.configs.settings import Settings
from zerochurn.console import ProgressCallback
from zerochurn.contract.dataset import RawData
from zerochurn.features import build_training_frame, monthly_as_of_dates
from zerochurn.features.catalog import feature_roles
from zerochurn.features.population import label_window_days
from zerochurn.training.split import OutOfTimeSplit, out_of_time_split

LABEL = "churned"
KEYS = ("customer_id", "as_of")


@dataclass(frozen=True)
class Snapshots:
    """Labelled feature rows of each out-of-time period, and the feature roles."""

    split: OutOfTimeSplit
    train: pd.DataFrame
    calibration: pd.DataFrame
    test: pd.DataFrame
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def features(self) -> list[str]:
        """Feature columns the models read, numeric first."""
        return [*self.numeric, *self.categorical]


def build_snapshots(
    raw: RawData, settings: Settings, progress: ProgressCallback | None = None
) -> Snapshots:
    """Feature rows with 0/1 labels for the train, calibration and test as-of dates."""
    split = out_of_time_split(
        monthly_as_of_dates(raw, min_history_months=settings.training.min_history_months),
        data_end=raw.end,
        window_days=label_window_days(settings.churn),
        config=settings.training,
    )
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

    return Snapshots(
        split=split,
        train=period(split.train),
        calibration=period(split.calibration),
        test=period(split.test),
        numeric=tuple(numeric),
        categorical=tuple(categorical),
    )

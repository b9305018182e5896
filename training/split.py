"""A stratified random split of a flat table's rows into train, calibration and test.

Monthly snapshots are split out of time by zerochurn.model.periods (`out_of_time_split`),
which monitoring reads too; a flat table without a time axis gets a stratified random
split here (`stratified_split`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

MIN_ROWS_PER_CLASS = 10
"""Fewest churners (and stayers) a random split accepts: a few per period and fold."""


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

"""A stratified random split of a flat table's rows into train, calibration and test.

Monthly snapshots are split out of time by zerochurn.model.periods (`out_of_time_split`),
which monitoring reads too; a flat table without a time axis gets a stratified random
train/test split here (`stratified_split`), and its training part is cross-validated
(training/validation.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

MIN_ROWS_PER_CLASS = 10
"""Fewest churners (and stayers) a random split accepts: a few per period and fold."""


class TrainingDataError(ValueError):
    """The labelled rows cannot train a model: too short a history, or a period without
    churners or without customers who stayed. The message says which and what to do."""


@dataclass(frozen=True)
class RandomSplit:
    """Row counts of a stratified random split, for data without a time axis."""

    train_rows: int
    test_rows: int
    seed: int

    def describe(self) -> dict[str, list[str]]:
        """Each part as "stratified random, N rows", for run logs."""
        return {
            period: [f"stratified random, {getattr(self, f'{period}_rows')} rows"]
            for period in ("train", "test")
        }


def rarer_label_count(labels: np.ndarray) -> int:
    """Rows of the rarer of the two 0/1 labels (0 when one is absent)."""
    return int(np.bincount(np.asarray(labels, dtype=np.int64), minlength=2).min())


def stratified_split(
    labels: np.ndarray, *, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the training and the test part, each with the overall churn rate.

    Raises TrainingDataError when a part would miss churners or stayers.
    """
    rows = np.arange(len(labels))
    smallest = rarer_label_count(labels)
    if smallest < MIN_ROWS_PER_CLASS:
        raise TrainingDataError(
            f"only {smallest} rows of the rarer label: a stratified train/test split with "
            f"cross-validation needs at least {MIN_ROWS_PER_CLASS} churners and as many "
            "customers who stayed"
        )
    train, test = train_test_split(
        rows, test_size=test_fraction, stratify=labels, random_state=seed
    )
    return np.sort(train), np.sort(test)

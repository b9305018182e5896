"""How candidate models are validated before the test period: which rows each fold model
learns from, which rows it scores, and how the scored rows split into folds.

Candidates learn from the *development* rows: a flat table's training part, or the train
then calibration periods of monthly snapshots. Two schemes:

- cross-validated (flat tables): repeated stratified k-fold over the development rows;
  every row gets one held-out score per repeat, the final model is refitted on all rows
  and calibrated on the held-out scores. A single split of a few thousand rows moves a
  model's ROC-AUC by about 0.01, more than the families differ by.
- out of time (snapshots): one fold model learns from the train period and scores the
  calibration period, which it is calibrated on and kept as is. The calibration period
  is cut into stratified parts so that the candidates' spread and the blend's weight
  are measured on rows their fit did not use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

from zerochurn.model.metrics import expected_calibration_error
from zerochurn.training.split import rarer_label_count

Scheme = Literal["cross_validated", "out_of_time"]
Fitted = TypeVar("Fitted")


@dataclass(frozen=True)
class Split:
    """One fold model: the development rows it learns from, the held positions it scores."""

    repeat: int
    fit: np.ndarray
    scored: np.ndarray


@dataclass(frozen=True)
class Validation:
    """Held-out rows, their folds per repeat, and the fold models that score them.

    held: (m,) development rows that get held-out scores; folds: (r, m) fold of each held
    row in each of r repeats; splits: the fold models, each scoring some held positions.
    """

    scheme: Scheme
    held: np.ndarray
    folds: np.ndarray
    splits: tuple[Split, ...]

    @property
    def refit(self) -> bool:
        """Whether the final model is refitted on every development row (cross-validated)."""
        return self.scheme == "cross_validated"

    @property
    def repeats(self) -> int:
        return int(self.folds.shape[0])

    def fold_masks(self) -> Iterator[tuple[int, np.ndarray]]:
        """(repeat, (m,) mask of the held rows in one fold) for every fold of every repeat."""
        for repeat, fold in enumerate(self.folds):
            for number in np.unique(fold):
                yield repeat, fold == number

    @property
    def n_folds(self) -> int:
        """Folds over all repeats."""
        return sum(len(np.unique(fold)) for fold in self.folds)

    def describe(self) -> str:
        """In words, for selection reasons and the run log."""
        folds = len(np.unique(self.folds[0]))
        if self.scheme == "cross_validated":
            return (
                f"{folds}-fold cross-validation x {self.repeats} on the "
                f"{len(self.held):,} training rows"
            )
        return f"the {len(self.held):,} rows of the calibration period, in {folds} parts"


def cross_validated(y: np.ndarray, *, folds: int, repeats: int, seed: int) -> Validation:
    """Repeated stratified k-fold over (n,) 0/1 labels; ValueError with too few churners."""
    smallest = rarer_label_count(y)
    if smallest < folds:
        raise ValueError(
            f"only {smallest} rows of the rarer label among the {len(y):,} training rows: "
            f"{folds}-fold cross-validation needs at least {folds} churners and as many "
            "customers who stayed (lower training.selection.folds)"
        )
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    fold = np.empty((repeats, len(y)), dtype=np.int64)
    splits = []
    for index, (fit, scored) in enumerate(splitter.split(np.zeros(len(y)), y)):
        repeat, number = divmod(index, folds)
        fold[repeat, scored] = number
        splits.append(Split(repeat, fit, scored))
    return Validation("cross_validated", np.arange(len(y)), fold, tuple(splits))


def out_of_time(n_train: int, y_later: np.ndarray, *, folds: int, seed: int) -> Validation:
    """The train rows (0 .. n_train-1) fit, the later rows (n_train ..) are held out and
    cut into up to `folds` stratified parts (fewer when they hold fewer churners)."""
    m = len(y_later)
    parts = min(folds, rarer_label_count(y_later))
    fold = np.zeros(m, dtype=np.int64)
    if parts >= 2:
        splitter = StratifiedKFold(n_splits=parts, shuffle=True, random_state=seed)
        for number, (_, rows) in enumerate(splitter.split(np.zeros(m), y_later)):
            fold[rows] = number
    split = Split(0, np.arange(n_train), np.arange(m))
    return Validation("out_of_time", np.arange(n_train, n_train + m), fold[None, :], (split,))


def fold_aucs(validation: Validation, y_held: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC-AUC of (r, m) held-out scores in every fold holding both labels."""
    aucs = [
        roc_auc_score(y_held[mask], scores[repeat, mask])
        for repeat, mask in validation.fold_masks()
        if len(np.unique(y_held[mask])) == 2
    ]
    return np.asarray(aucs, dtype=np.float64)


def cross_fit(
    validation: Validation,
    y_held: np.ndarray,
    scores: np.ndarray,
    fit: Callable[[np.ndarray, np.ndarray], Fitted],
    apply: Callable[[Fitted, np.ndarray], np.ndarray],
) -> np.ndarray:
    """(r, m) outputs of a model of held-out scores, each fold's from the other folds' fit.

    scores: (r, m, ...) held-out scores; fit(scores, y) learns from some held rows of a
    repeat, apply(fitted, scores) gives (k,) outputs for others. With a single fold
    (too few churners to cut the held rows) the fit is in-sample.
    """
    out = np.empty(scores.shape[:2])
    for repeat, mask in validation.fold_masks():
        train = ~mask if (~mask).any() else mask
        fitted = fit(scores[repeat, train], y_held[train])
        out[repeat, mask] = apply(fitted, scores[repeat, mask])
    return out


def fold_eces(validation: Validation, y_held: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """Expected calibration error of (r, m) held-out probabilities in every fold."""
    return np.asarray(
        [
            expected_calibration_error(y_held[mask], probability[repeat, mask])
            for repeat, mask in validation.fold_masks()
        ]
    )

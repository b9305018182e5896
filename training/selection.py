"""Which candidate family becomes the run's model: the best validated ROC-AUC, honestly measured.

Every candidate is judged on held-out rows only (training/validation.py): folds of the
training rows for a flat table, the calibration period for snapshots. The baseline
(the logistic model) is a candidate too, and keeps the place unless another family beats
its mean ROC-AUC by more than gate.baseline_margin, so a first training always has a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zerochurn.model.estimator import ChurnModel
from zerochurn.model.scorer import Family
from zerochurn.training.validation import Validation

BASELINE: Family = "logistic"
"""The family every other one must beat: regularised logistic regression."""


@dataclass(frozen=True)
class Candidate:
    """One family's final model and how it did on held-out rows.

    fold_auc, fold_ece: ROC-AUC and expected calibration error in every validation fold
    (ECE of probabilities whose calibrator was fitted on the other folds);
    held_probability: (m,) calibrated held-out probabilities of the validation's held
    rows (first repeat); refused: why it may not be chosen, None when it may.
    """

    family: Family
    model: ChurnModel = field(repr=False)
    fold_auc: tuple[float, ...]
    fold_ece: tuple[float, ...]
    held_probability: np.ndarray = field(repr=False)
    refused: str | None = None

    @property
    def auc_mean(self) -> float:
        return float(np.mean(self.fold_auc)) if self.fold_auc else float("nan")

    @property
    def auc_sd(self) -> float:
        """Spread of the fold ROC-AUCs (sample standard deviation; 0 with one fold)."""
        return float(np.std(self.fold_auc, ddof=1)) if len(self.fold_auc) > 1 else 0.0

    @property
    def ece_mean(self) -> float:
        return float(np.mean(self.fold_ece)) if self.fold_ece else float("nan")

    def summary(self) -> str:
        """e.g. "lightgbm 0.8468 +- 0.0032"."""
        return f"{self.family} {self.auc_mean:.4f} +- {self.auc_sd:.4f}"


@dataclass(frozen=True)
class Selection:
    """The chosen family and the reason, in words."""

    chosen: Family
    reason: str


def select(candidates: tuple[Candidate, ...], validation: Validation, margin: float) -> Selection:
    """The candidate with the best mean held-out ROC-AUC; the baseline unless beaten by margin.

    Raises ValueError when every candidate is refused (the baseline never is).
    """
    allowed = [c for c in candidates if c.refused is None]
    if not allowed:
        reasons = "; ".join(f"{c.family}: {c.refused}" for c in candidates)
        raise ValueError(f"every candidate was refused: {reasons}")
    best = max(allowed, key=lambda c: c.auc_mean)
    others = ", ".join(c.summary() for c in candidates if c is not best and c.refused is None)
    measured = f"ROC-AUC over {len(best.fold_auc)} folds of {validation.describe()}"
    baseline = next((c for c in allowed if c.family == BASELINE), None)
    beaten = baseline is None or best.auc_mean > baseline.auc_mean + margin
    if best is not baseline and not beaten:
        return Selection(
            BASELINE,
            f"{best.summary()} does not beat the baseline {baseline.summary()} by more "
            f"than baseline_margin {margin} ({measured})",
        )
    versus = f" (against {others})" if others else ""
    return Selection(best.family, f"best mean {measured}: {best.summary()}{versus}")

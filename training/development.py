"""The development rows of a run: what the candidates learn from and are validated on.

A flat table's training part is cross-validated; the train and calibration periods of
monthly snapshots are validated out of time (training/validation.py). The test period
stays out of both: it only measures the chosen model and feeds the gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from zerochurn.configs.settings import Settings
from zerochurn.model.encoding import FeatureEncoder
from zerochurn.training.data import LABEL, Snapshots
from zerochurn.training.validation import Validation, cross_validated, out_of_time


@dataclass(frozen=True)
class Development:
    """Development rows, encoded once, and how they are validated.

    frame: the rows (features, customer_id, LABEL, ...); matrix: (n, features) encoded by
    `encoder`, which learnt its categories from the train rows; y: (n,) 0/1 labels;
    groups: (n,) customer ids.
    """

    frame: pd.DataFrame = field(repr=False)
    matrix: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    groups: np.ndarray = field(repr=False)
    encoder: FeatureEncoder
    validation: Validation

    @property
    def y_held(self) -> np.ndarray:
        """(m,) labels of the held-out rows."""
        return self.y[self.validation.held]

    @property
    def held_frame(self) -> pd.DataFrame:
        """The held-out rows: the calibration period, or every row of a cross-validated table."""
        return self.frame.iloc[self.validation.held].reset_index(drop=True)


def development(snapshots: Snapshots, settings: Settings) -> Development:
    """The development rows of snapshots and their validation scheme.

    A flat table gets training.selection.folds x repeats cross-validation (one repeat
    from training.selection.single_repeat_rows rows on); snapshots the out-of-time fold.
    """
    selection = settings.training.selection
    seed = settings.training.random_state
    train = snapshots.train
    if snapshots.kind == "table":
        frame = train
        y = train[LABEL].to_numpy(dtype=np.int64)
        repeats = 1 if len(train) >= selection.single_repeat_rows else selection.repeats
        validation = cross_validated(y, folds=selection.folds, repeats=repeats, seed=seed)
    else:
        for period in ("train", "calibration"):
            if getattr(snapshots, period)[LABEL].nunique() < 2:
                raise ValueError(f"the {period} period must hold churners and customers who stayed")
        frame = pd.concat([train, snapshots.calibration], ignore_index=True)
        y = frame[LABEL].to_numpy(dtype=np.int64)
        later = snapshots.calibration[LABEL].to_numpy(dtype=np.int64)
        validation = out_of_time(len(train), later, folds=selection.folds, seed=seed)
    features = snapshots.features
    encoder = FeatureEncoder(snapshots.numeric, snapshots.categorical).fit(train[features])
    return Development(
        frame=frame,
        matrix=encoder.transform(frame[features]),
        y=y,
        groups=frame["customer_id"].to_numpy(),
        encoder=encoder,
        validation=validation,
    )

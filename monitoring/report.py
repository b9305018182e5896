"""The one function that runs Evidently: drift and classification quality as a Snapshot.

`import evidently` takes seconds, so it happens inside run_report, never at import time
(the CLI and the service import this package). Results are read by monitoring.results.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from sklearn.exceptions import UndefinedMetricWarning

from zerochurn.configs.settings import MonitoringConfig
from zerochurn.model.outputs import PROBABILITY_COLUMN

if TYPE_CHECKING:
    from evidently.core.report import Snapshot

POSITIVE_LABEL = 1


@dataclass(frozen=True)
class Columns:
    """What the columns of a report's frames are.

    numeric, categorical: feature columns whose drift is measured (may be empty).
    prediction: the churn probability column.
    label: the 0/1 churn label column of labelled rows; None when there are no labels.
    """

    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    prediction: str = PROBABILITY_COLUMN
    label: str | None = None


def run_report(
    *,
    current: pd.DataFrame,
    reference: pd.DataFrame | None,
    columns: Columns,
    config: MonitoringConfig,
) -> Snapshot:
    """Run an Evidently report on `current` and return its Snapshot.

    Arguments are keyword-only, so the current and reference frames cannot swap places.
    With a `reference`: one ValueDrift, with its test, per feature and for the prediction,
    measured with the configured distance and threshold. With ``columns.label``: ROC-AUC,
    log loss, row count and the mean prediction and label of `current` (`reference` need
    not have labels). Frames need the named columns; others are ignored. Features that
    have no value at all in either frame must be left out of `columns` (Evidently refuses
    empty columns).
    """
    with warnings.catch_warnings():
        # Evidently's dependencies (litestar, numpy.core) warn about their own deprecations
        warnings.simplefilter("ignore", DeprecationWarning)
        from evidently import BinaryClassification, DataDefinition, Dataset, Report
        from evidently.metrics import LogLoss, MeanValue, RocAuc, RowCount, ValueDrift

    metrics = []
    numeric = [*columns.numeric, columns.prediction]
    if reference is not None:
        metrics += [
            ValueDrift(
                column=name, method=config.numeric_method, threshold=config.numeric_threshold
            )
            for name in columns.numeric
        ]
        metrics += [
            ValueDrift(
                column=name,
                method=config.categorical_method,
                threshold=config.categorical_threshold,
            )
            for name in columns.categorical
        ]
        metrics.append(
            ValueDrift(
                column=columns.prediction,
                method=config.prediction_method,
                threshold=config.prediction_threshold,
            )
        )
    classification = []
    if columns.label is not None:
        numeric.append(columns.label)
        classification.append(
            BinaryClassification(
                target=columns.label,
                prediction_probas=columns.prediction,
                pos_label=POSITIVE_LABEL,
            )
        )
        metrics += [
            RowCount(),
            RocAuc(),
            LogLoss(),
            MeanValue(column=columns.prediction),
            MeanValue(column=columns.label),
        ]
    if not metrics:
        raise ValueError("nothing to report: expected a reference, a label column or both")
    definition = DataDefinition(
        numerical_columns=numeric,
        categorical_columns=list(columns.categorical),
        classification=classification or None,
    )
    used = [*numeric, *columns.categorical]

    def dataset(frame: pd.DataFrame):
        return Dataset.from_pandas(frame[used], data_definition=definition)

    with warnings.catch_warnings():
        # scipy warns on empty histogram bins (unseen categories); the distance is still right
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        # Evidently also computes precision at probability 0.5, undefined when no churn
        # probability reaches it (the usual case); it reports 0 and is not read here
        warnings.filterwarnings("ignore", category=UndefinedMetricWarning)
        return Report(metrics, include_tests=True).run(
            current_data=dataset(current),
            reference_data=None if reference is None else dataset(reference),
        )

"""A customer's score history: the customer's row of every batch scoring run.

The source is the batch score files, `<scores_dir>/scores_<as-of>.parquet`, one per
scoring run (`zerochurn score`, serving/batch.py): each holds every active customer's
score at its as-of date, by the model version named in the file. The prediction log is
not used: it also holds the service's requests, scored from the same snapshots.
`ScoreHistory` reads the few columns it needs from every file once and again only when
the set of files changes; a customer's history is then a binary search away.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd

from zerochurn.configs.settings import Settings
from zerochurn.serving.batch import batch_score_files

HISTORY_COLUMNS = (
    "customer_id",
    "churn_probability",
    "churn_index",
    "value_at_risk",
    "model_version",
)
"""Columns read from each batch score file."""

FileKey = tuple[tuple[str, int, int], ...]


def _file_key(files: dict[str, Path]) -> FileKey:
    """The files' names, sizes and modification times: changes when a run adds or rewrites one."""
    return tuple(
        (path.name, stat.st_size, stat.st_mtime_ns)
        for path in files.values()
        if (stat := path.stat())
    )


def read_history(files: dict[str, Path]) -> pd.DataFrame:
    """Rows of every file with an as_of column, sorted by customer_id then as_of.

    files: as-of date (YYYY-MM-DD) -> batch score Parquet file.
    """
    frames = [
        pd.read_parquet(path, columns=list(HISTORY_COLUMNS)).assign(as_of=as_of)
        for as_of, path in files.items()
    ]
    if not frames:
        return pd.DataFrame(columns=[*HISTORY_COLUMNS, "as_of"])
    history = pd.concat(frames, ignore_index=True).astype({"customer_id": str})
    return history.sort_values(["customer_id", "as_of"], ignore_index=True, kind="stable")


class ScoreHistory:
    """Every customer's batch scores, read once per set of score files."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._key: FileKey | None = None
        self._history = read_history({})
        self._ids = np.array([], dtype=object)

    def _current(self) -> tuple[pd.DataFrame, np.ndarray]:
        files = batch_score_files(self.settings)
        key = _file_key(files)
        with self._lock:
            if key != self._key:
                history = read_history(files)
                self._history, self._ids, self._key = (
                    history,
                    history["customer_id"].to_numpy(),
                    key,
                )
            return self._history, self._ids

    def of(self, customer_id: str) -> pd.DataFrame:
        """The customer's scores, oldest run first: as_of, churn_probability, churn_index,
        value_at_risk, model_version (no rows when no run scored the customer)."""
        history, ids = self._current()
        start, end = (
            int(np.searchsorted(ids, customer_id, side="left")),
            int(np.searchsorted(ids, customer_id, side="right")),
        )
        return history.iloc[start:end].drop(columns="customer_id").reset_index(drop=True)

"""Monitoring figures: pure functions from summaries and arrays to matplotlib Figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from zerochurn.monitoring.results import ColumnDrift

FIGSIZE = (7.0, 4.5)
TOP_COLUMNS = 20
"""Columns shown in the drift figure, most drifted first."""
HISTOGRAM_BINS = 40
DRIFTED_COLOUR = "tab:red"
STABLE_COLOUR = "tab:blue"


def drift_figure(columns: Sequence[ColumnDrift], top: int = TOP_COLUMNS) -> Figure:
    """Horizontal bars of each column's drift score over its threshold (1 = threshold).

    columns : the drift of each column; columns without a score (no values to compare)
    are left out.
    """
    drifted = {drift.column: drift.drifted for drift in columns}
    ratios = pd.Series(
        {
            drift.column: drift.score / drift.threshold
            for drift in columns
            if drift.score is not None and drift.threshold is not None
        },
        dtype=float,
    )
    shown = ratios.sort_values(ascending=False).head(top)[::-1]
    height = max(FIGSIZE[1], 0.3 * len(shown) + 1.5)
    fig, ax = plt.subplots(figsize=(FIGSIZE[0], height), layout="constrained")
    colours = [DRIFTED_COLOUR if drifted[name] else STABLE_COLOUR for name in shown.index]
    ax.barh(shown.index, shown.to_numpy(), color=colours)
    ax.axvline(1.0, color="grey", linestyle=":", label="threshold")
    ax.set(title="Drift score / threshold (red = drifted)", xlabel="score / threshold")
    ax.legend()
    return fig


def prediction_figure(reference: np.ndarray, current: np.ndarray) -> Figure:
    """Overlaid density histograms of the reference and current churn probabilities."""
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins=HISTOGRAM_BINS)
    for name, values in (("reference", reference), ("current", current)):
        ax.hist(
            values, bins=edges, density=True, alpha=0.5, label=f"{name} (mean {values.mean():.3f})"
        )
    ax.set(title="Churn probability", xlabel="predicted probability", ylabel="density")
    ax.legend()
    return fig


def trend_figure(history: pd.DataFrame, thresholds: Mapping[str, float]) -> Figure:
    """One panel per policy figure (drift share, prediction drift, ...) over the runs so far.

    history : one row per run with "period" (datetime: the monitored period) and the
    columns named in `thresholds`, which maps each column to its retraining threshold.
    """
    ordered = history.sort_values("period", kind="stable")
    fig, axes = plt.subplots(
        len(thresholds),
        1,
        figsize=(FIGSIZE[0], 1.8 * len(thresholds) + 1.0),
        sharex=True,
        layout="constrained",
    )
    for ax, (column, threshold) in zip(np.atleast_1d(axes), thresholds.items(), strict=True):
        ax.plot(ordered["period"], ordered[column], marker="o")
        ax.axhline(threshold, color=DRIFTED_COLOUR, linestyle=":", label="retrain at")
        ax.set(ylabel=column.replace("_", " "))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
    np.atleast_1d(axes)[-1].set(xlabel="monitored period")
    np.atleast_1d(axes)[-1].tick_params(axis="x", labelrotation=30)
    fig.suptitle("Monitoring history")
    return fig

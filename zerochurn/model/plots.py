"""Figures of a model's scores that more than one stage draws: pure functions to Figures.

training/plots.py draws the evaluation figures of a run with these; monitoring draws the
calibration of delayed labels with the same `calibration_figure`.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from zerochurn.model.metrics import CALIBRATION_BINS

FIGSIZE = (6.0, 4.5)


def titled_axes(title: str, xlabel: str, ylabel: str) -> tuple[Figure, plt.Axes]:
    """A figure of FIGSIZE with one titled, labelled and lightly gridded axes."""
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    return fig, ax


def calibration_figure(y: np.ndarray, scores: dict[str, np.ndarray]) -> Figure:
    """Reliability diagram: observed churn rate per bin of predicted probability."""
    fig, ax = titled_axes(
        "Calibration (out of time)", "predicted probability", "observed churn rate"
    )
    edges = np.linspace(0, 1, CALIBRATION_BINS + 1)
    for name, probability in scores.items():
        index = np.clip(np.digitize(probability, edges) - 1, 0, CALIBRATION_BINS - 1)
        frame = pd.DataFrame({"bin": index, "p": probability, "y": y}).groupby("bin").mean()
        ax.plot(frame["p"], frame["y"], marker="o", label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    ax.legend()
    return fig

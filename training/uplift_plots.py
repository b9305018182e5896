"""The Qini figure of an uplift training: how its ranking finds the customers the action helps."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from zerochurn.model.plots import FIGSIZE
from zerochurn.model.uplift_metrics import cumulative_true_effect, qini_curve
from zerochurn.training.uplift import HeldOut


def qini_figure(data: HeldOut) -> Figure:
    """Qini curves of the held-out members: the model, ranking by churn risk, random.

    With true effects a second panel draws the cumulative true effect of each ranking
    against the perfect one.
    """
    panels = 1 if data.true_effect is None else 2
    fig, axes = plt.subplots(
        1, panels, figsize=(FIGSIZE[0] * panels, FIGSIZE[1]), layout="constrained", squeeze=False
    )
    rankings = {"uplift model": data.predicted, "churn risk": data.risk}
    realised = axes[0][0]
    for name, score in rankings.items():
        realised.plot(*qini_curve(data.retained, score, data.treated), label=name)
    n, q = qini_curve(data.retained, data.predicted, data.treated)
    realised.plot([0, n[-1]], [0, q[-1]], color="grey", linestyle=":", label="random")
    realised.set(
        title="Qini curve, held-out campaign customers",
        xlabel="customers targeted, best first",
        ylabel="extra customers retained",
    )
    if data.true_effect is not None:
        truth = axes[0][1]
        for name, score in {**rankings, "perfect": data.true_effect}.items():
            truth.plot(*cumulative_true_effect(data.true_effect, score), label=name)
        truth.plot([0, n[-1]], [0, data.true_effect.sum()], color="grey", linestyle=":")
        truth.set(
            title="True effect (generated world)",
            xlabel="customers targeted, best first",
            ylabel="customers saved (expected)",
        )
        truth.legend()
    for ax in np.ravel(axes):
        ax.grid(alpha=0.3)
    realised.legend()
    return fig

"""Evaluation figures of a churn model: pure functions from arrays to matplotlib Figures.

The calibration figure, which monitoring draws too, is model/plots.py's.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from zerochurn.model.plots import titled_axes
from zerochurn.model.savings import ThresholdChoice, check_curve

SHAP_TOP_FEATURES = 15


def roc_figure(y: np.ndarray, scores: dict[str, np.ndarray]) -> Figure:
    """ROC curves of several models' (n,) probabilities against (n,) 0/1 labels."""
    fig, ax = titled_axes("ROC (test rows)", "false positive rate", "true positive rate")
    for name, probability in scores.items():
        fpr, tpr, _ = roc_curve(y, probability)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.legend()
    return fig


def precision_recall_figure(y: np.ndarray, scores: dict[str, np.ndarray]) -> Figure:
    """Precision-recall curves, with the churn base rate as reference line."""
    fig, ax = titled_axes("Precision-recall (test rows)", "recall", "precision")
    for name, probability in scores.items():
        precision, recall, _ = precision_recall_curve(y, probability)
        ax.plot(recall, precision, label=name)
    ax.axhline(float(np.mean(y)), color="grey", linestyle=":", label="base rate")
    ax.legend()
    return fig


def gain_figure(y: np.ndarray, scores: dict[str, np.ndarray]) -> Figure:
    """Cumulative gain: share of churners caught when contacting the top share by risk."""
    fig, ax = titled_axes(
        "Cumulative gain (test rows)", "share of customers contacted", "share of churners"
    )
    for name, probability in scores.items():
        ordered = np.asarray(y)[np.argsort(-probability, kind="stable")]
        caught = np.concatenate([[0.0], np.cumsum(ordered) / ordered.sum()])
        ax.plot(np.linspace(0, 1, len(caught)), caught, label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="random")
    ax.legend()
    return fig


def importance_figure(contributions: pd.DataFrame, top: int = SHAP_TOP_FEATURES) -> Figure:
    """Horizontal bars of the `top` features by mean absolute log-odds contribution.

    contributions: (n, f) contributions of a sample of rows; comparable across families.
    """
    importance = contributions.abs().mean().sort_values(ascending=False)
    shown = importance.head(top)[::-1]
    fig, ax = titled_axes(
        "Feature importance (mean |contribution|)", "mean absolute log-odds contribution", ""
    )
    ax.barh(shown.index, shown.to_numpy())
    return fig


def shap_summary_figure(
    contributions: pd.DataFrame, features: pd.DataFrame, top: int = SHAP_TOP_FEATURES
) -> Figure:
    """Beeswarm-style summary: each dot a customer, x its contribution, colour its value rank.

    contributions : (n, f) log-odds contributions; features : the (n, f') feature rows.
    """
    order = contributions.abs().mean().sort_values(ascending=False).head(top).index[::-1]
    fig, ax = plt.subplots(figsize=(7.0, 0.35 * len(order) + 1.5), layout="constrained")
    rng = np.random.default_rng(0)
    for row, name in enumerate(order):
        values = contributions[name].to_numpy()
        jitter = row + rng.uniform(-0.3, 0.3, size=len(values))
        if name in features and features[name].dtype.kind in "fiub":
            colour = features[name].rank(pct=True).to_numpy()
            ax.scatter(values, jitter, c=colour, cmap="coolwarm", s=4, alpha=0.6, vmin=0, vmax=1)
        else:  # categorical: no value order to colour by
            ax.scatter(values, jitter, color="grey", s=4, alpha=0.6)
    ax.set_yticks(range(len(order)), labels=list(order))
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set(title="Contributions to churn log-odds (red = high value)", xlabel="contribution")
    return fig


def savings_figure(curve: pd.DataFrame, choice: ThresholdChoice) -> Figure:
    """Realised and expected savings against customers contacted, the choice marked."""
    check_curve(curve)
    fig, ax = titled_axes(
        "Savings of contacting the riskiest customers", "customers contacted", "savings (money)"
    )
    customers = curve["customers"].to_numpy()
    if not curve["realised_savings"].isna().any():
        ax.plot(customers, curve["realised_savings"], label="realised (labels)")
    ax.plot(customers, curve["expected_savings"], linestyle="--", label="expected (probabilities)")
    ax.axhline(0, color="grey", linestyle=":")
    mark = (
        "contact nobody"
        if choice.contacts_nobody
        else f"best threshold {choice.threshold:.3g} ({choice.customers:,} customers)"
    )
    ax.axvline(choice.customers, color="C2", linestyle="-.", label=mark)
    ax.legend()
    return fig


def survival_calibration_figure(table: pd.DataFrame) -> Figure:
    """Predicted against Kaplan-Meier S(t) per bin of predicted S(t), one panel per month.

    table: model, month, bin, customers, predicted, observed (survival_metrics tables).
    """
    months = sorted(table["month"].unique())
    fig, axes = plt.subplots(
        1, len(months), figsize=(4.2 * len(months), 4.2), layout="constrained", squeeze=False
    )
    for ax, month in zip(axes[0], months, strict=True):
        rows = table[table["month"] == month]
        low = min(rows["predicted"].min(), rows["observed"].min())
        for name, curve in rows.groupby("model", sort=False):
            ax.plot(curve["predicted"], curve["observed"], marker="o", markersize=3, label=name)
        ax.plot([low, 1], [low, 1], color="grey", linestyle=":")
        ax.set(
            title=f"S({month} months), out of time",
            xlabel="predicted (bin mean)",
            ylabel="Kaplan-Meier observed",
        )
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize="small")
    return fig

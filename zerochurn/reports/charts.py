"""The two chart shapes every report uses: ranked horizontal bars and lines over periods.

Pure functions from values to matplotlib Figures. They build `Figure` objects directly,
without pyplot, so no global figure state or display backend is involved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

WIDTH = 8.0
"""Width of every chart, in inches."""

LINE_HEIGHT = 4.0
"""Height of a line chart, in inches."""

BAR_INCHES = 0.28
BAR_MARGIN_INCHES = 1.5
BAR_MIN_HEIGHT = 2.5
"""A bar chart is BAR_INCHES per bar plus BAR_MARGIN_INCHES high, at least BAR_MIN_HEIGHT."""

BAR_COLOR = "#4c78a8"
HIGHLIGHT_COLOR = "#e45756"
REFERENCE_STYLES = ("--", ":", "-.")
"""Line styles of the reference lines (e.g. the satisfied bar and the low bar), in order."""


def _legend(ax) -> None:
    """The legend beside the plot, where it cannot hide bars or lines."""
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _percent(axis, percent: bool) -> None:
    if percent:
        axis.set_major_formatter(PercentFormatter(xmax=1))


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str,
    references: Mapping[str, float] | None = None,
    highlight: Sequence[bool] | None = None,
    percent: bool = False,
) -> Figure:
    """Horizontal bars of `values`, first label on top, highlighted bars in HIGHLIGHT_COLOR.

    references: label -> x position of a vertical reference line; percent: values are
    fractions, shown as percentages.
    """
    height = max(BAR_MIN_HEIGHT, BAR_INCHES * len(labels) + BAR_MARGIN_INCHES)
    figure = Figure(figsize=(WIDTH, height), layout="constrained")
    ax = figure.subplots()
    marked = highlight if highlight is not None else [False] * len(labels)
    colors = [HIGHLIGHT_COLOR if mark else BAR_COLOR for mark in marked]
    ax.barh(list(labels), list(values), color=colors)
    ax.invert_yaxis()
    for (label, x), style in zip((references or {}).items(), REFERENCE_STYLES, strict=False):
        ax.axvline(x, color="black", linestyle=style, linewidth=1, label=label)
    if references:
        _legend(ax)
    ax.set(title=title, xlabel=xlabel)
    _percent(ax.xaxis, percent)
    ax.grid(axis="x", alpha=0.3)
    return figure


def line_chart(
    periods: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    ylabel: str,
    references: Mapping[str, float] | None = None,
    percent: bool = False,
) -> Figure:
    """One line with markers per entry of `series` over `periods` (e.g. quarters, months).

    references: label -> y position of a horizontal reference line; percent: values are
    fractions, shown as percentages. Missing values (NaN) leave gaps.
    """
    figure = Figure(figsize=(WIDTH, LINE_HEIGHT), layout="constrained")
    ax = figure.subplots()
    for name, values in series.items():
        ax.plot(list(periods), list(values), marker="o", label=name)
    for (label, y), style in zip((references or {}).items(), REFERENCE_STYLES, strict=False):
        ax.axhline(y, color="black", linestyle=style, linewidth=1, label=label)
    _legend(ax)
    ax.set(title=title, ylabel=ylabel)
    _percent(ax.yaxis, percent)
    ax.tick_params(axis="x", labelrotation=45)
    ax.grid(alpha=0.3)
    return figure

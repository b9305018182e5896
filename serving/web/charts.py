"""Small charts drawn as inline SVG on the server: horizontal bars and lines over periods.

Geometry only: each function returns a `Chart`, a list of SVG elements with their
attributes, which templates/_charts.html writes out; colours come from CSS classes
(static/style.css). No JavaScript and no plotting library: a chart costs well under a
millisecond and scales with the page (the SVG has a viewBox).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

WIDTH = 640
"""Width of every chart in SVG units; the page scales it to the column."""
LABEL_WIDTH = 170
"""Room left of a bar chart for the row labels."""
ROW_HEIGHT = 24
LINE_HEIGHT = 240
"""Height of a line chart's plotting area and its margins."""
MARGIN = {"top": 28, "right": 56, "bottom": 26, "left": 56}
"""Margins around a plot, in SVG units (bar charts use LABEL_WIDTH on the left)."""
TICKS = 4
"""Intervals an axis is split into, about."""
MAX_X_LABELS = 8
"""Most period labels written under a line chart: every k-th from the last."""
SERIES_CLASSES = 6
"""CSS classes s0..s5 colour the series, in order, then repeat."""

Format = Callable[[float], str]


@dataclass(frozen=True)
class Mark:
    """One SVG element: its tag, attributes, text content and tooltip."""

    tag: str
    attrs: tuple[tuple[str, object], ...]
    text: str = ""
    tip: str = ""


@dataclass(frozen=True)
class Chart:
    """An SVG chart: size in SVG units, its elements in drawing order, and a legend."""

    title: str
    width: int
    height: int
    marks: tuple[Mark, ...]
    legend: tuple[tuple[str, str], ...] = field(default=())
    """(series name, CSS class) pairs, when there is more than one series."""


def _mark(tag: str, text: str = "", tip: str = "", **attrs: object) -> Mark:
    named = tuple((name.rstrip("_").replace("_", "-"), value) for name, value in attrs.items())
    return Mark(tag, named, text, tip)


def nice_ticks(low: float, high: float, count: int = TICKS) -> list[float]:
    """Round axis ticks covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if not high > low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(round((last - first) / step) + 1)]


def _known(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _domain(
    values: Sequence[float | None], references: Mapping[str, float], zero: bool
) -> list[float]:
    known = [float(v) for v in values if _known(v)] + [float(v) for v in references.values()]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    if zero:
        low, high = min(low, 0.0), max(high, 0.0)
    return nice_ticks(low, high)


def _series_class(number: int, highlight: bool = False) -> str:
    return f"s{number % SERIES_CLASSES}" + (" hl" if highlight else "")


def bar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    fmt: Format,
    references: Mapping[str, float] | None = None,
    highlight: Sequence[bool] | None = None,
) -> Chart:
    """Horizontal bars: one row per label, one bar per series in each row, from zero.

    series: name -> one value per label (None: no bar, "n/a"); references: name -> value
    drawn as a dashed vertical line; highlight: rows drawn in the highlight colour.
    """
    references = dict(references or {})
    names = list(series)
    ticks = _domain([v for values in series.values() for v in values], references, zero=True)
    low, high = ticks[0], ticks[-1]
    left, right = LABEL_WIDTH, WIDTH - MARGIN["right"]
    top = MARGIN["top"]
    bottom = top + ROW_HEIGHT * len(labels)

    def x(value: float) -> float:
        return round(left + (value - low) / (high - low) * (right - left), 1)

    marks = [_mark("line", x1=left, y1=top, x2=left, y2=bottom, class_="axis")]
    for tick in ticks:
        marks.append(_mark("line", x1=x(tick), y1=top, x2=x(tick), y2=bottom, class_="grid"))
        marks.append(_mark("text", fmt(tick), x=x(tick), y=bottom + 16, class_="tick middle"))
    bar_height = (ROW_HEIGHT - 6) / max(len(names), 1)
    for row, label in enumerate(labels):
        y_row = top + row * ROW_HEIGHT
        marks.append(
            _mark("text", label, x=left - 6, y=y_row + ROW_HEIGHT / 2 + 4, class_="label end")
        )
        for number, name in enumerate(names):
            value = series[name][row]
            y_bar = round(y_row + 3 + number * bar_height, 1)
            if not _known(value):
                marks.append(
                    _mark("text", "n/a", x=left + 4, y=y_bar + bar_height / 2 + 4, class_="value")
                )
                continue
            start, end = sorted((x(0.0), x(float(value))))
            tip = (
                f"{label}, {name}: {fmt(float(value))}"
                if len(names) > 1
                else f"{label}: {fmt(float(value))}"
            )
            css = _series_class(number, bool(highlight and highlight[row]))
            marks.append(
                _mark(
                    "rect",
                    tip=tip,
                    x=start,
                    y=y_bar,
                    width=round(end - start, 1),
                    height=round(bar_height, 1),
                    class_=css,
                )
            )
            marks.append(
                _mark(
                    "text",
                    fmt(float(value)),
                    x=end + 4,
                    y=y_bar + bar_height / 2 + 4,
                    class_="value",
                )
            )
    for name, value in references.items():
        marks.append(_mark("line", x1=x(value), y1=top - 6, x2=x(value), y2=bottom, class_="ref"))
        marks.append(_mark("text", name, x=x(value), y=top - 10, class_="ref-label middle"))
    legend = (
        tuple((name, _series_class(n)) for n, name in enumerate(names)) if len(names) > 1 else ()
    )
    return Chart(title, WIDTH, bottom + MARGIN["bottom"], tuple(marks), legend)


def _runs(points: list[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """The stretches of consecutive known points (a missing value breaks the line)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x_value, y_value in points:
        if y_value is None:
            runs.append([])
        else:
            runs[-1].append((x_value, y_value))
    return [run for run in runs if run]


def line_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    fmt: Format,
    references: Mapping[str, float] | None = None,
    zero: bool = False,
) -> Chart:
    """Lines over periods: labels along the x axis, one line per series, a dot per value.

    series: name -> one value per label (None breaks the line); references: name -> value
    drawn as a dashed horizontal line; zero: the y axis starts at (or includes) zero.
    """
    references = dict(references or {})
    ticks = _domain([v for values in series.values() for v in values], references, zero=zero)
    low, high = ticks[0], ticks[-1]
    left, right = MARGIN["left"], WIDTH - MARGIN["right"]
    top, bottom = MARGIN["top"], LINE_HEIGHT - MARGIN["bottom"]
    step = (right - left) / (len(labels) - 1) if len(labels) > 1 else 0.0
    offset = 0.0 if len(labels) > 1 else (right - left) / 2

    def x(position: int) -> float:
        return round(left + offset + position * step, 1)

    def y(value: float) -> float:
        return round(bottom - (value - low) / (high - low) * (bottom - top), 1)

    marks = [_mark("line", x1=left, y1=bottom, x2=right, y2=bottom, class_="axis")]
    for tick in ticks:
        marks.append(_mark("line", x1=left, y1=y(tick), x2=right, y2=y(tick), class_="grid"))
        marks.append(_mark("text", fmt(tick), x=left - 6, y=y(tick) + 4, class_="tick end"))
    every = math.ceil(len(labels) / MAX_X_LABELS)
    for position, label in enumerate(labels):
        if (len(labels) - 1 - position) % every == 0:  # evenly spaced, the latest always shown
            marks.append(_mark("text", label, x=x(position), y=bottom + 16, class_="tick middle"))
    for name, value in references.items():
        marks.append(_mark("line", x1=left, y1=y(value), x2=right, y2=y(value), class_="ref"))
        marks.append(_mark("text", name, x=right + 4, y=y(value) + 4, class_="ref-label"))
    for number, (name, values) in enumerate(series.items()):
        css = _series_class(number)
        known = [(x(i), float(v) if _known(v) else None) for i, v in enumerate(values)]
        for run in _runs(known):
            points = " ".join(f"{px},{y(py)}" for px, py in run)
            marks.append(_mark("polyline", points=points, class_=f"{css} line"))
        for position, value in enumerate(values):
            if _known(value):
                tip = f"{labels[position]}: {fmt(float(value))}"
                if len(series) > 1:
                    tip = f"{name}, {tip}"
                marks.append(
                    _mark("circle", tip=tip, cx=x(position), cy=y(float(value)), r=3, class_=css)
                )
    legend = (
        tuple((name, _series_class(n)) for n, name in enumerate(series)) if len(series) > 1 else ()
    )
    return Chart(title, WIDTH, LINE_HEIGHT, tuple(marks), legend)

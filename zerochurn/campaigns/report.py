"""A campaign's measurement as people read it: a figure, an HTML page, JSON and CSV.

The page and the JSON come from one reports.html.Report, so they cannot disagree; a
campaign that cannot be measured yet gets a JSON saying why and no page.
"""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from zerochurn.campaigns.measure import Interval, Measurement
from zerochurn.io import atomic_path, write_json
from zerochurn.reports.html import FIGURE_DPI, Report, Section, Table, write_report

REPORT_NAME = "campaign"
"""File stem of the measurement's HTML and JSON."""
FIGSIZE = (11.0, 4.5)
GROUP_COLOURS = {"treatment": "#2b8cbe", "control": "#bdbdbd"}
GAIN_COLOUR, LOSS_COLOUR = "#31a354", "#de2d26"


def _interval(name: str, interval: Interval) -> dict[str, float]:
    return {name: interval.estimate, f"{name}_low": interval.low, f"{name}_high": interval.high}


def summary(m: Measurement) -> dict[str, Any]:
    """The headline figures, in page order (rates as fractions, money in currency units)."""
    return {
        "status": "measured",
        "campaign": m.campaign,
        "campaign_date": m.as_of,
        "outcome_window_end": m.window_end,
        "model_version": m.model_version,
        "treatment_customers": m.treatment_customers,
        "control_customers": m.control_customers,
        "treatment_churn_rate": m.treatment_churn_rate,
        "control_churn_rate": m.control_churn_rate,
        **_interval("churn_rate_drop", m.churn_rate_drop),
        **_interval("customers_saved", m.customers_saved),
        **_interval("value_saved", m.value_saved),
        "offers": m.offers,
        "offer_cost": m.offer_cost,
        **_interval("net_value", m.net_value),
        "contact_rate": m.contact_rate,
        "controls_contacted": m.controls_contacted,
        "value_column": m.value_column,
        "customers_of_unknown_value": m.unknown_values,
    }


def _rate_errors(rates: np.ndarray, counts: np.ndarray, z: float) -> np.ndarray:
    """Half-widths of the normal intervals of churn rates (0 where a group is empty)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        half = z * np.sqrt(rates * (1 - rates) / counts)
    return np.nan_to_num(half)


def measurement_figure(m: Measurement) -> Figure:
    """Churn rate of each group per risk tier and overall; value saved, offer cost and net."""
    z = NormalDist().inv_cdf((1 + m.confidence) / 2)
    fig, (rates_ax, money_ax) = plt.subplots(1, 2, figsize=FIGSIZE, layout="constrained")
    tiers = [*m.by_tier["risk_tier"], "all"]
    x = np.arange(len(tiers))
    for offset, group in ((-0.2, "treatment"), (0.2, "control")):
        rates = np.r_[m.by_tier[f"{group}_churn_rate"], getattr(m, f"{group}_churn_rate")]
        counts = np.r_[m.by_tier[f"{group}_customers"], getattr(m, f"{group}_customers")]
        rates_ax.bar(
            x + offset,
            np.nan_to_num(rates),
            width=0.4,
            yerr=_rate_errors(rates, counts, z),
            capsize=3,
            color=GROUP_COLOURS[group],
            label=group,
        )
    rates_ax.set_xticks(x, tiers)
    rates_ax.set(
        title=f"Churn in the outcome window ({m.confidence:.0%} intervals)",
        xlabel="risk tier",
        ylabel="churn rate",
    )
    rates_ax.legend()
    rates_ax.grid(alpha=0.3, axis="y")
    money = {"value saved": m.value_saved, "offer cost": None, "net value": m.net_value}
    estimates = [m.offer_cost if v is None else v.estimate for v in money.values()]
    errors = np.array(
        [[0, 0] if v is None else [v.estimate - v.low, v.high - v.estimate] for v in money.values()]
    ).T
    colours = [GAIN_COLOUR if v >= 0 else LOSS_COLOUR for v in estimates]
    colours[1] = LOSS_COLOUR  # a cost
    money_ax.bar(list(money), estimates, yerr=errors, capsize=4, color=colours)
    money_ax.axhline(0, color="black", linewidth=0.8)
    money_ax.set(title="Money (treatment group)", ylabel=m.value_column)
    money_ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"Campaign {m.campaign} of {m.as_of}")
    return fig


def _money(value: float) -> str:
    return f"{value:,.0f}" if math.isfinite(value) else "n/a"


def campaign_report(m: Measurement, figure: Figure) -> Report:
    """The measurement as a report: summary, the figure, the per-tier table."""
    level = f"{m.confidence:.0%}"
    verdict = (
        "The action lowered churn"
        if m.churn_rate_drop.low > 0
        else "The action raised churn"
        if m.churn_rate_drop.high < 0
        else "The difference in churn could be chance"
    )
    text = (
        f"{verdict}: {m.control_churn_rate:.1%} of the control group churned in the outcome "
        f"window, {m.treatment_churn_rate:.1%} of the treatment group, a drop of "
        f"{m.churn_rate_drop.estimate * 100:+.1f} points ({level} interval "
        f"{m.churn_rate_drop.low * 100:+.1f} to {m.churn_rate_drop.high * 100:+.1f}). "
        f"That is {m.customers_saved.estimate:,.0f} customers saved, worth "
        f"{_money(m.value_saved.estimate)} ({_money(m.value_saved.low)} to "
        f"{_money(m.value_saved.high)}) in {m.value_column}; {m.offers:,} offers cost "
        f"{_money(m.offer_cost)}, so the net result is {_money(m.net_value.estimate)}. "
        "Groups are compared as assigned, whoever was reached; the low and high figures "
        f"bound the {level} intervals."
    )
    return Report(
        name=REPORT_NAME,
        title=f"Campaign {m.campaign}: did the retention action work?",
        summary=summary(m),
        sections=(
            Section(
                title="Treatment against control",
                text=text,
                figures=(figure,),
                tables=(Table("by_tier", "Churn by risk tier", m.by_tier),),
            ),
        ),
    )


def write_measurement(m: Measurement, folder: Path) -> list[Path]:
    """Write campaign.html, campaign.json, by_tier.csv and campaign.png under `folder`.

    Returns the paths, HTML first.
    """
    figure = measurement_figure(m)
    try:
        paths = write_report(campaign_report(m, figure), folder)
        png = folder / f"{REPORT_NAME}.png"
        with atomic_path(png) as tmp:
            figure.savefig(tmp, format="png", dpi=FIGURE_DPI)
    finally:
        plt.close(figure)
    return [*paths, png]


def write_not_measurable(campaign: str, reason: str, folder: Path) -> Path:
    """Write campaign.json saying the campaign is not yet measurable, and why."""
    return write_json(
        {"report": REPORT_NAME, "status": "not measurable", "campaign": campaign, "reason": reason},
        folder / f"{REPORT_NAME}.json",
    )

"""The promotion gate: may the run's model become champion? A pure decision, with reasons.

The run's model is already the best of its candidates (training/selection.py), the
baseline among them, so with no champion to beat it passes, unless it is refused for a
named reason (a column that looks like leakage). Against a champion scored on the same
test rows it must win by more than noise: its ROC-AUC gain, less its one-sided
`gate.confidence` margin of error (paired DeLong test), must reach `gate.min_auc_gain`,
and its ECE may not exceed the champion's by more than `gate.max_ece_increase`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

from zerochurn.configs.settings import GateConfig


@dataclass(frozen=True)
class GateDecision:
    """Outcome of the gate; `reasons` say in words why it passed or failed.

    compared_with: "champion", or "candidates" when there is no champion to compare with
    (the model is the best candidate).
    """

    passed: bool
    compared_with: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class AucDifference:
    """Challenger minus champion test ROC-AUC on the same rows, its standard error, rows."""

    difference: float
    standard_error: float
    rows: int


def promotion_decision(
    challenger: Mapping[str, float],
    *,
    champion: Mapping[str, float] | None,
    gate: GateConfig,
    difference: AucDifference | None = None,
    refusals: tuple[str, ...] = (),
) -> GateDecision:
    """Decide on test metrics ("roc_auc", "ece") of the challenger and the champion.

    Parameters
    ----------
    challenger, champion : metric dicts; champion None when there is none to compare with
    gate : thresholds from the training config
    difference : the paired ROC-AUC difference, required with a champion
    refusals : reasons that forbid promoting this model at all (e.g. leakage)
    """
    if refusals:
        return GateDecision(False, "candidates" if champion is None else "champion", refusals)
    if champion is None:
        reason = "first model: no champion to compare with, and the best of the candidates"
        return GateDecision(True, "candidates", (reason,))
    if difference is None:
        raise ValueError("comparing with a champion needs the paired ROC-AUC difference")
    z = NormalDist().inv_cdf(gate.confidence)
    bound = difference.difference - z * difference.standard_error
    auc_ok = bound >= gate.min_auc_gain
    allowed_ece = champion["ece"] + gate.max_ece_increase
    ece_ok = challenger["ece"] <= allowed_ece
    noise = ""
    if not auc_ok and difference.difference >= gate.min_auc_gain:
        noise = f": within the noise of {difference.rows:,} test rows"
    reasons = (
        f"ROC-AUC {challenger['roc_auc']:.4f} against the champion's {champion['roc_auc']:.4f}: "
        f"{difference.difference:+.4f} +- {difference.standard_error:.4f}, at "
        f"{gate.confidence:.0%} confidence at least {bound:+.4f} "
        f"{'>=' if auc_ok else '<'} min gain {gate.min_auc_gain}{noise}",
        f"ECE {challenger['ece']:.4f} {'<=' if ece_ok else '>'} {allowed_ece:.4f} "
        f"(champion {champion['ece']:.4f} + max increase {gate.max_ece_increase})",
    )
    return GateDecision(auc_ok and ece_ok, "champion", reasons)

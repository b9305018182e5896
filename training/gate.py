"""The promotion gate: may a challenger replace the champion? A pure decision, with reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from zerochurn.configs.settings import GateConfig


@dataclass(frozen=True)
class GateDecision:
    """Outcome of the gate; `reasons` say in words why it passed or failed."""

    passed: bool
    compared_with: str
    reasons: tuple[str, ...]


def promotion_decision(
    challenger: Mapping[str, float],
    *,
    champion: Mapping[str, float] | None,
    baseline: Mapping[str, float],
    gate: GateConfig,
) -> GateDecision:
    """Decide on metrics computed on the same out-of-time rows.

    With no champion yet, the challenger's ROC-AUC must exceed the baseline's plus
    ``gate.baseline_margin``. Otherwise its
    ROC-AUC must be at least the champion's plus ``gate.min_auc_gain`` and its ECE at most
    the champion's plus ``gate.max_ece_increase``.

    Parameters
    ----------
    challenger, champion, baseline : metric dicts with "roc_auc" and "ece"
    gate : thresholds from the training config
    """
    auc = challenger["roc_auc"]
    if champion is None:
        needed = baseline["roc_auc"] + gate.baseline_margin
        passed = auc > needed
        verb = "beats" if passed else "does not beat"
        reason = (
            f"first model: ROC-AUC {auc:.4f} {verb} the baseline's {baseline['roc_auc']:.4f}"
            f" + margin {gate.baseline_margin}"
        )
        return GateDecision(passed, "baseline", (reason,))
    needed_auc = champion["roc_auc"] + gate.min_auc_gain
    allowed_ece = champion["ece"] + gate.max_ece_increase
    auc_ok = auc >= needed_auc
    ece_ok = challenger["ece"] <= allowed_ece
    reasons = (
        f"ROC-AUC {auc:.4f} {'>=' if auc_ok else '<'} {needed_auc:.4f} "
        f"(champion {champion['roc_auc']:.4f} + min gain {gate.min_auc_gain})",
        f"ECE {challenger['ece']:.4f} {'<=' if ece_ok else '>'} {allowed_ece:.4f} "
        f"(champion {champion['ece']:.4f} + max increase {gate.max_ece_increase})",
    )
    return GateDecision(auc_ok and ece_ok, "champion", reasons)

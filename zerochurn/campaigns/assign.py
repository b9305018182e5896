"""Randomised treatment and control groups, stratified by risk tier.

Within each stratum the members are shuffled and the first n_control become the control
group, n_control = floor(holdout x n + u) with u uniform on [0, 1): randomised rounding, so
every member is a control with probability exactly `holdout`, each stratum's control count
is within one customer of holdout x n, and the plain difference of the groups' churn rates
is an unbiased estimate of the action's average effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TREATMENT = "treatment"
CONTROL = "control"
GROUPS = (TREATMENT, CONTROL)


def assign_groups(strata: pd.Series, holdout: float, seed: int) -> np.ndarray:
    """(n,) group of each member, TREATMENT or CONTROL, stratified by `strata`.

    strata: (n,) each member's stratum (its risk tier); holdout: share kept as controls, in
    (0, 1). The same strata, holdout and seed always give the same groups.
    """
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must lie in (0, 1), got {holdout}")
    if strata.isna().any():
        raise ValueError(f"{int(strata.isna().sum())} member(s) have no stratum (risk tier)")
    rng = np.random.default_rng(seed)
    groups = np.full(len(strata), TREATMENT, dtype=object)
    labels = strata.to_numpy(dtype=object)
    for stratum in sorted(pd.unique(labels).tolist(), key=str):
        members = rng.permutation(np.flatnonzero(labels == stratum))
        n_control = int(np.floor(holdout * len(members) + rng.random()))
        groups[members[:n_control]] = CONTROL
    return groups

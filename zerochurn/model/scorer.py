"""The part of a churn model that turns the encoded matrix into log-odds: one per family.

Every family (model/trees.py, model/linear.py, model/blend.py) gives the same three
things, so serving, batch scores, reasons, the value maths and monitoring use any of them
unchanged:

- raw_score(matrix): (n,) log-odds of churn before calibration;
- contributions(matrix): (n, features) log-odds parts per input column, with
  expected_value_ + row sum == raw_score (TreeSHAP for trees, exact parts for a linear model);
- boosters: the LightGBM boosters inside, so serving can explain them from its fast tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import lightgbm as lgb
import numpy as np

from zerochurn.configs.settings import Family

__all__ = ["Family", "Scorer", "TreeContributions"]

TreeContributions = Callable[[lgb.Booster, np.ndarray], np.ndarray | None]
"""A faster equal of a booster's `pred_contrib` (serving's TreeShapTables): (booster,
(n, features) matrix) -> (n, features) contributions, or None to use pred_contrib."""


class Scorer(Protocol):
    """Encoded (n, features) matrix -> raw log-odds and per-feature contributions."""

    family: Family
    expected_value_: float

    def raw_score(self, matrix: np.ndarray) -> np.ndarray:
        """(n,) log-odds of churn before calibration."""
        ...

    def contributions(
        self, matrix: np.ndarray, tree_contributions: TreeContributions | None = None
    ) -> np.ndarray:
        """(n, features) log-odds contributions; expected_value_ + row sum == raw_score."""
        ...

    @property
    def boosters(self) -> tuple[lgb.Booster, ...]:
        """The LightGBM boosters this scorer evaluates (none for a linear model)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What was learned, for the run log: rounds, regularisation, weights."""
        ...

"""Seeded random streams: one independent generator per (seed, purpose, month).

Each month and purpose draws from its own stream, so a change that starts in month t
(a drift scenario) cannot alter any draw of an earlier month.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    """What a random stream is used for."""

    POPULATION = 0
    ARRIVALS = 1
    NEW_SEGMENT = 2
    EXPERIENCE = 3
    CHURN = 4
    REVENUE = 5
    COMPLAINTS = 6
    SURVEYS = 7
    WARMUP = 8


def stream(seed: int, purpose: Stream, month: int) -> np.random.Generator:
    """The generator for `purpose` in month `month` (>= 0) of world `seed`.

    Warm-up months before the start use Stream.WARMUP with the number of months before
    the start as `month`.
    """
    return np.random.default_rng([seed, int(purpose), month])

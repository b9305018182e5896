"""The one path from feature rows to logged scores: score them, then log them.

The service (runtime.py), batch scoring (batch.py: `zerochurn score`, DVC's score stage
and any library caller of `score_batch`) and flat-table scoring all call `score_and_log`,
so every score zerochurn hands out is in the prediction log monitoring reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zerochurn.configs.settings import Settings
from zerochurn.serving.model import ScoringModel
from zerochurn.serving.prediction_log import Source, append_scores
from zerochurn.serving.scoring import score_columns


def score_and_log(
    features: pd.DataFrame,
    model: ScoringModel,
    settings: Settings,
    *,
    source: Source,
    scored_at: str,
) -> dict[str, np.ndarray]:
    """Score feature rows (`scoring.score_columns`) and append them to the prediction log.

    Returns the score columns as (n,) arrays, in input order; they are in the log of
    settings.workspace (features, key outputs, model version, `source`, `scored_at`)
    before this returns: on disk, or written to the operating system with
    monitoring.log_durability "os".
    """
    scores = score_columns(
        features,
        model,
        settings.serving,
        settings.features.value_function,
        scored_at=scored_at,
    )
    append_scores(
        features,
        scores,
        settings.workspace,
        model_version=model.version,
        source=source,
        scored_at=scored_at,
        config=settings.monitoring,
        schema=model.log_schema,
    )
    return scores

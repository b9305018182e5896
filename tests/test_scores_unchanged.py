"""No score moved: the fixed world scores exactly as the stored fixture says (fixed_world.py)."""

from __future__ import annotations

import pandas as pd
import pytest
from fixed_world import FIXTURE, fixed_world_scores

from zerochurn.serving.scoring import SURVIVAL_COLUMNS

pytestmark = pytest.mark.slow


def test_the_fixed_world_scores_bit_for_bit_as_the_fixture(tmp_path):
    expected = pd.read_parquet(FIXTURE)
    scores = fixed_world_scores(tmp_path)
    pd.testing.assert_frame_equal(
        scores[list(expected.columns)].reset_index(drop=True),
        expected,
        check_exact=True,
        check_dtype=False,
    )
    # the time-to-churn columns (#19) came after the fixture: new, not moved
    assert set(scores.columns) - set(expected.columns) == set(SURVIVAL_COLUMNS)

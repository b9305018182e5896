"""Honest selection and the gate: validation folds, cross-fitting, the paired AUC test,
which candidate is chosen, and when a model may become champion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from zerochurn.configs.settings import GateConfig, TrainingConfig
from zerochurn.model.metrics import paired_auc_difference
from zerochurn.training.gate import AucDifference, promotion_decision
from zerochurn.training.selection import Candidate, select
from zerochurn.training.validation import cross_fit, cross_validated, fold_aucs, out_of_time


def _labels(n: int = 60, seed: int = 0) -> np.ndarray:
    labels = np.zeros(n, dtype=np.int64)
    labels[np.random.default_rng(seed).choice(n, n // 4, replace=False)] = 1
    return labels


def test_cross_validation_scores_every_row_once_per_repeat_from_a_model_that_never_saw_it():
    y = _labels()
    validation = cross_validated(y, folds=5, repeats=2, seed=0)
    assert validation.folds.shape == (2, 60) and validation.refit and validation.n_folds == 10
    for repeat in range(2):
        splits = [s for s in validation.splits if s.repeat == repeat]
        scored = np.sort(np.concatenate([s.scored for s in splits]))
        np.testing.assert_array_equal(scored, np.arange(60))  # every row once
        for split in splits:
            assert not set(split.fit) & set(validation.held[split.scored])
            assert len(set(validation.folds[repeat, split.scored])) == 1
    # stratified: every fold holds 3 of the 15 churners
    for _, mask in validation.fold_masks():
        assert y[mask].sum() == 3


def test_cross_validation_needs_a_churner_per_fold():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(ValueError, match=r"only 3 rows of the rarer label .* at least 5 churners"):
        cross_validated(y, folds=5, repeats=1, seed=0)


def test_out_of_time_holds_out_the_later_rows_in_stratified_parts():
    later = np.array([1, 0, 0, 1, 0, 0, 1, 0, 0, 0])
    validation = out_of_time(20, later, folds=5, seed=0)
    assert not validation.refit
    np.testing.assert_array_equal(validation.held, np.arange(20, 30))
    (split,) = validation.splits
    np.testing.assert_array_equal(split.fit, np.arange(20))
    assert len(np.unique(validation.folds)) == 3  # as many parts as churners, not 5
    single = out_of_time(20, np.array([1, 0, 0, 0]), folds=5, seed=0)
    assert single.n_folds == 1


def test_cross_fit_never_applies_a_fit_to_its_own_rows():
    y = _labels()
    validation = cross_validated(y, folds=3, repeats=2, seed=1)
    rows = np.tile(np.arange(60.0), (2, 1))  # each held row's score is its own number

    def fit(scores: np.ndarray, labels: np.ndarray) -> set[float]:
        return set(scores.tolist())

    def apply(seen: set[float], scores: np.ndarray) -> np.ndarray:
        return np.array([score in seen for score in scores], dtype=float)

    assert not cross_fit(validation, y, rows, fit, apply).any()


def test_fold_aucs_by_hand():
    y = np.array([0, 1, 0, 1])
    validation = out_of_time(0, y, folds=2, seed=0)
    scores = np.array([[0.1, 0.9, 0.2, 0.8]])
    assert fold_aucs(validation, y, scores).tolist() == [1.0, 1.0]


def _delong_by_definition(y, first, second):
    """DeLong's difference and standard error from the definition, pair by pair."""
    components = []
    for score in (first, second):
        pos, neg = score[y == 1], score[y == 0]
        psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        components.append((psi.mean(axis=1), psi.mean(axis=0), psi.mean()))
    v10 = np.cov(np.stack([c[0] for c in components])) / (y == 1).sum()
    v01 = np.cov(np.stack([c[1] for c in components])) / (y == 0).sum()
    s = v10 + v01
    return components[0][2] - components[1][2], np.sqrt(s[0, 0] + s[1, 1] - 2 * s[0, 1])


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=6, max_value=60))
def test_paired_auc_difference_matches_delongs_definition(seed, n):
    rng = np.random.default_rng(seed)
    y = np.r_[[0, 0, 1, 1], rng.integers(0, 2, n)]
    first = rng.integers(0, 5, len(y)).astype(float)  # ties on purpose
    second = first + rng.normal(size=len(y))
    difference, error = paired_auc_difference(y, first, second)
    expected_difference, expected_error = _delong_by_definition(y, first, second)
    assert difference == pytest.approx(roc_auc_score(y, first) - roc_auc_score(y, second))
    assert difference == pytest.approx(expected_difference)
    assert error == pytest.approx(expected_error, abs=1e-12)


def _candidate(family: str, aucs: tuple[float, ...], refused: str | None = None) -> Candidate:
    return Candidate(family, None, aucs, (0.01,), np.zeros(0), refused)  # type: ignore[arg-type]


def test_selection_takes_the_best_mean_and_skips_refused_candidates():
    validation = cross_validated(_labels(), folds=2, repeats=1, seed=0)
    candidates = (
        _candidate("lightgbm", (0.80, 0.82)),
        _candidate("logistic", (0.79, 0.80)),
        _candidate("blend", (0.90, 0.90), refused="its best weight puts everything on lightgbm"),
    )
    selection = select(candidates, validation, margin=0.0)
    assert selection.chosen == "lightgbm"
    assert "lightgbm 0.8100 +- 0.0141" in selection.reason
    assert "logistic 0.7950" in selection.reason and "blend" not in selection.reason


def test_the_baseline_keeps_its_place_unless_beaten_by_the_margin():
    validation = cross_validated(_labels(), folds=2, repeats=1, seed=0)
    candidates = (_candidate("lightgbm", (0.805,)), _candidate("logistic", (0.80,)))
    strict = select(candidates, validation, margin=0.01)
    assert strict.chosen == "logistic" and "does not beat the baseline" in strict.reason
    assert select(candidates, validation, margin=0.0).chosen == "lightgbm"


def test_selection_refuses_when_every_candidate_is_refused():
    validation = cross_validated(_labels(), folds=2, repeats=1, seed=0)
    with pytest.raises(ValueError, match="every candidate was refused: logistic: broken"):
        select((_candidate("logistic", (0.8,), refused="broken"),), validation, margin=0.0)


def test_a_first_model_passes_as_the_best_candidate_unless_refused():
    metrics = {"roc_auc": 0.70, "ece": 0.02}
    first = promotion_decision(metrics, champion=None, gate=GateConfig())
    assert first.passed and first.compared_with == "candidates"
    assert first.reasons[0].startswith("first model: no champion to compare with")
    leak = "every candidate reads exit_survey, which alone ranks churners with ROC-AUC 1.000"
    refused = promotion_decision(metrics, champion=None, gate=GateConfig(), refusals=(leak,))
    assert not refused.passed and refused.reasons == (leak,)


@pytest.mark.parametrize(
    ("challenger", "difference", "passed", "says"),
    [
        ({"roc_auc": 0.83, "ece": 0.015}, AucDifference(0.03, 0.01, 5000), True, ">= min gain"),
        # +0.003 on 2,000 rows: DeLong's error 0.006 puts 0 well inside the noise
        ({"roc_auc": 0.803, "ece": 0.015}, AucDifference(0.003, 0.006, 2000), False, "noise"),
        ({"roc_auc": 0.79, "ece": 0.015}, AucDifference(-0.01, 0.004, 2000), False, "< min"),
        ({"roc_auc": 0.85, "ece": 0.05}, AucDifference(0.05, 0.01, 5000), False, "ECE 0.0500 >"),
    ],
)
def test_gate_against_the_champion_needs_a_gain_beyond_the_noise(
    challenger, difference, passed, says
):
    champion = {"roc_auc": 0.80, "ece": 0.02}
    decision = promotion_decision(
        challenger, champion=champion, gate=GateConfig(), difference=difference
    )
    assert decision.passed is passed and decision.compared_with == "champion"
    assert says in " ".join(decision.reasons)


def test_gate_confidence_of_one_half_compares_the_point_values():
    champion = {"roc_auc": 0.80, "ece": 0.02}
    tiny = AucDifference(0.001, 0.01, 2000)
    challenger = {"roc_auc": 0.801, "ece": 0.02}
    point = GateConfig(confidence=0.5)
    assert promotion_decision(challenger, champion=champion, gate=point, difference=tiny).passed
    assert not promotion_decision(
        challenger, champion=champion, gate=GateConfig(), difference=tiny
    ).passed


def test_candidates_must_include_the_baseline_and_a_blend_its_parts():
    with pytest.raises(ValueError, match="must include logistic"):
        TrainingConfig(candidates=("lightgbm",))
    with pytest.raises(ValueError, match="add lightgbm"):
        TrainingConfig(candidates=("logistic", "blend"))

"""The model families as fitted parts: the spline basis, exact logistic and blend reasons,
and one ChurnModel interface over every family."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zerochurn.model.basis import SplineBasis
from zerochurn.model.blend import BlendScorer
from zerochurn.model.calibration import PlattCalibrator
from zerochurn.model.encoding import FeatureEncoder
from zerochurn.model.estimator import ChurnModel
from zerochurn.model.linear import LinearScorer
from zerochurn.model.trees import TreeScorer

N = 600


def _rows(n: int = N, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Feature rows with a missing number, a binary number and a category; churn labels."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, n).astype(float)
    charges = rng.uniform(20, 120, n).round(2)
    charges[rng.random(n) < 0.05] = np.nan
    senior = rng.integers(0, 2, n).astype(float)
    contract = rng.choice(["monthly", "yearly", "two years"], n)
    logit = -0.5 - 0.04 * tenure + 1.2 * (contract == "monthly") + 0.01 * np.nan_to_num(charges)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    frame = pd.DataFrame(
        {"tenure": tenure, "charges": charges, "senior": senior, "contract": contract}
    )
    return frame, y


def _encoder(frame: pd.DataFrame) -> FeatureEncoder:
    return FeatureEncoder(["tenure", "charges", "senior"], ["contract"]).fit(frame)


def test_spline_basis_by_hand():
    # one number with knots 0, 1, 2 (3 quantiles of 0..2) and a missing value; 2 categories
    matrix = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, np.nan], [np.nan, 0.0], [5.0, 7.0]])
    basis = SplineBasis(n_numeric=1, categories=[2], knots=3).fit(matrix[:4])
    numbers, codes = basis.groups_
    assert (numbers.stop - numbers.start, codes.stop - codes.start) == (6, 3)  # 5 splines + flag
    z = basis.transform(matrix)
    splines = z[:, :5]
    np.testing.assert_allclose(splines.sum(axis=1), 1.0)  # a partition of unity
    np.testing.assert_allclose(splines[0], [1, 0, 0, 0, 0])  # the lowest knot
    np.testing.assert_allclose(splines[2], [0, 0, 0, 0, 1])  # the highest knot
    np.testing.assert_allclose(splines[4], splines[2])  # beyond the range: the edge's value
    np.testing.assert_allclose(splines[3], splines[1])  # missing: the median, 1
    assert z[:, 5].tolist() == [0, 0, 0, 1, 0]  # the missing flag
    # categories: code 0, 1, missing (its own column, as training had one), unseen code 7
    assert z[:, 6:].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1]]
    complete = SplineBasis(n_numeric=0, categories=[2]).fit(np.array([[0.0], [1.0]]))
    assert complete.transform(np.array([[1.0], [np.nan], [7.0]])).tolist() == [
        [0, 1],
        [0, 0],
        [0, 0],
    ]


def test_a_number_with_two_values_is_one_standardised_column():
    matrix = np.array([[0.0], [1.0], [1.0], [0.0]])
    basis = SplineBasis(n_numeric=1, knots=5).fit(matrix)
    assert basis.n_output_ == 1
    np.testing.assert_allclose(basis.transform(matrix)[:, 0], [-1, 1, 1, -1])


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=1000))
def test_spline_basis_reads_a_few_rows_as_it_reads_many(rows, seed):
    frame, _ = _rows(seed=3)
    matrix = _encoder(frame).transform(frame)
    basis = SplineBasis(3, [3], knots=5).fit(matrix)
    pick = np.random.default_rng(seed).choice(len(matrix), rows)
    np.testing.assert_array_equal(basis.transform(matrix[pick]), basis.transform(matrix)[pick])


def _linear(frame: pd.DataFrame, y: np.ndarray) -> LinearScorer:
    matrix = _encoder(frame).transform(frame)
    return LinearScorer(n_numeric=3, categories=[3], knots=5, c=1.0).fit(matrix, y)


def test_logistic_reasons_sum_with_the_intercept_to_the_logit():
    frame, y = _rows()
    encoder = _encoder(frame)
    scorer = _linear(frame, y)
    fresh, _ = _rows(n=200, seed=9)
    fresh.loc[:5, "contract"] = "weekly"  # unseen
    fresh.loc[5:9, "charges"] = np.nan
    matrix = encoder.transform(fresh)
    parts = scorer.contributions(matrix)
    assert parts.shape == (200, 4)
    np.testing.assert_allclose(
        scorer.expected_value_ + parts.sum(axis=1), scorer.raw_score(matrix), atol=1e-9
    )
    # centred at the training mean: each column's part averages 0 over the training rows
    np.testing.assert_allclose(scorer.contributions(encoder.transform(frame)).mean(0), 0, atol=1e-9)


def _tree(frame: pd.DataFrame, y: np.ndarray) -> TreeScorer:
    matrix = _encoder(frame).transform(frame)
    params = {"num_leaves": 4, "learning_rate": 0.1, "min_child_samples": 20, "num_threads": 1}
    return TreeScorer(params, num_boost_round=30, categorical=[3]).fit(matrix, y)


def _blend(frame: pd.DataFrame, y: np.ndarray) -> BlendScorer:
    parts = [_tree(frame, y), _linear(frame, y)]
    matrix = _encoder(frame).transform(frame)
    held = np.column_stack([part.raw_score(matrix) for part in parts])
    return BlendScorer(parts, weight_steps=10).fit(held, y)


def test_blend_reasons_sum_with_the_intercept_to_its_logit():
    frame, y = _rows()
    blend = _blend(frame, y)
    assert 0.0 <= blend.weights_.weights[0] <= 1.0 and blend.weights_.weights.sum() == 1.0
    matrix = _encoder(frame).transform(_rows(n=100, seed=5)[0])
    parts = blend.contributions(matrix)
    np.testing.assert_allclose(
        blend.expected_value_ + parts.sum(axis=1), blend.raw_score(matrix), atol=1e-9
    )
    # a faster equal of the booster's pred_contrib (serving's tables) gives the same parts
    calls = []

    def fast(booster, rows):
        calls.append(booster)
        return booster.predict(rows, pred_contrib=True)[:, :-1]

    np.testing.assert_allclose(blend.contributions(matrix, fast), parts)
    assert calls == [blend.parts[0].booster_]


def test_tree_reasons_sum_with_the_base_value_to_the_raw_score():
    frame, y = _rows()
    tree = _tree(frame, y)
    matrix = _encoder(frame).transform(frame)
    np.testing.assert_allclose(
        tree.expected_value_ + tree.contributions(matrix).sum(axis=1), tree.raw_score(matrix)
    )


@pytest.mark.parametrize("family", ["lightgbm", "logistic", "blend"])
def test_every_family_answers_through_one_churn_model(family):
    frame, y = _rows()
    encoder = _encoder(frame)
    scorer = {"lightgbm": _tree, "logistic": _linear, "blend": _blend}[family](frame, y)
    raw = scorer.raw_score(encoder.transform(frame))
    model = ChurnModel(encoder, scorer, PlattCalibrator().fit(raw, y), calibration_method="platt")
    assert model.family == family and model.feature_names_ == [
        "tenure",
        "charges",
        "senior",
        "contract",
    ]
    assert model.numeric == ("tenure", "charges", "senior") and model.categorical == ("contract",)
    probability = model.predict_churn(frame)
    assert ((probability > 0) & (probability < 1)).all()
    contributions = model.contributions(frame)
    # calibrated log-odds = slope x (expected value + reasons) + intercept, exactly
    calibrator = model.calibrator
    logit = calibrator.slope_ * (model.expected_value + contributions.sum(axis=1)) + (
        calibrator.intercept_
    )
    np.testing.assert_allclose(1 / (1 + np.exp(-logit)), probability, atol=1e-12)
    assert len(model.boosters) == (0 if family == "logistic" else 1)
    assert model.describe()["family"] == family

"""Pure training parts on small hand-checked inputs: metrics, split, encoder, calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from zerochurn.configs.settings import TrainingConfig
from zerochurn.model.calibration import IsotonicCalibrator, PlattCalibrator, choose_calibration
from zerochurn.model.encoding import FeatureEncoder
from zerochurn.model.metrics import (
    classification_metrics,
    expected_calibration_error,
    expected_roc_auc,
)
from zerochurn.model.periods import out_of_time_split


def test_ece_by_hand():
    # bin 0.1-0.2 holds p=0.1,0.1 with 1 churner: |0.5-0.1| * 2; bin 0.9-1.0 holds p=0.9,0.9
    # with 2 churners: |1.0-0.9| * 2; ECE = (0.8 + 0.2) / 4
    y = np.array([1, 0, 1, 1])
    p = np.array([0.1, 0.1, 0.9, 0.9])
    assert expected_calibration_error(y, p) == pytest.approx(0.25)


def test_targeting_metrics_by_hand():
    # 20 customers, 4 churners; the top decile (2 rows) holds churners 0 and 1.
    y = np.zeros(20, dtype=int)
    y[[0, 1, 5, 9]] = 1
    p = np.linspace(0.9, 0.05, 20)
    value = np.ones(20)
    value[0] = 6.0  # the churners lose 6 + 1 + 1 + 1 = 9; the top decile holds 7 of it
    metrics = classification_metrics(y, p, value=value)
    assert metrics["base_rate"] == pytest.approx(0.2)
    assert metrics["recall_at_10"] == pytest.approx(0.5)
    assert metrics["top_decile_lift"] == pytest.approx(1.0 / 0.2)
    assert metrics["value_captured_top10"] == pytest.approx(7 / 9)


def test_metrics_refuse_one_class():
    with pytest.raises(ValueError, match="both churners and non-churners"):
        classification_metrics(np.zeros(5), np.full(5, 0.1))


@given(st.lists(st.floats(0, 1), min_size=5, max_size=60), st.integers(0, 2**16))
@settings(max_examples=50, deadline=None)
def test_ece_is_between_zero_and_one(probabilities, seed):
    p = np.array(probabilities)
    y = np.random.default_rng(seed).integers(0, 2, size=len(p))
    assert 0.0 <= expected_calibration_error(y, p) <= 1.0


def _months(start: str, count: int) -> list[pd.Timestamp]:
    return list(pd.date_range(start, periods=count, freq="MS"))


def test_expected_roc_auc_by_hand():
    # Pairs (churner i, stayer j), weight p_i * (1 - p_j): concordant (2,1) 0.4, (3,1) 0.72,
    # (3,2) 0.45; discordant (1,2) 0.1, (1,3) 0.02, (2,3) 0.05: 1.57 / 1.74.
    score = np.array([1.0, 2.0, 3.0])
    p = np.array([0.2, 0.5, 0.9])
    assert expected_roc_auc(score, p) == pytest.approx(1.57 / 1.74)
    # Tied scores order nothing: every pair counts half.
    assert expected_roc_auc(np.zeros(3), p) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="can churn and rows that can stay"):
        expected_roc_auc(score, np.zeros(3))


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.integers(0, 1), min_size=2, max_size=40).filter(
        lambda y: 0 < sum(y) < len(y)
    ),
    data=st.data(),
)
def test_expected_roc_auc_of_known_labels_is_the_roc_auc(labels, data):
    # With probabilities of 0 and 1 the labels are certain: the expectation is the AUC itself.
    score = data.draw(st.lists(st.integers(0, 5), min_size=len(labels), max_size=len(labels)))
    y = np.array(labels)
    assert expected_roc_auc(np.array(score, float), y.astype(float)) == pytest.approx(
        roc_auc_score(y, score)
    )


def test_split_purges_overlapping_label_windows():
    dates = _months("2024-04-01", 21)  # 2024-04 .. 2025-12
    split = out_of_time_split(
        dates,
        data_end=pd.Timestamp("2026-01-01"),
        window_days=90,
        config=TrainingConfig(train_snapshots=3),
    )
    # test: latest date whose 90 days end by 2026-01-01 is 2025-10-01
    assert split.test == (pd.Timestamp("2025-10-01"),)
    # calibration: labels must end by 2025-10-01 -> 2025-07-01 (07-01 + 90 days = 09-29)
    assert split.calibration == (pd.Timestamp("2025-07-01"),)
    assert split.train == tuple(pd.Timestamp(d) for d in ("2025-02-01", "2025-03-01", "2025-04-01"))


def test_split_too_short_names_the_problem():
    with pytest.raises(ValueError, match="too short"):
        out_of_time_split(
            _months("2025-06-01", 4),
            data_end=pd.Timestamp("2025-10-01"),
            window_days=90,
            config=TrainingConfig(),
        )


def test_encoder_codes_categories_and_tolerates_missing_columns():
    train = pd.DataFrame({"x": [1.0, 2.0, None], "seg": ["b", "a", "b"]})
    encoder = FeatureEncoder(["x"], ["seg"]).fit(train)
    rows = pd.DataFrame({"seg": ["a", "zzz", None]})  # no x column, an unseen and a missing seg
    matrix = encoder.transform(rows)
    assert matrix.shape == (3, 2)
    assert np.isnan(matrix[:, 0]).all()
    assert matrix[0, 1] == 0.0 and np.isnan(matrix[1, 1]) and np.isnan(matrix[2, 1])
    assert list(encoder.get_feature_names_out()) == ["x", "seg"]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.floats(allow_nan=True, allow_infinity=False, width=32),
            st.integers(-5, 5),
            st.booleans(),
            st.sampled_from(["north", " south ", "", "west", None]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_encoder_reads_a_few_rows_as_it_reads_many(rows):
    # A service request (few rows) takes a faster path than batch scoring: same matrix.
    frame = pd.DataFrame(rows, columns=["amount", "count", "flag", "region"]).astype(
        {"region": "str"}
    )
    encoder = FeatureEncoder(numeric=["amount", "count", "flag"], categorical=["region"])
    encoder.fit(pd.DataFrame({"amount": [1.0], "count": [1], "flag": [True], "region": ["north"]}))
    many = pd.concat([frame] * 20, ignore_index=True)
    np.testing.assert_array_equal(encoder.transform(frame), encoder.transform(many)[: len(frame)])


def test_encoder_refuses_training_frame_without_features():
    with pytest.raises(ValueError, match=r"lacks columns \['seg'\]"):
        FeatureEncoder(["x"], ["seg"]).fit(pd.DataFrame({"x": [1.0]}))


def test_calibrators_are_monotone_and_bounded():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(2 * raw - 1)))).astype(int)
    grid = np.linspace(-4, 4, 50)
    for calibrator in (PlattCalibrator().fit(raw, y), IsotonicCalibrator().fit(raw, y)):
        p = calibrator.transform(grid)
        assert np.all(np.diff(p) >= 0) and p.min() >= 0 and p.max() <= 1
    platt = PlattCalibrator().fit(raw, y)
    assert platt.slope_ == pytest.approx(2, abs=0.2) and platt.intercept_ == pytest.approx(
        -1, abs=0.2
    )
    method, scores = choose_calibration(raw, y, folds=3, random_state=0)
    assert method in ("platt", "isotonic") and set(scores) == {"platt", "isotonic"}


def test_isotonic_calibrator_runs_through_step_centres_by_hand():
    raw = np.arange(6.0)
    y = np.array([0, 0, 1, 0, 1, 1])
    # steps 0, 0.5, 1 over scores {0, 1}, {2, 3}, {4, 5}: centres 0.5, 2.5, 4.5; the end
    # segments continue to 0 and 5 (levels -0.125 and 1.125, clipped)
    calibrator = IsotonicCalibrator().fit(raw, y)
    np.testing.assert_allclose(calibrator.x_, [0, 0.5, 2.5, 4.5, 5])
    np.testing.assert_allclose(calibrator.y_, [0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(calibrator.transform(np.array([1.5, 3.0, 9.0])), [0.25, 0.625, 1])


def test_isotonic_calibrator_keeps_the_order_of_distinct_scores():
    rng = np.random.default_rng(1)
    raw = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(2 * raw - 1)))).astype(int)
    p = IsotonicCalibrator().fit(raw, y).transform(np.linspace(-2, 2, 500))
    assert np.all(np.diff(p) > 0)

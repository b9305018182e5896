"""TreeShapTables gives LightGBM's own TreeSHAP contributions, for every kind of split."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from zerochurn.serving.explain import TreeShapTables

ROWS = 3000
ROUNDS = 25


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Numeric columns with NaN and exact zeros, and an integer-coded categorical column."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(ROWS, 5))
    x[:, 3] = rng.integers(0, 6, ROWS)  # categorical codes 0..5
    x[rng.random(ROWS) < 0.15, 0] = np.nan
    x[rng.random(ROWS) < 0.30, 1] = 0.0
    x[rng.random(ROWS) < 0.10, 3] = np.nan
    logit = x[:, 1] - np.nan_to_num(x[:, 0]) + (x[:, 3] % 2) + 0.5 * x[:, 2] * x[:, 4]
    y = (rng.random(ROWS) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def _booster(num_leaves: int, **params: object) -> lgb.Booster:
    x, y = _data()
    base = {"objective": "binary", "num_leaves": num_leaves, "verbosity": -1, "seed": 0}
    data = lgb.Dataset(x, y, categorical_feature=[3])
    return lgb.train({**base, "min_data_in_leaf": 20, **params}, data, num_boost_round=ROUNDS)


def _probe(seed: int) -> np.ndarray:
    """Rows the booster never saw, with NaN everywhere, zeros, unseen and negative categories."""
    x, _ = _data(seed)
    rng = np.random.default_rng(seed)
    x[rng.random(x.shape) < 0.1] = np.nan
    x[rng.random(x.shape) < 0.05] = 0.0
    x[:50, 3] = 9.0  # a category the model never saw
    x[50:60, 3] = -1.0
    return x


@pytest.mark.parametrize(
    ("num_leaves", "params"),
    [
        (4, {}),
        (8, {}),
        (6, {"zero_as_missing": True}),
        (4, {"use_missing": False}),
        (5, {"max_cat_to_onehot": 8}),
    ],
)
def test_contributions_equal_lightgbm_pred_contrib(num_leaves, params):
    booster = _booster(num_leaves, **params)
    tables = TreeShapTables.from_booster(booster)
    assert tables is not None
    x = _probe(seed=1)
    expected = booster.predict(x, pred_contrib=True)[:, :-1]
    np.testing.assert_allclose(tables.contributions(x), expected, rtol=0, atol=1e-12)


def test_best_iteration_is_used_like_predict():
    x, y = _data()
    train = lgb.Dataset(x[:2000], y[:2000], categorical_feature=[3])
    valid = lgb.Dataset(x[2000:], y[2000:], reference=train)
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 4, "verbosity": -1, "learning_rate": 0.5},
        train,
        num_boost_round=200,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(5, verbose=False)],
        keep_training_booster=True,  # keeps the rounds after the best one
    )
    assert 0 < booster.best_iteration < booster.current_iteration()
    tables = TreeShapTables.from_booster(booster)
    expected = booster.predict(x, pred_contrib=True)[:, :-1]
    np.testing.assert_allclose(tables.contributions(x), expected, rtol=0, atol=1e-12)


def test_large_trees_get_no_tables():
    booster = _booster(16)
    assert TreeShapTables.from_booster(booster, max_tree_splits=10) is None
    assert TreeShapTables.from_booster(booster, max_table_cells=10) is None


def test_shapes_are_checked_and_empty_input_works():
    tables = TreeShapTables.from_booster(_booster(4))
    assert tables.contributions(np.zeros((0, 5))).shape == (0, 5)
    with pytest.raises(ValueError, match=r"expected \(rows, 5\)"):
        tables.contributions(np.zeros((3, 4)))

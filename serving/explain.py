"""Exact TreeSHAP contributions of a LightGBM booster as table lookups, vectorised over rows.

LightGBM's `pred_contrib` walks every tree for every row (about 50-80 us a row for 300
four-leaf trees), too slow to explain a million customers in a minute. Path-dependent
TreeSHAP, which is what LightGBM computes, depends on a row only through the direction
it takes at each split of a tree (also the splits off its own path). A tree with K splits
therefore has at most 2^K contribution vectors; for small trees (the default model has
K = 3) they are tabulated once when the model loads, and explaining a row becomes K
comparisons and one lookup per tree: the same numbers as `pred_contrib` (to float
rounding), about 6 times faster on large batches (measured: 11 s against 64 s for a
million rows of the default model).

Each tree's table is the sum over its leaves of the Shapley values of a product game:
leaf l with value w_l and distinct path features P_l gives

    v_l(S) = w_l * prod_{j in P_l} (o_j if j in S else z_j)

where o_j is 1 when the row satisfies every split on feature j along the path (else 0)
and z_j is the product of child/parent data counts of those splits (LightGBM's cover).
Models whose trees have more than `MAX_TREE_SPLITS` splits, or whose tables would exceed
`MAX_TABLE_CELLS`, get no tables (`TreeShapTables.from_booster` returns None) and are
explained by `pred_contrib`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import factorial
from typing import Any

import lightgbm as lgb
import numpy as np
from scipy import sparse

MAX_TREE_SPLITS = 10
"""Most splits of a tree that gets a table (2^10 direction patterns)."""

MAX_TABLE_CELLS = 1 << 24
"""Most table entries (float64, 128 MiB) per model; bigger models use pred_contrib."""

CHUNK_CELLS = 1 << 20
"""Row chunks are sized so a (splits x rows) array has about this many cells."""

ZERO_THRESHOLD = 1e-35
"""LightGBM's kZeroThreshold: |x| at or below it counts as zero for missing_type Zero."""

CATEGORY_SEPARATOR = "||"
"""Separator of the left-going categories in a dumped categorical split's threshold."""

MISSING_ZERO, MISSING_NAN = "Zero", "NaN"
"""LightGBM missing types: zeros (and NaN) take the default direction / NaN does; "None": neither."""


@dataclass
class _Tree:
    """One dumped tree, flattened: its splits (local order) and its leaves' paths."""

    split_nodes: list[dict[str, Any]] = field(default_factory=list)
    leaf_values: list[float] = field(default_factory=list)
    # per leaf: (local split, goes left, feature, child count / parent count) along the path
    leaf_paths: list[list[tuple[int, bool, int, float]]] = field(default_factory=list)

    @classmethod
    def from_dump(cls, structure: dict[str, Any]) -> _Tree:
        """Flatten a `dump_model()["tree_info"][t]["tree_structure"]`."""
        tree = cls()

        def visit(node: dict[str, Any], path: list[tuple[int, bool, int, float]]) -> None:
            if "leaf_index" in node:
                tree.leaf_values.append(float(node["leaf_value"]))
                tree.leaf_paths.append(path)
                return
            local = len(tree.split_nodes)
            tree.split_nodes.append(node)
            count = float(node["internal_count"])
            for child, left in ((node["left_child"], True), (node["right_child"], False)):
                share = float(child.get("internal_count", child.get("leaf_count"))) / count
                visit(child, [*path, (local, left, int(node["split_feature"]), share)])

        visit(structure, [])
        return tree

    @property
    def features(self) -> list[int]:
        """Distinct split features, in order of first split."""
        return list(dict.fromkeys(int(node["split_feature"]) for node in self.split_nodes))

    def table(self) -> np.ndarray:
        """(2^K, d) contributions of the tree's d features for each direction pattern.

        Bit k of the pattern is 1 when the row goes left at local split k.
        """
        splits = len(self.split_nodes)
        features = self.features
        column = {feature: position for position, feature in enumerate(features)}
        patterns = (np.arange(1 << splits)[:, None] >> np.arange(splits)) & 1  # (2^K, K)
        table = np.zeros((1 << splits, len(features)))
        for value, path in zip(self.leaf_values, self.leaf_paths, strict=True):
            leaf_features = list(dict.fromkeys(feature for _, _, feature, _ in path))
            zero = np.ones(len(leaf_features))
            hot = np.ones((1 << splits, len(leaf_features)), dtype=bool)
            for local, left, feature, share in path:
                position = leaf_features.index(feature)
                zero[position] *= share
                hot[:, position] &= patterns[:, local] == int(left)
            shapley = _leaf_shapley(zero, value)  # (2^d, d)
            code = hot.astype(np.int64) @ (1 << np.arange(len(leaf_features)))
            for position, feature in enumerate(leaf_features):
                table[:, column[feature]] += shapley[code, position]
        return table


def _leaf_shapley(zero_fraction: np.ndarray, value: float) -> np.ndarray:
    """(2^d, d) Shapley values of one leaf's product game for every set of satisfied features.

    zero_fraction: (d,) z_j. Entry [h, i] is feature i's value when the satisfied
    features are the set bits of h: w (o_i - z_i) sum_s c_s s! (d - s - 1)! / d!, with c_s
    the coefficient of x^s in prod_{j != i} (o_j x + z_j).
    """
    d = len(zero_fraction)
    hot = ((np.arange(1 << d)[:, None] >> np.arange(d)) & 1).astype(np.float64)
    weights = np.array([factorial(s) * factorial(d - s - 1) / factorial(d) for s in range(d)])
    shapley = np.empty((1 << d, d))
    for i in range(d):
        poly = np.zeros((1 << d, d))
        poly[:, 0] = 1.0
        for j in range(d):
            if j != i:
                shifted = np.concatenate([np.zeros((1 << d, 1)), poly[:, :-1]], axis=1)
                poly = poly * zero_fraction[j] + shifted * hot[:, j : j + 1]
        shapley[:, i] = value * (hot[:, i] - zero_fraction[i]) * (poly @ weights)
    return shapley


class TreeShapTables:
    """Path-dependent TreeSHAP of a single-output LightGBM booster, as per-tree lookups.

    Build with `from_booster`; `contributions(matrix)` equals
    ``booster.predict(matrix, pred_contrib=True)[:, :-1]`` up to float rounding.
    """

    def __init__(self, trees: list[_Tree], n_features: int) -> None:
        self.n_features = n_features
        nodes = [node for tree in trees for node in tree.split_nodes]
        categorical = np.array([node["decision_type"] == "==" for node in nodes], dtype=bool)
        missing = np.array([node["missing_type"] for node in nodes], dtype=object)
        default_left = np.array([bool(node["default_left"]) for node in nodes], dtype=bool)
        threshold = np.array(
            [
                np.nan if cat else float(node["threshold"])
                for node, cat in zip(nodes, categorical, strict=True)
            ]
        )
        self._split_feature = np.array([int(node["split_feature"]) for node in nodes], np.intp)
        self._threshold = threshold[:, None]
        # A NaN is "missing" under missing_type NaN, else it reads as 0 (then missing under Zero)
        nan_as_zero_left = np.where(missing == MISSING_ZERO, default_left, threshold >= 0.0)
        self._nan_left = np.where(missing == MISSING_NAN, default_left, nan_as_zero_left)[:, None]
        self._zero_splits = np.flatnonzero((missing == MISSING_ZERO) & ~categorical)
        self._zero_default_left = default_left[self._zero_splits][:, None]
        self._categorical = np.flatnonzero(categorical)
        sets = [
            [int(c) for c in str(nodes[k]["threshold"]).split(CATEGORY_SEPARATOR)]
            for k in self._categorical
        ]
        width = 2 + max((max(s) for s in sets), default=0)  # last column: codes beyond all sets
        self._category_left = np.zeros((len(sets), width), dtype=bool)
        for row, members in enumerate(sets):
            self._category_left[row, members] = True

        # codes = bits @ go-left: one row per tree, weight 2^k at its local split k
        split_tree = np.repeat(np.arange(len(trees)), [len(t.split_nodes) for t in trees])
        local = np.concatenate([np.arange(len(t.split_nodes)) for t in trees] or [[]])
        self._bits = sparse.csr_matrix(
            (np.exp2(local), (split_tree, np.arange(len(nodes)))), shape=(len(trees), len(nodes))
        )
        # one "pair" per (tree, feature): the flat table index is offset + width * code
        tables = [tree.table() for tree in trees]
        offsets = np.cumsum([0, *(t.size for t in tables)])[:-1]
        pair_tree, pair_offset, pair_width, pair_feature = [], [], [], []
        for number, (tree, table, offset) in enumerate(zip(trees, tables, offsets, strict=True)):
            for position, feature in enumerate(tree.features):
                pair_tree.append(number)
                pair_offset.append(offset + position)
                pair_width.append(table.shape[1])
                pair_feature.append(feature)
        self._table = np.concatenate([t.ravel() for t in tables] or [np.zeros(0)])
        self._pair_tree = np.array(pair_tree, dtype=np.intp)
        self._pair_offset = np.array(pair_offset, dtype=np.int64)[:, None]
        self._pair_width = np.array(pair_width, dtype=np.int64)[:, None]
        self._sum_by_feature = sparse.csr_matrix(
            (np.ones(len(pair_feature)), (pair_feature, np.arange(len(pair_feature)))),
            shape=(n_features, len(pair_feature)),
        )
        self.table_cells = int(self._table.size)

    @classmethod
    def from_booster(
        cls,
        booster: lgb.Booster,
        *,
        max_tree_splits: int = MAX_TREE_SPLITS,
        max_table_cells: int = MAX_TABLE_CELLS,
    ) -> TreeShapTables | None:
        """Tables of the trees `predict` uses (best iteration), or None when too big.

        None also for models with several outputs per iteration (multiclass).
        """
        dump = booster.dump_model()
        if dump["num_tree_per_iteration"] != 1:
            return None
        trees = [_Tree.from_dump(info["tree_structure"]) for info in dump["tree_info"]]
        trees = [tree for tree in trees if tree.split_nodes]  # one-leaf trees shift all alike
        if any(len(tree.split_nodes) > max_tree_splits for tree in trees):
            return None
        cells = sum(len(tree.features) << len(tree.split_nodes) for tree in trees)
        if cells > max_table_cells:
            return None
        return cls(trees, n_features=booster.num_feature())

    def _go_left(self, columns: np.ndarray) -> np.ndarray:
        """(splits, rows) bool: whether each row goes left at each split, as LightGBM decides.

        columns: the (features, rows) transpose of a feature matrix.
        """
        values = columns[self._split_feature]
        nan = np.isnan(values)
        left = (values <= self._threshold) | (nan & self._nan_left)
        if len(self._zero_splits):
            zero = np.abs(values[self._zero_splits]) <= ZERO_THRESHOLD
            left[self._zero_splits] = np.where(
                zero, self._zero_default_left, left[self._zero_splits]
            )
        if len(self._categorical):
            codes = np.trunc(values[self._categorical])
            known = codes >= 0  # False for NaN too: NaN and negatives go right
            index = np.minimum(np.where(known, codes, 0), self._category_left.shape[1] - 1)
            rows = np.arange(len(self._categorical))[:, None]
            left[self._categorical] = known & self._category_left[rows, index.astype(np.intp)]
        return left

    def _chunk(self, matrix: np.ndarray) -> np.ndarray:
        """Contributions of one chunk of rows, computed on (splits or pairs, rows) arrays."""
        columns = np.ascontiguousarray(matrix.T)
        codes = (self._bits @ self._go_left(columns).astype(np.float64)).astype(np.int64)
        values = self._table[self._pair_offset + self._pair_width * codes[self._pair_tree]]
        return (self._sum_by_feature @ values).T

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """(rows, features) log-odds contribution of each feature of a (rows, features) matrix."""
        matrix = np.asarray(matrix, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != self.n_features:
            raise ValueError(f"matrix has shape {matrix.shape}: expected (rows, {self.n_features})")
        rows = max(1, CHUNK_CELLS // max(1, len(self._split_feature)))
        chunks = [
            self._chunk(matrix[start : start + rows]) for start in range(0, len(matrix), rows)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.n_features))

"""Money saved by contacting the riskiest customers, and the threshold that saves the most.

The decision model (docs/training.md, "Costs and the decision threshold"):

- customer i has a calibrated churn probability p_i, on labelled evaluation data a label
  y_i (1 = churned), a cost of a missed churner m_i (money lost when a churner is not
  contacted, e.g. the customer's value) and a cost of a retention offer c_i (paid for
  every contacted customer; "needless" when the customer would have stayed);
- an offer keeps a would-be churner with probability s (``offer_success_rate``; 1.0 when
  m already nets out how often offers work);
- contacting customer i therefore saves s * y_i * m_i - c_i on labelled data (realised)
  and s * p_i * m_i - c_i in expectation, both compared with contacting nobody, and
  contacting a set S saves the sum over S.

The policy is a threshold t: contact every customer with p_i >= t. Customers tied in
probability cannot be told apart, so a threshold contacts all of them or none: the
savings curve has one row per distinct probability, plus a first row for contacting
nobody (t = inf, 0 customers, 0 savings). The best threshold maximises realised savings;
when no threshold saves more than 0 the choice is explicitly "contact nobody".

Every function is pure: arrays and frames in, arrays, frames and dataclasses out
(training/plots.py draws the savings curve).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from zerochurn.configs.settings import CostConfig
from zerochurn.contract.cells import TableValueError, to_numbers

CONTACT_NOBODY = math.inf
"""Threshold of contacting nobody: no probability reaches it."""

CURVE_COLUMNS = ("threshold", "customers", "share", "realised_savings", "expected_savings")
"""Columns of a savings curve, in order."""

_SHOWN = 5
"""Bad rows or positions named in an error message at most."""


@dataclass(frozen=True)
class ThresholdChoice:
    """A decision threshold and what acting on it saves.

    threshold : contact customers with churn probability >= threshold; ``inf`` = nobody
    customers, share : how many customers that contacts, and their share of all
    realised_savings, expected_savings : money saved compared with contacting nobody
    """

    threshold: float
    customers: int
    share: float
    realised_savings: float
    expected_savings: float

    @property
    def contacts_nobody(self) -> bool:
        """True when no threshold saves money, so the advice is to contact nobody."""
        return self.customers == 0

    def describe(self) -> str:
        """One sentence for logs and model cards."""
        if self.contacts_nobody:
            return "contact nobody: no threshold saves money on this data"
        return (
            f"contact customers with churn probability >= {self.threshold:.4g} "
            f"({self.customers:,} customers, {self.share:.1%}): saves "
            f"{self.realised_savings:,.0f} (expected {self.expected_savings:,.0f})"
        )


def _positions(mask: np.ndarray) -> str:
    """'3, 7, 9' or '3, 7, 9, 10, 12 and 4 more' for the True positions of a mask."""
    where = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in where[:_SHOWN])
    return shown + (f" and {len(where) - _SHOWN} more" if len(where) > _SHOWN else "")


def _vector(name: str, values: object) -> np.ndarray:
    """A 1-D float64 copy of `values`, or a ValueError naming the argument."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers: {exc}") from exc
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _probability(probability: object) -> np.ndarray:
    p = _vector("probability", probability)
    if len(p) == 0:
        raise ValueError("probability is empty: expected at least one customer")
    bad = ~((p >= 0) & (p <= 1))  # NaN fails both comparisons
    if bad.any():
        raise ValueError(
            f"probability has values outside [0, 1] or NaN at positions {_positions(bad)}"
        )
    return p


def _labels(label: object, n: int) -> np.ndarray:
    y = _vector("label", label)
    if len(y) != n:
        raise ValueError(f"label has {len(y)} values, probability {n}: expected one per customer")
    bad = (y != 0) & (y != 1)
    if bad.any():
        raise ValueError(f"label has values other than 0 and 1 at positions {_positions(bad)}")
    return y


def _cost(name: str, cost: object, n: int) -> np.ndarray:
    """(n,) costs from a scalar or an (n,) array, all finite and >= 0."""
    array = _vector(name, np.full(n, cost) if np.ndim(cost) == 0 else cost)
    if len(array) != n:
        raise ValueError(f"{name} has {len(array)} values, probability {n}: expected one each")
    bad = ~((array >= 0) & np.isfinite(array))
    if bad.any():
        raise ValueError(
            f"{name} has negative, infinite or NaN values at positions "
            f"{_positions(bad)}: expected money >= 0"
        )
    return array


def _success_rate(success_rate: float) -> float:
    if not 0 < success_rate <= 1:
        raise ValueError(f"success_rate must lie in (0, 1], got {success_rate}")
    return float(success_rate)


def expected_savings(
    probability: np.ndarray,
    missed_cost: float | np.ndarray,
    offer_cost: float | np.ndarray,
    success_rate: float = 1.0,
) -> np.ndarray:
    """Expected money saved by contacting each customer: s * p * m - c.

    Parameters
    ----------
    probability : (n,) calibrated churn probabilities in [0, 1]
    missed_cost : money lost per missed churner, a scalar or (n,) per customer, >= 0
    offer_cost : money per retention offer, a scalar or (n,) per customer, >= 0
    success_rate : chance s in (0, 1] that an offer keeps a would-be churner

    Returns
    -------
    (n,) float64 money; contacting a customer pays off in expectation where it is > 0.
    """
    p = _probability(probability)
    m = _cost("missed_cost", missed_cost, len(p))
    c = _cost("offer_cost", offer_cost, len(p))
    return _success_rate(success_rate) * p * m - c


def scoring_savings(probability: np.ndarray, frame: pd.DataFrame, config: CostConfig) -> np.ndarray:
    """(n,) expected savings s * p * m - c of contacting each scored row, NaN where unknown.

    Unlike training, scoring never fails on a cost: a cost column that is absent, blank,
    not a number or negative in a row gives that row NaN.
    """

    def cost(value: float | str | None) -> np.ndarray:
        if not isinstance(value, str):
            return np.full(len(frame), float(value or 0.0))
        if value not in frame:
            return np.full(len(frame), np.nan)
        try:  # read as a flat table's numbers are read: text, blanks, "$1,889.50"
            numbers = to_numbers(frame[value], value)
        except TableValueError:  # a word in some row: that row's savings are unknown
            numbers = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=np.float64)
        return np.where(numbers >= 0, numbers, np.nan)

    missed, offer = cost(config.missed_churner), cost(config.retention_offer)
    return config.offer_success_rate * np.asarray(probability, dtype=np.float64) * missed - offer


def savings_curve(
    probability: np.ndarray,
    label: np.ndarray | None,
    missed_cost: float | np.ndarray,
    offer_cost: float | np.ndarray,
    success_rate: float = 1.0,
) -> pd.DataFrame:
    """Savings of contacting everyone at or above each distinct churn probability.

    Parameters
    ----------
    probability : (n,) calibrated churn probabilities in [0, 1]
    label : (n,) 0/1 labels (1 = churned), or None on unlabelled data (realised savings
        are then NaN past the first row)
    missed_cost : money lost per missed churner, a scalar or (n,) per customer, >= 0
    offer_cost : money per retention offer, a scalar or (n,) per customer, >= 0
    success_rate : chance s in (0, 1] that an offer keeps a would-be churner

    Returns
    -------
    DataFrame with one row per policy, thresholds descending: first contact nobody
    (threshold inf), then one row per distinct probability t, acting on every customer
    with probability >= t (tied customers together). Columns: threshold, customers
    (how many are contacted), share (customers / n), realised_savings (sum of
    s * y * m - c over them, money) and expected_savings (sum of s * p * m - c, money).
    """
    p = _probability(probability)
    n = len(p)
    m = _cost("missed_cost", missed_cost, n)
    c = _cost("offer_cost", offer_cost, n)
    s = _success_rate(success_rate)
    order = np.argsort(-p, kind="stable")
    ordered = p[order]
    expected = np.cumsum((s * p * m - c)[order])
    if label is None:
        realised = np.full(n, np.nan)
    else:
        realised = np.cumsum((s * _labels(label, n) * m - c)[order])
    last_of_tie = np.flatnonzero(np.r_[ordered[1:] != ordered[:-1], True])
    customers = np.r_[0, last_of_tie + 1]
    return pd.DataFrame(
        {
            "threshold": np.r_[CONTACT_NOBODY, ordered[last_of_tie]],
            "customers": customers,
            "share": customers / n,
            "realised_savings": np.r_[0.0, realised[last_of_tie]],
            "expected_savings": np.r_[0.0, expected[last_of_tie]],
        }
    )


def check_curve(curve: pd.DataFrame) -> None:
    missing = [column for column in CURVE_COLUMNS if column not in curve]
    if missing:
        raise ValueError(f"curve lacks columns {missing}: expected the frame of savings_curve")
    if len(curve) < 2 or curve["customers"].iloc[0] != 0:
        raise ValueError("curve must start with the contact-nobody row, as savings_curve gives")


def best_threshold(
    curve: pd.DataFrame, by: Literal["realised", "expected"] = "realised"
) -> ThresholdChoice:
    """The threshold of `curve` (from savings_curve) that saves the most money.

    Maximises realised savings (labelled data) or, with ``by="expected"``, expected
    savings (unlabelled data). Among equal savings the highest threshold wins, so when
    no threshold saves more than 0 the choice is to contact nobody: threshold inf,
    0 customers, 0 savings (``ThresholdChoice.contacts_nobody``).
    """
    check_curve(curve)
    if by not in ("realised", "expected"):
        raise ValueError(f"by must be 'realised' or 'expected', got {by!r}")
    savings = curve[f"{by}_savings"].to_numpy(dtype=np.float64)
    if np.isnan(savings).any():
        raise ValueError(
            f"curve has no {by} savings (NaN): it was built without labels; "
            "use by='expected' on unlabelled data"
        )
    row = curve.iloc[int(np.argmax(savings))]  # the first maximum: the highest threshold
    return ThresholdChoice(
        threshold=float(row["threshold"]),
        customers=int(row["customers"]),
        share=float(row["share"]),
        realised_savings=float(row["realised_savings"]),
        expected_savings=float(row["expected_savings"]),
    )


def at_threshold(curve: pd.DataFrame, threshold: float) -> ThresholdChoice:
    """What contacting every customer with probability >= `threshold` saves on `curve`.

    Used to carry a threshold chosen on one period to another: the row of the smallest
    curve threshold at or above it (contact nobody when no probability reaches it).
    """
    check_curve(curve)
    reached = np.flatnonzero(curve["threshold"].to_numpy(dtype=np.float64) >= threshold)
    row = curve.iloc[int(reached[-1])]  # thresholds descend; the first row (inf) always counts
    return ThresholdChoice(
        threshold=float(threshold),
        customers=int(row["customers"]),
        share=float(row["share"]),
        realised_savings=float(row["realised_savings"]),
        expected_savings=float(row["expected_savings"]),
    )


def savings_at_top_k(
    curve: pd.DataFrame, ks: Sequence[int] = (), shares: Sequence[float] = ()
) -> pd.DataFrame:
    """Savings of contacting the top K customers by risk, for each K and each share.

    A share q means K = max(1, round(q * n)) customers, as in metrics.top_share_mask;
    K above n is capped at n. When the K-th customer is tied with others, the top K take
    the tie group's savings in proportion (linear between the curve's rows): what a
    random choice among the tied customers saves on average.

    Parameters
    ----------
    curve : the frame of savings_curve
    ks : numbers of customers > 0
    shares : shares of customers in (0, 1]

    Returns
    -------
    DataFrame, one row per K then per share: name ("top_100", "top_share_0.05"),
    customers (K), share (K / n), threshold (probability of the K-th customer),
    threshold_customers (how many a threshold there contacts, ties included),
    realised_savings and expected_savings (money).
    """
    check_curve(curve)
    n = int(curve["customers"].iloc[-1])
    wanted: list[tuple[str, int]] = []
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k <= 0:
            raise ValueError(f"ks must be whole numbers > 0, got {k!r}")
        wanted.append((f"top_{k}", min(int(k), n)))
    for share in shares:
        if not 0 < share <= 1:
            raise ValueError(f"shares must lie in (0, 1], got {share!r}")
        wanted.append((f"top_share_{share:g}", max(1, int(round(share * n)))))
    counts = curve["customers"].to_numpy(dtype=np.float64)
    rows = []
    for name, k in wanted:
        at = int(np.searchsorted(counts, k))  # first row contacting at least k customers
        rows.append(
            {
                "name": name,
                "customers": k,
                "share": k / n,
                "threshold": float(curve["threshold"].iloc[at]),
                "threshold_customers": int(counts[at]),
                "realised_savings": float(np.interp(k, counts, curve["realised_savings"])),
                "expected_savings": float(np.interp(k, counts, curve["expected_savings"])),
            }
        )
    columns = ["name", "customers", "share", "threshold", "threshold_customers"]
    return pd.DataFrame(rows, columns=[*columns, "realised_savings", "expected_savings"])


def _plain(value: object) -> object:
    """A NumPy scalar as the Python number it holds, so messages read -1.0, not np.float64."""
    return value.item() if isinstance(value, np.generic) else value


def _column_costs(frame: pd.DataFrame, setting: str, column: str) -> np.ndarray:
    """(n,) money from `frame[column]`: numbers or numbers as text, all present and >= 0."""
    if column not in frame:
        shown = ", ".join(map(str, list(frame.columns)[:20]))
        more = " ..." if len(frame.columns) > 20 else ""
        raise ValueError(
            f"costs.{setting} names column {column!r}, which the table does not have "
            f"(columns: {shown}{more})"
        )
    raw = frame[column]
    if raw.dtype.kind == "b":
        raise ValueError(f"costs.{setting}: column {column!r} is true/false: expected money")
    text = raw.astype(object).map(lambda v: (v.strip() or None) if isinstance(v, str) else v)
    missing = text.isna().to_numpy()
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)

    def fail(mask: np.ndarray, problem: str) -> None:
        labels = frame.index[mask]
        shown = ", ".join(
            f"{label} ({_plain(raw.iloc[i])!r})"
            for label, i in zip(labels[:_SHOWN], np.flatnonzero(mask)[:_SHOWN], strict=True)
        )
        more = f" and {len(labels) - _SHOWN} more" if len(labels) > _SHOWN else ""
        raise ValueError(
            f"costs.{setting}: column {column!r} has {problem} in rows {shown}{more}: "
            "expected money >= 0 for every customer"
        )

    if missing.any():
        fail(missing, "missing values")
    if np.isnan(numbers).any():
        fail(np.isnan(numbers), "non-numeric values")
    if not np.isfinite(numbers).all():
        fail(~np.isfinite(numbers), "infinite values")
    if (numbers < 0).any():
        fail(numbers < 0, "negative values")
    return numbers


def resolve_costs(frame: pd.DataFrame, config: CostConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-customer (missed_cost, offer_cost) of the rows of `frame`, or None if not configured.

    Each of ``config.missed_churner`` and ``config.retention_offer`` is a constant
    (money, repeated for every row) or the name of a column of `frame` (numbers, or
    numbers stored as text). Returns two (n,) float64 arrays in the row order of
    `frame`; raises ValueError naming the setting, the column and the first bad rows
    (by index label) for a missing column, blanks, text, infinite or negative amounts.
    """
    if config.missed_churner is None and config.retention_offer is None:
        return None
    resolved = []
    for setting in ("missed_churner", "retention_offer"):
        value = getattr(config, setting)
        if value is None:
            raise ValueError("costs.missed_churner and costs.retention_offer go together")
        if isinstance(value, str):
            resolved.append(_column_costs(frame, setting, value))
        else:
            resolved.append(np.full(len(frame), float(value)))
    return resolved[0], resolved[1]


@dataclass(frozen=True)
class DecisionReport:
    """The threshold chosen on the calibration period and what it saves out of sample.

    chosen : the best threshold on the calibration period (realised savings there)
    test : the same threshold applied to the test period
    test_curve : the test period's savings curve; top_k : its savings at configured K
    """

    chosen: ThresholdChoice
    test: ThresholdChoice
    test_curve: pd.DataFrame
    top_k: pd.DataFrame


def decision_report(
    calibration: tuple[pd.DataFrame, np.ndarray, np.ndarray],
    test: tuple[pd.DataFrame, np.ndarray, np.ndarray],
    config: CostConfig,
) -> DecisionReport | None:
    """Pick the threshold on calibration rows, report it on test rows; None without costs.

    Each period is (rows with any cost columns, (n,) probabilities, (n,) 0/1 labels).
    Choosing on a period the test never sees keeps the reported savings honest: the
    threshold that did best on the test rows themselves would flatter itself.
    """
    if not config.configured:
        return None
    rate = config.offer_success_rate

    def curve(rows: pd.DataFrame, probability: np.ndarray, label: np.ndarray) -> pd.DataFrame:
        missed, offer = resolve_costs(rows, config)
        return savings_curve(probability, label, missed, offer, rate)

    chosen = best_threshold(curve(*calibration))
    test_curve = curve(*test)
    return DecisionReport(
        chosen=chosen,
        test=at_threshold(test_curve, chosen.threshold),
        test_curve=test_curve,
        top_k=savings_at_top_k(test_curve, config.top_k, config.top_shares),
    )

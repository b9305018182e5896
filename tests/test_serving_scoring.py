"""The score definition on tiny hand-checked data: index, tiers, value at risk, reasons."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pytest

from zerochurn.configs.settings import CostConfig, ServingConfig, ValueFunctionConfig
from zerochurn.features.periods import DAYS_PER_MONTH
from zerochurn.model.card import ModelCard
from zerochurn.model.value import churn_index, risk_adjusted_value, risk_tier, value_at_risk
from zerochurn.serving.batch import segment_table
from zerochurn.serving.scoring import SURVIVAL_COLUMNS, score_features, segment_churn_index

CUTOFFS = {"high": 150, "medium": 100, "critical": 250}  # deliberately not in order
# undiscounted, two months at most: CLV = m (1 + r)
TWO_MONTHS = ValueFunctionConfig(annual_discount_rate=0.0, max_months=2, min_monthly_retention=0.1)


def test_churn_index_is_100_at_the_reference_rate():
    index = churn_index([0.05, 0.10, 0.025, 0.0, 0.0525], reference_churn_rate=0.05)
    np.testing.assert_array_equal(index, [100, 200, 50, 0, 105])
    assert index.dtype == np.int64


def test_churn_index_rounds_half_to_even():
    np.testing.assert_array_equal(churn_index([0.125, 0.375], 1.0), [12, 38])


@pytest.mark.parametrize("rate", [0.0, -0.1, float("nan")])
def test_churn_index_needs_a_positive_reference_rate(rate):
    with pytest.raises(ValueError, match="reference_churn_rate .* expected > 0"):
        churn_index([0.1], rate)


def test_risk_tier_starts_at_each_cutoff():
    index = [0, 99, 100, 149, 150, 249, 250, 1000]
    expected = ["low", "low", "medium", "medium", "high", "high", "critical", "critical"]
    assert risk_tier(index, CUTOFFS).tolist() == expected


def test_tier_cutoffs_are_validated():
    with pytest.raises(ValueError, match="must not name 'low'"):
        ServingConfig(tier_cutoffs={"low": 10})
    with pytest.raises(ValueError, match="distinct and > 0"):
        ServingConfig(tier_cutoffs={"a": 100, "b": 100})


def test_value_uses_the_customers_own_retention():
    # churn 0.5 over one month -> r = 0.5 -> CLV = 100 (1 + 0.5); churn 0 -> r clipped to 0.995
    value = risk_adjusted_value(
        [0.5, 0.0, 0.5], [100.0, 100.0, np.nan], horizon_days=DAYS_PER_MONTH, config=TWO_MONTHS
    )
    np.testing.assert_allclose(value[:2], [150.0, 199.5])
    assert np.isnan(value[2])
    np.testing.assert_allclose(value_at_risk([0.5, 0.0], value[:2]), [75.0, 0.0])


def test_value_over_a_three_month_horizon():
    # 1 - 0.271 = 0.729 = 0.9^3: monthly retention 0.9 when the horizon is three months
    value = risk_adjusted_value([0.271], [10.0], horizon_days=3 * DAYS_PER_MONTH, config=TWO_MONTHS)
    np.testing.assert_allclose(value, [19.0])


@dataclass
class _StubModel:
    """Scores fixed rows: probability and contributions given, features as the matrix."""

    probabilities: np.ndarray
    contribution_matrix: np.ndarray
    feature_names: list[str]
    card: ModelCard
    version: str = "7"
    curve: np.ndarray | None = None

    @property
    def feature_kinds(self) -> list[str]:
        categorical = {"region", "Contract"}
        return ["categorical" if n in categorical else "numeric" for n in self.feature_names]

    def encode(self, features: pd.DataFrame) -> np.ndarray:
        return np.zeros((len(features), len(self.feature_names)))

    def probability(self, matrix: np.ndarray) -> np.ndarray:
        return self.probabilities

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        return self.contribution_matrix

    def survival_curve(
        self, features: pd.DataFrame, matrix: np.ndarray, probability: np.ndarray
    ) -> np.ndarray | None:
        return self.curve


def _card(rate: float = 0.1) -> ModelCard:
    return ModelCard(
        horizon_days=round(DAYS_PER_MONTH),
        reference_churn_rate=rate,
        churn_definition="cancellation",
        trained_at="2025-01-01T00:00:00+00:00",
        train_as_of=(),
        test_as_of=(),
    )


def test_score_features_puts_the_definitions_together():
    features = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "region": ["north", "south"],
            "segment": ["clinic", "hospital"],
            "monthly_margin": [100.0, 200.0],
            "complaints_open": [3, 0],
        }
    )
    model = _StubModel(
        probabilities=np.array([0.3, 0.05]),
        contribution_matrix=np.array([[0.4, 0.1, -0.3], [-0.1, -0.2, 0.05]]),
        feature_names=["complaints_open", "region", "monthly_margin"],
        card=_card(0.1),
    )
    config = ServingConfig(top_reasons=2, tier_cutoffs=CUTOFFS)
    scores = score_features(features, model, config, TWO_MONTHS, scored_at="T")
    assert scores["churn_index"].tolist() == [300, 50]
    assert scores["risk_tier"].tolist() == ["critical", "low"]
    # horizon of round(30.44) = 30 days: r = (1 - p)^(30.4375 / 30)
    retention = (1 - np.array([0.3, 0.05])) ** (DAYS_PER_MONTH / 30)
    np.testing.assert_allclose(scores["customer_value"], [100, 200] * (1 + retention))
    np.testing.assert_allclose(scores["value_at_risk"], [0.3, 0.05] * scores["customer_value"])
    assert scores["reason_1_feature"].tolist() == ["complaints_open", "monthly_margin"]
    assert scores["reason_1_driver"].tolist() == ["complaints", "value"]
    assert scores["reason_1_text"].tolist() == [
        "Recent complaints weigh on this customer: 3 still open",
        "Margin 200 per month",
    ]
    assert scores["reason_2_feature"].iloc[0] == "region"
    assert pd.isna(scores["reason_2_feature"].iloc[1])  # only one positive contribution
    assert scores["reasons"].tolist() == [
        "Recent complaints weigh on this customer: 3 still open; Region north",
        "Margin 200 per month",
    ]
    assert scores["model_version"].tolist() == ["7", "7"]
    assert list(scores.columns[:4]) == ["customer_id", "region", "segment", "churn_probability"]
    # without a time-to-churn model the survival columns are there, and empty
    assert scores[list(SURVIVAL_COLUMNS)].isna().all().all()


def test_survival_columns_read_the_curve():
    """Curves S(t) = r^t: survival at 3, 6, 12 months, lifetime, CLV and CLV at risk by hand."""
    features = pd.DataFrame({"customer_id": ["a", "b"], "monthly_margin": [100.0, np.nan]})
    r = np.array([0.9, 0.99])
    months = np.arange(1, 25)
    model = _StubModel(
        probabilities=np.array([0.2, 0.01]),
        contribution_matrix=np.zeros((2, 1)),
        feature_names=["monthly_margin"],
        card=_card(0.1),  # horizon 30 days: 0.986 months
        curve=r[:, None] ** months[None, :],
    )
    no_discount = ValueFunctionConfig(annual_discount_rate=0.0, max_months=12)
    scores = score_features(features, model, ServingConfig(), no_discount, scored_at="T")
    for t in (3, 6, 12):
        np.testing.assert_allclose(scores[f"survival_{t}m"], r**t)
    lifetime = (1 - r**12) / (1 - r)  # sum_{t=0}^{11} r^t
    np.testing.assert_allclose(scores["expected_lifetime_months"], lifetime)
    assert scores["clv"].iloc[0] == pytest.approx(100 * lifetime[0])
    assert np.isnan(scores["clv"].iloc[1])  # margin unknown
    # kept through 0.986 months: month 1 onwards r^t / r^0.986, so the gain is
    # 100 * sum_{t=1}^{11} r^t (r^-0.986 - 1)
    h = 30 / DAYS_PER_MONTH
    gain = 100 * sum(0.9**t for t in range(1, 12)) * (0.9**-h - 1)
    assert scores["clv_at_risk"].iloc[0] == pytest.approx(gain)


def test_a_table_model_reads_its_margin_column_and_decides_with_costs():
    """A flat-table card names the margin column; with costs, contact and expected savings."""
    features = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "MonthlyCharges": ["100", " 200 ", ""],  # as a CSV extract holds them
            "Contract": ["Month-to-month", "Two year", "One year"],
            "ltv": [1000.0, 500.0, np.nan],
        }
    )
    card = replace(
        _card(0.1),
        data_kind="table",
        margin_column="MonthlyCharges",
        decision_threshold=0.2,
        costs=CostConfig(missed_churner="ltv", retention_offer=40, offer_success_rate=0.5),
    )
    model = _StubModel(
        probabilities=np.array([0.3, 0.05, 0.5]),
        contribution_matrix=np.array([[0.4, 0.1], [-0.1, 0.2], [0.3, -0.2]]),
        feature_names=["Contract", "MonthlyCharges"],
        card=card,
    )
    scores = score_features(
        features, model, ServingConfig(top_reasons=2), TWO_MONTHS, scored_at="T"
    )
    retention = (1 - np.array([0.3, 0.05])) ** (DAYS_PER_MONTH / 30)
    np.testing.assert_allclose(scores["customer_value"][:2], [100, 200] * (1 + retention))
    assert pd.isna(scores["customer_value"][2])  # no margin known
    assert scores["contact"].tolist() == [True, False, True]
    # s * p * m - c = 0.5 * 0.3 * 1000 - 40 = 110; 0.5 * 0.05 * 500 - 40 = -27.5; m unknown
    np.testing.assert_allclose(scores["expected_savings"], [110.0, -27.5, np.nan])
    assert scores["reason_1_text"].tolist() == [
        "Contract: Month-to-month",
        "MonthlyCharges: 200",
        "Contract: One year",
    ]


def test_segment_churn_index_plain_and_value_weighted():
    scores = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "region": ["x", "x", "x", "y", "y"],
            "churn_probability": [0.1, 0.3, 0.2, 0.05, 0.15],
            "customer_value": [300.0, 100.0, -50.0, 0.0, np.nan],
        }
    ).assign(value_at_risk=lambda f: f["churn_probability"] * f["customer_value"])
    table = segment_churn_index(scores, "region", reference_churn_rate=0.1)
    x, y = table.to_dict("records")
    assert (x["group"], x["customers"]) == ("x", 3)
    assert x["mean_churn_probability"] == pytest.approx(0.2)
    assert x["churn_index"] == 200
    # weights 300, 100, 0 (negative value): (0.1*300 + 0.3*100) / 400 = 0.15 -> 150
    assert x["value_weighted_churn_index"] == 150
    assert x["customer_value"] == pytest.approx(350.0)
    assert x["value_at_risk"] == pytest.approx(30 + 30 - 10)
    assert y["churn_index"] == 100
    assert pd.isna(y["value_weighted_churn_index"])  # nobody with value


def test_segment_table_stacks_every_profile_column():
    scores = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "region": ["x", "y"],
            "segment": ["s", "s"],
            "churn_probability": [0.1, 0.3],
            "customer_value": [1.0, 1.0],
            "value_at_risk": [0.1, 0.3],
        }
    )
    table = segment_table(scores, reference_churn_rate=0.2)
    assert table[["by", "group", "customers", "churn_index"]].values.tolist() == [
        ["region", "x", 1, 50],
        ["region", "y", 1, 150],
        ["segment", "s", 2, 100],
    ]

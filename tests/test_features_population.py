"""Who is active at T, and the churn labels of both definitions."""

from __future__ import annotations

import pandas as pd
import pytest

from zerochurn.configs.settings import ChurnConfig, FeatureConfig
from zerochurn.contract.dataset import RawData
from zerochurn.features import build_features, build_labels, label_window_days
from zerochurn.features.build import monthly_as_of_dates

AS_OF = pd.Timestamp("2024-07-01")  # T - 90 days = 2024-04-02, T + 90 days = 2024-09-29
CANCELLATION = ChurnConfig(definition="cancellation", horizon_days=90)
INACTIVITY = ChurnConfig(definition="inactivity", inactivity_days=90, horizon_days=90)

# customer: (signup_date, cancel_date, transaction dates)
CUSTOMERS = {
    "a": ("2024-01-01", None, ["2024-06-01", "2024-09-28"]),
    "cancelled": ("2024-01-01", "2024-06-30", []),  # left before T
    "new": ("2024-07-01", None, []),  # signs up at T: not a customer yet
    "leaves_at_t": ("2024-01-01", "2024-07-01", ["2024-06-01"]),
    "lapsed": ("2023-01-01", "2024-09-28", ["2024-03-01"]),  # silent over 90 days at T
    "fresh": ("2024-05-01", None, []),  # no transaction, but signed up within 90 days
    "edge": ("2023-01-01", None, ["2024-04-02"]),  # exactly 90 days before T
    "h": ("2023-01-01", "2024-09-29", ["2024-06-15", "2024-09-29"]),  # just after the window
    "final_bill": ("2023-01-01", "2024-08-01", ["2024-06-15", "2024-08-01"]),
    "returns": ("2023-01-01", None, ["2024-06-15", "2024-08-20"]),
}


def _raw(data_end: str = "2024-12-31") -> RawData:
    customers = pd.DataFrame(
        {
            "customer_id": list(CUSTOMERS),
            "signup_date": pd.to_datetime([signup for signup, _, _ in CUSTOMERS.values()]),
            "region": "north",
            "segment": "smb",
            "cancel_date": pd.to_datetime([cancel for _, cancel, _ in CUSTOMERS.values()]),
        }
    )
    rows = [(c, date) for c, (_, _, dates) in CUSTOMERS.items() for date in dates]
    rows.append(("edge", data_end))  # sets RawData.end to the day after data_end
    transactions = pd.DataFrame(rows, columns=["customer_id", "date"]).assign(
        date=lambda frame: pd.to_datetime(frame["date"]), amount=10.0
    )
    return RawData(customers, transactions[transactions["date"] <= data_end])


def _labels(churn: ChurnConfig) -> dict[str, bool]:
    return build_labels(_raw(), AS_OF, churn).set_index("customer_id")["churned"].to_dict()


def test_active_customers_under_cancellation() -> None:
    assert list(_labels(CANCELLATION)) == [
        "a",
        "leaves_at_t",
        "lapsed",
        "fresh",
        "edge",
        "h",
        "final_bill",
        "returns",
    ]


def test_inactivity_also_drops_lapsed_customers() -> None:
    assert "lapsed" not in _labels(INACTIVITY)
    assert len(_labels(INACTIVITY)) == len(_labels(CANCELLATION)) - 1


def test_features_and_labels_have_the_same_rows() -> None:
    for churn in (CANCELLATION, INACTIVITY):
        features = build_features(_raw(), AS_OF, FeatureConfig(), churn)
        labels = build_labels(_raw(), AS_OF, churn)
        pd.testing.assert_frame_equal(features[["customer_id", "as_of"]], labels.iloc[:, :2])


def test_cancellation_labels() -> None:
    # cancel_date in [T, T + 90 days): 2024-07-01, 2024-08-01, 2024-09-28 yes, 2024-09-29 no
    assert _labels(CANCELLATION) == {
        "a": False,
        "leaves_at_t": True,
        "lapsed": True,
        "fresh": False,
        "edge": False,
        "h": False,
        "final_bill": True,
        "returns": False,
    }


def test_inactivity_labels() -> None:
    # no longer active at T + 90 days: cancelled, or no transaction in [T, T + 90 days)
    assert _labels(INACTIVITY) == {
        "a": False,
        "leaves_at_t": True,
        "fresh": True,
        "edge": True,
        "h": True,  # its transaction on 2024-09-29 comes one day too late
        "final_bill": True,  # billed after T, but cancelled within the horizon
        "returns": False,
    }


def test_inactivity_label_looks_at_the_end_of_the_horizon() -> None:
    """With a shorter inactivity period, a customer silent at the horizon's end has left."""
    churn = ChurnConfig(definition="inactivity", inactivity_days=30, horizon_days=90)
    labels = build_labels(_raw(), AS_OF, churn).set_index("customer_id")["churned"]
    assert bool(labels["returns"])  # last transaction 2024-08-20, over 30 days before 09-29
    assert not bool(labels["a"])


@pytest.mark.parametrize("churn", [CANCELLATION, INACTIVITY])
def test_label_missing_when_window_passes_data_end(churn: ChurnConfig) -> None:
    window = pd.Timedelta(days=label_window_days(churn))
    raw = _raw(data_end=str((AS_OF + window - pd.Timedelta(days=1)).date()))
    assert raw.end == AS_OF + window
    assert build_labels(raw, AS_OF, churn)["churned"].notna().all()
    short = _raw(data_end=str((AS_OF + window - pd.Timedelta(days=2)).date()))
    assert build_labels(short, AS_OF, churn)["churned"].isna().all()


def test_label_window_is_the_horizon() -> None:
    assert label_window_days(CANCELLATION) == 90
    assert label_window_days(ChurnConfig(definition="inactivity", horizon_days=60)) == 60


def test_monthly_as_of_dates() -> None:
    raw = _raw(data_end="2024-12-31")  # data from 2024-03-01, raw.end 2025-01-01
    dates = monthly_as_of_dates(raw, min_history_months=3)
    assert dates[0] == pd.Timestamp("2024-06-01")
    assert dates[-1] == pd.Timestamp("2025-01-01")
    labelled = monthly_as_of_dates(raw, min_history_months=3, churn=CANCELLATION)
    assert labelled[-1] == pd.Timestamp("2024-10-01")  # + 90 days = 2024-12-30 <= end

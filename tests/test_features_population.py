"""Who is active at T, and the churn labels of both definitions."""

from __future__ import annotations

import pandas as pd
import pytest

from zerochurn.configs.settings import ChurnConfig, FeatureConfig
from zerochurn.contract.dataset import RawData
from zerochurn.features import build_features, build_labels, label_window_days
from zerochurn.features.build import build_time_to_churn, monthly_as_of_dates

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


def _time_to_churn(churn: ChurnConfig, censor_at: str) -> dict[str, tuple[int, bool]]:
    targets = build_time_to_churn(_raw(), [AS_OF], churn, censor_at=pd.Timestamp(censor_at))
    rows = targets.set_index("customer_id")
    return {
        c: (int(rows.loc[c, "survival_months"]), bool(rows.loc[c, "survival_event"]))
        for c in rows.index
    }


def test_time_to_churn_under_cancellation() -> None:
    # months after 2024-07-01: 1 = July, 2 = August, 3 = September ...; censored after 5
    assert _time_to_churn(CANCELLATION, "2024-12-01") == {
        "a": (5, False),
        "leaves_at_t": (1, True),  # cancels on T: in the first month
        "lapsed": (3, True),  # cancels 2024-09-28
        "fresh": (5, False),
        "edge": (5, False),
        "h": (3, True),
        "final_bill": (2, True),
        "returns": (5, False),
    }


def test_time_to_churn_under_inactivity() -> None:
    # the first lapse counts: 90 days after an activity with nothing in between
    assert _time_to_churn(INACTIVITY, "2024-12-01") == {
        "a": (2, True),  # 2024-06-01 + 90 days = 2024-08-30 (August), before the next bill
        "leaves_at_t": (1, True),
        "fresh": (1, True),  # signed up 2024-05-01, nothing since: lapses 2024-07-30
        "edge": (1, True),  # 2024-04-02 + 90 days = 2024-07-01, the day of T
        "h": (3, True),  # cancels 2024-09-29, before 2024-06-15 + 90 days lapses
        "final_bill": (2, True),
        "returns": (5, True),  # 2024-06-15 -> 2024-08-20 is 66 days, then 2024-11-18 lapses
    }


def test_time_to_churn_reads_nothing_after_the_censoring_date() -> None:
    # censored at 2024-09-01: two whole months; a churn in September is not known yet
    early = _time_to_churn(CANCELLATION, "2024-09-01")
    assert early["lapsed"] == (2, False)
    assert early["final_bill"] == (2, True)
    cut = _raw().cut(pd.Timestamp("2024-09-01"))
    targets = build_time_to_churn(cut, [AS_OF], CANCELLATION, censor_at=pd.Timestamp("2024-09-01"))
    assert dict(zip(targets["customer_id"], targets["survival_months"], strict=True)) == {
        c: months for c, (months, _) in early.items()
    }


def test_time_to_churn_needs_dates_before_the_censoring_date() -> None:
    with pytest.raises(ValueError, match="2024-07-01 is not before the censoring date 2024-07-01"):
        build_time_to_churn(_raw(), [AS_OF], CANCELLATION, censor_at=AS_OF)

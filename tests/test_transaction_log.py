"""A data folder with only a transaction log: derived customers, inactivity churn, end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from zerochurn.cli import app
from zerochurn.configs import load_settings
from zerochurn.configs.settings import ChurnConfig, FeatureConfig, GenerateConfig, ReportsConfig
from zerochurn.contract.dataset import RawData
from zerochurn.contract.derive import derive_customers
from zerochurn.contract.validate import load_raw, validate_dir
from zerochurn.features import build_features, build_labels, build_training_frame
from zerochurn.features.build import ChurnDefinitionError
from zerochurn.features.retention import ALL_CUSTOMERS, segment_monthly_retention
from zerochurn.features.value_function import customer_value
from zerochurn.io import write_table
from zerochurn.reports.churn import churn_report
from zerochurn.reports.satisfaction import survey_answers
from zerochurn.serving.batch import segment_table
from zerochurn.serving.scoring import SEGMENT_COLUMNS
from zerochurn.serving.store import AtRiskQuery, SnapshotInfo, SnapshotStore, write_snapshot
from zerochurn.synthetic import generate_world

INACTIVITY = ChurnConfig(definition="inactivity", inactivity_days=60, horizon_days=60)
DAYS_PER_MONTH = 365.25 / 12

# A steady monthly buyer (A), one who stops after February (B), one who starts in March
# and comes back after a pause (C) and a late single purchase with its cost (D).
LOG = """customer_id,date,amount,cost
A,2024-01-10,100,40
B,2024-01-20,50,10
A,2024-02-10,100,40
B,2024-02-20,50,10
C,2024-03-05,30,0
A,2024-03-10,100,40
A,2024-04-10,100,40
A,2024-05-10,100,40
D,2024-05-15,80,20
C,2024-05-20,60,0
A,2024-06-10,100,40
"""


def long_log(folder: Path) -> Path:
    """A year and a half of monthly purchases by three customers, one stopping after a year."""
    months = pd.date_range("2023-01-01", "2024-06-01", freq="MS") + pd.Timedelta(days=4)
    rows = [
        (customer, date, 100.0)
        for customer in ("A", "B", "C")
        for date in months
        if customer != "C" or date < pd.Timestamp("2024-01-01")
    ]
    folder.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    write_table(table, folder / "transactions.csv")
    return folder


def write_log(folder: Path, fmt: str = "csv") -> Path:
    """The hand-made log as the folder's only table."""
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        (folder / "transactions.csv").write_text(LOG)
    else:
        header, *lines = LOG.split()
        table = pd.DataFrame([line.split(",") for line in lines], columns=header.split(","))
        typed = table.astype({"amount": float, "cost": float})
        write_table(
            typed.assign(date=pd.to_datetime(typed["date"])), folder / "transactions.parquet"
        )
    return folder


@pytest.fixture
def raw(tmp_path: Path) -> RawData:
    return load_raw(write_log(tmp_path / "data"))


# --- the derived customers table ---


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_folder_with_only_transactions_loads_with_derived_customers(tmp_path: Path, fmt: str):
    raw = load_raw(write_log(tmp_path / "data", fmt))
    assert raw.customers_derived
    assert raw.surveys is None and raw.complaints is None
    expected = pd.DataFrame(
        {
            "customer_id": pd.Series(["A", "B", "C", "D"], dtype="str"),
            "signup_date": pd.to_datetime(
                ["2024-01-10", "2024-01-20", "2024-03-05", "2024-05-15"]
            ).as_unit("ns"),
            "cancel_date": pd.Series(pd.NaT, index=range(4), dtype="datetime64[ns]"),
        }
    )
    pd.testing.assert_frame_equal(raw.customers, expected)
    assert len(raw.transactions) == 11
    assert raw.end == pd.Timestamp("2024-06-11")


def test_derive_customers_takes_the_first_purchase_of_each_id():
    transactions = pd.DataFrame(
        {
            "customer_id": ["b", "a", "b", None, "a"],
            "date": pd.to_datetime(
                ["2024-03-01", "2024-02-05 10:30", "2024-01-31", "2023-01-01", "2024-02-06"],
                format="ISO8601",
            ),
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    before = transactions.copy()
    customers = derive_customers(transactions)
    assert customers["customer_id"].tolist() == ["a", "b"]
    assert customers["signup_date"].tolist() == [
        pd.Timestamp("2024-02-05 10:30"),
        pd.Timestamp("2024-01-31"),
    ]
    assert customers["cancel_date"].isna().all()
    assert customers["cancel_date"].dtype == customers["signup_date"].dtype
    assert list(customers.columns) == ["customer_id", "signup_date", "cancel_date"]
    pd.testing.assert_frame_equal(transactions, before)


def test_a_customers_file_is_used_when_there_is_one(tmp_path: Path):
    folder = write_log(tmp_path / "data")
    (folder / "customers.csv").write_text(
        "customer_id,signup_date,region,segment,cancel_date\n"
        "A,2024-01-01,north,smb,\nB,2024-01-01,south,key,2024-03-01\n"
        "C,2024-01-01,north,smb,\nD,2024-01-01,north,smb,\n"
    )
    raw = load_raw(folder)
    assert not raw.customers_derived
    assert raw.customers["segment"].tolist() == ["smb", "key", "smb", "smb"]


def test_without_transactions_only_the_transactions_file_is_missing(tmp_path: Path):
    raw, problems = validate_dir(tmp_path)
    assert raw is None
    assert [str(problem) for problem in problems] == [
        f"transactions: no file: expected transactions.parquet or transactions.csv in {tmp_path}"
    ]


def test_events_of_unknown_customers_are_still_reported(tmp_path: Path):
    folder = write_log(tmp_path / "data")
    (folder / "complaints.csv").write_text(
        "complaint_id,customer_id,opened_at,channel,category,department,due_at,resolved_at,"
        "followed_up_at,followup_grade\nK1,Z,2024-02-01,email,price,sales,2024-02-08,,,\n"
    )
    _, problems = validate_dir(folder)
    assert [problem.column for problem in problems] == ["customer_id"]
    assert "'Z' in row 1: expected a customer_id of customers" in str(problems[0])


# --- labels and features ---


def test_inactivity_labels_of_the_log(raw: RawData):
    labels = build_labels(raw, "2024-04-01", INACTIVITY)
    # B's last purchase was on 2024-02-20 (gone 2024-04-20); C buys again on 2024-05-20.
    assert dict(zip(labels["customer_id"], labels["churned"], strict=True)) == {
        "A": False,
        "B": True,
        "C": False,
    }
    assert build_labels(raw, "2024-05-01", INACTIVITY)["churned"].isna().all()


def test_cancellation_on_derived_customers_is_refused(raw: RawData):
    churn = ChurnConfig(definition="cancellation")
    with pytest.raises(ChurnDefinitionError, match=r"no cancel_date.*--churn inactivity"):
        build_labels(raw, "2024-04-01", churn)
    with pytest.raises(ChurnDefinitionError, match="--churn inactivity"):
        build_training_frame(raw, ["2024-04-01"], FeatureConfig(), churn)
    with pytest.raises(ChurnDefinitionError, match="--churn inactivity"):
        churn_report(raw, churn=churn, features=FeatureConfig(), config=ReportsConfig())


def test_value_features_of_the_log(raw: RawData):
    features = build_features(raw, "2024-04-01", FeatureConfig(), INACTIVITY).set_index(
        "customer_id"
    )
    assert list(features.index) == ["A", "B", "C"]
    assert not {"region", "segment", "plan"} & set(features.columns)
    expected = pd.DataFrame(
        {
            "tenure_days": [82.0, 72.0, 27.0],
            "revenue_1m": [100.0, 0.0, 30.0],
            "revenue_3m": [300.0, 100.0, 30.0],
            "recency_days": [22.0, 41.0, 27.0],
            "frequency": [3, 2, 1],
            "months_active_share": [1.0, 2 / 3, 1.0],
            "monthly_margin": [60.0, 80 / 3, 30.0],
            # Nobody had left in the year before 2024-04-01.
            "segment_monthly_retention": [1.0, 1.0, 1.0],
        },
        index=pd.Index(["A", "B", "C"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(
        features[expected.columns], expected, check_dtype=False, check_index_type=False
    )
    value = customer_value(
        expected["monthly_margin"].to_numpy(), np.ones(3), FeatureConfig().value_function
    )
    np.testing.assert_allclose(features["customer_value"], value)


def test_retention_without_segments_is_the_overall_rate(raw: RawData):
    features = build_features(raw, "2024-06-01", FeatureConfig(), INACTIVITY)
    # B left on 2024-04-20: one departure in 143 + 91 + 88 + 17 customer-days at risk.
    exposure_months = (143 + 91 + 88 + 17) / DAYS_PER_MONTH
    expected = np.exp(-1 / exposure_months)
    assert features["customer_id"].tolist() == ["A", "C", "D"]
    np.testing.assert_allclose(features["segment_monthly_retention"], expected)
    history = pd.DataFrame(
        {
            "signup_date": pd.to_datetime(["2024-01-01"]),
            "departure": pd.Series([pd.NaT], dtype="datetime64[ns]"),
        }
    )
    retention = segment_monthly_retention(history, as_of=pd.Timestamp("2024-06-01"))
    assert retention.to_dict() == {ALL_CUSTOMERS: 1.0}


@pytest.mark.parametrize("as_of", ["2024-02-01", "2024-03-06", "2024-05-15", "2024-06-11"])
def test_features_from_the_log_are_point_in_time(raw: RawData, tmp_path: Path, as_of: str):
    as_of = pd.Timestamp(as_of)
    full = build_features(raw, as_of, FeatureConfig(), INACTIVITY)
    pd.testing.assert_frame_equal(
        full, build_features(raw.cut(as_of), as_of, FeatureConfig(), INACTIVITY)
    )
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    write_table(
        raw.transactions[raw.transactions["date"] < as_of], earlier / "transactions.parquet"
    )
    from_earlier_log = build_features(load_raw(earlier), as_of, FeatureConfig(), INACTIVITY)
    pd.testing.assert_frame_equal(full, from_earlier_log)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), offset=st.integers(-10, 400))
def test_deriving_then_cutting_equals_cutting_then_deriving(seed: int, offset: int):
    rng = np.random.default_rng(seed)
    rows = 60
    start = pd.Timestamp("2024-01-01")
    transactions = pd.DataFrame(
        {
            "customer_id": rng.choice([f"c{i}" for i in range(12)], rows),
            "date": start + pd.to_timedelta(rng.integers(0, 365, rows), unit="D"),
            "amount": rng.gamma(2.0, 50.0, rows).round(2),
        }
    )
    raw = RawData(derive_customers(transactions), transactions, customers_derived=True)
    as_of = start + pd.Timedelta(days=offset)
    cut = raw.cut(as_of)
    assert cut.customers_derived
    earlier = derive_customers(transactions[transactions["date"] < as_of])
    pd.testing.assert_frame_equal(cut.customers.reset_index(drop=True), earlier)
    full = build_features(raw, as_of, FeatureConfig(), INACTIVITY)
    pd.testing.assert_frame_equal(full, build_features(cut, as_of, FeatureConfig(), INACTIVITY))


# --- downstream without region, segment or plan ---


def test_churn_report_of_a_log(tmp_path: Path):
    raw = load_raw(long_log(tmp_path / "data"))
    report = churn_report(
        raw, churn=INACTIVITY, features=FeatureConfig(), config=ReportsConfig(churn_months=6)
    )
    assert report.summary["definition"] == "inactivity"
    # C's last purchase was on 2023-12-05: gone 60 days later, in February 2024.
    assert report.summary["churned"] == 1
    assert [section.title for section in report.sections] == ["Churn per month"]


def test_satisfaction_report_needs_the_grouping_column(raw: RawData):
    surveys = pd.DataFrame(
        {
            "customer_id": ["A"],
            "date": pd.to_datetime(["2024-03-01"]),
            "item": ["price_level"],
            "dimension": ["price"],
            "score": [75],
        }
    )
    with pytest.raises(ValueError, match="customers has no region column"):
        survey_answers(surveys, raw.customers, "region")


def _scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "churn_probability": [0.1, 0.6],
            "churn_index": [100, 600],
            "risk_tier": ["low", "critical"],
            "customer_value": [500.0, 200.0],
            "value_at_risk": [50.0, 120.0],
        }
    )


def test_scores_without_profile_columns_have_an_empty_segment_table(tmp_path: Path):
    segments = segment_table(_scores(), reference_churn_rate=0.1)
    assert segments.empty
    assert list(segments.columns) == [*SEGMENT_COLUMNS, "by"]
    info = SnapshotInfo("2024-06-01", "1", "2024-06-02T00:00:00+00:00", 0.1, 2)
    features = pd.DataFrame({"customer_id": ["A", "B"], "revenue_3m": [300.0, 0.0]})
    path = write_snapshot(
        tmp_path / "snapshot.sqlite",
        features=features,
        scores=_scores(),
        segments=segments,
        info=info,
    )
    store = SnapshotStore(path)
    assert store.segments("segment").empty
    total, page = store.at_risk(AtRiskQuery(limit=10))
    assert (total, page["customer_id"].tolist()) == (2, ["B", "A"])
    for query in (AtRiskQuery(limit=10, region="north"), AtRiskQuery(limit=10, segment="smb")):
        total, page = store.at_risk(query)
        assert (total, len(page)) == (0, 0)
    total, page = store.at_risk(AtRiskQuery(limit=10, tier="critical", region="north"))
    assert total == 0


# --- the command line, end to end ---


def test_train_refuses_cancellation_on_a_transaction_log(tmp_path: Path):
    folder = long_log(tmp_path / "data")
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "train", str(folder)])
    assert result.exit_code == 1, result.output
    assert "--churn inactivity" in " ".join(result.output.split())


@pytest.mark.slow
def test_train_and_score_a_transaction_log(tmp_path: Path):
    world = generate_world(GenerateConfig(customers=1500, months=15, seed=5), horizon_days=90)
    folder = tmp_path / "data"
    folder.mkdir()
    write_table(world.tables["transactions"], folder / "transactions.csv")
    workspace = tmp_path / "ws"
    runner = CliRunner()
    train = runner.invoke(
        app,
        [
            *("--workspace", str(workspace)),
            *("--set", "churn.definition=inactivity", "--set", "churn.inactivity_days=60"),
            *("--set", "training.gate.baseline_margin=-1"),
            *("train", str(folder)),
        ],
    )
    assert train.exit_code == 0, train.output
    score = runner.invoke(
        app, ["--workspace", str(workspace), "score", str(folder), "--as-of", "2025-03-01"]
    )
    assert score.exit_code == 0, score.output

    scores = pd.read_csv(workspace / "scores" / "scores_2025-03-01.csv")
    assert not {"region", "segment", "plan"} & set(scores.columns)
    assert scores["churn_probability"].between(0, 1).all()
    assert scores["value_at_risk"].notna().all()
    # Scored under the champion's churn definition: only customers who bought in the 60 days
    # before the as-of date are still customers.
    settings = load_settings(
        overrides={"churn.definition": "inactivity", "churn.inactivity_days": 60}, environ={}
    )
    raw = load_raw(folder)
    active = build_features(raw, "2025-03-01", settings.features, settings.churn)
    assert sorted(scores["customer_id"]) == sorted(active["customer_id"])
    assert len(scores) < (raw.customers["signup_date"] < pd.Timestamp("2025-03-01")).sum()

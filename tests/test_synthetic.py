"""The synthetic world: determinism, integrity, believable effects, drift and ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.schema import GRADE_SCORES, SURVEY_ITEMS, TABLES
from zerochurn.contract.validate import validate_dir
from zerochurn.synthetic import World, WorldParameters, generate_world, write_world
from zerochurn.synthetic.churn import monthly_hazard, state_log_odds
from zerochurn.synthetic.parameters import CategoryParameters, ComplaintParameters
from zerochurn.synthetic.tables import HIDDEN_STATE_COLUMNS

HORIZON_DAYS = 90
DRIFT_FROM = "2025-01"
WORSE_SEGMENT = "in_province_distributor"


def _world(customers: int = 3000, months: int = 24, seed: int = 11, **drift: str) -> World:
    config = GenerateConfig(customers=customers, months=months, seed=seed, **drift)
    return generate_world(config, horizon_days=HORIZON_DAYS)


@pytest.fixture(scope="module")
def world() -> World:
    return _world()


@pytest.fixture(scope="module")
def drift_pair() -> dict[str, World]:
    """A no-drift world and, with the same seed, one world per drift scenario."""
    worlds = {"none": _world(customers=2000, seed=5)}
    for scenario in ("price_increase", "service_outage", "new_segment"):
        worlds[scenario] = _world(customers=2000, seed=5, drift=scenario, drift_from=DRIFT_FROM)
    return worlds


def _scores(world: World) -> pd.DataFrame:
    surveys = world.tables["surveys"]
    customers = world.tables["customers"][["customer_id", "segment"]]
    scores = surveys.assign(score=surveys["grade"].map(GRADE_SCORES).astype(float))
    return scores.merge(customers, on="customer_id")


def _assert_same_worlds(a: World, b: World) -> None:
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    pd.testing.assert_frame_equal(a.ground_truth, b.ground_truth)


def _known_before(world: World, day: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Everything the tables and ground truth say about the time strictly before `day`."""
    t = world.tables
    customers = t["customers"][t["customers"]["signup_date"] < day]
    complaints = t["complaints"][t["complaints"]["opened_at"] < day]
    followed = complaints["followed_up_at"] < day
    known = {
        "customers": customers.assign(
            cancel_date=customers["cancel_date"].where(customers["cancel_date"] < day)
        ),
        "transactions": t["transactions"][t["transactions"]["date"] < day],
        "surveys": t["surveys"][t["surveys"]["date"] < day],
        "complaints": complaints.assign(
            resolved_at=complaints["resolved_at"].where(complaints["resolved_at"] < day),
            followed_up_at=complaints["followed_up_at"].where(followed),
            followup_grade=complaints["followup_grade"].where(followed),
        ),
        "ground_truth": world.ground_truth[world.ground_truth["as_of"] <= day],
    }
    return {name: frame.reset_index(drop=True) for name, frame in known.items()}


# --- determinism -------------------------------------------------------------------------


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**31), customers=st.integers(20, 300))
def test_same_seed_gives_the_same_world(seed: int, customers: int) -> None:
    _assert_same_worlds(
        _world(customers=customers, months=6, seed=seed),
        _world(customers=customers, months=6, seed=seed),
    )


def test_different_seeds_give_different_worlds() -> None:
    a, b = _world(customers=200, months=6, seed=1), _world(customers=200, months=6, seed=2)
    assert not a.tables["transactions"].equals(b.tables["transactions"])
    assert not a.tables["customers"]["signup_date"].equals(b.tables["customers"]["signup_date"])


# --- the contract ------------------------------------------------------------------------


def test_tables_have_the_contract_columns_and_types(world: World) -> None:
    for name, frame in world.tables.items():
        spec = TABLES[name]
        assert list(frame.columns) == [c.name for c in spec.columns]
        for column in spec.columns:
            if column.kind == "date":
                assert pd.api.types.is_datetime64_dtype(frame[column.name]), column.name
            if column.kind == "id":
                assert frame[column.name].dtype == "str", column.name
            if not column.nullable:
                assert frame[column.name].notna().all(), column.name
    assert list(world.ground_truth.columns) == [
        "customer_id",
        "as_of",
        "horizon_days",
        "true_probability",
        "true_survival_3m",
        "true_survival_6m",
        "true_survival_12m",
    ]


def test_true_survival_falls_with_time_and_agrees_with_the_horizon_probability(world: World):
    truth = world.ground_truth
    s3, s6, s12 = (truth[f"true_survival_{t}m"].to_numpy(np.float64) for t in (3, 6, 12))
    assert ((s12 > 0) & (s12 <= s6) & (s6 <= s3) & (s3 <= 1)).all()
    # the 90-day horizon is 2.96 of the generator's months: S(3) is a hair below 1 - p
    stay = 1 - truth["true_probability"].to_numpy()
    assert (s3 <= stay + 1e-6).all()
    assert np.abs(s3 - stay).max() < 0.01


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**31), customers=st.integers(50, 400))
def test_events_belong_to_customers_and_their_active_time(seed: int, customers: int) -> None:
    world = _world(customers=customers, months=9, seed=seed)
    c = world.tables["customers"].set_index("customer_id")
    assert c.index.is_unique
    events = {
        "transactions": "date",
        "surveys": "date",
        "complaints": "opened_at",
    }
    for name, date in events.items():
        frame = world.tables[name]
        assert frame["customer_id"].isin(c.index).all(), name
        signup = frame["customer_id"].map(c["signup_date"])
        cancel = frame["customer_id"].map(c["cancel_date"])
        assert (frame[date] >= signup).all(), name
        assert not (frame[date] > cancel).any(), name
    assert world.tables["complaints"]["complaint_id"].is_unique
    truth = world.ground_truth
    assert truth["customer_id"].isin(c.index).all()
    as_of_cancel = truth["customer_id"].map(c["cancel_date"])
    assert (truth["customer_id"].map(c["signup_date"]) < truth["as_of"]).all()
    assert not (as_of_cancel < truth["as_of"]).any()


def test_one_bill_per_customer_and_active_month(world: World) -> None:
    tx = world.tables["transactions"]
    month = tx["date"].dt.to_period("M")
    assert not pd.DataFrame({"c": tx["customer_id"], "m": month}).duplicated().any()
    assert (tx["amount"] > 0).all() and (tx["cost"] > 0).all()


def test_grades_are_letters(world: World) -> None:
    assert set(world.tables["surveys"]["grade"].unique()) <= set("ABCD")
    followup = world.tables["complaints"]["followup_grade"].dropna()
    assert set(followup.unique()) <= set("ABCD")


def test_surveys_answer_all_items_for_a_sample(world: World) -> None:
    surveys = world.tables["surveys"]
    per_answer = surveys.groupby(["customer_id", "date"]).size()
    assert (per_answer == len(SURVEY_ITEMS)).all()
    assert (surveys["item"].map(SURVEY_ITEMS) == surveys["dimension"].astype(str)).all()
    tx = world.tables["transactions"]
    active = tx.groupby(tx["date"].dt.to_period("M"))["customer_id"].nunique()
    answered = surveys.groupby(surveys["date"].dt.to_period("M"))["customer_id"].nunique()
    assert (answered.index.month % 3 == 0).all()
    assert (answered / active[answered.index]).between(0.25, 0.45).all()


def test_complaint_columns_are_consistent(world: World) -> None:
    cp = world.tables["complaints"]
    assert (cp["due_at"] >= cp["opened_at"]).all()
    resolved = cp["resolved_at"].notna()
    assert (cp.loc[resolved, "resolved_at"] >= cp.loc[resolved, "opened_at"]).all()
    followed = cp["followed_up_at"].notna()
    assert (followed == cp["followup_grade"].notna()).all()
    assert resolved[followed].all()
    assert (cp.loc[followed, "followed_up_at"] > cp.loc[followed, "resolved_at"]).all()
    assert 0 < (~resolved).mean() < 0.3
    assert 0.1 < (cp["resolved_at"] > cp["due_at"]).mean() < 0.7
    end = world.tables["transactions"]["date"].max()
    assert not (cp["resolved_at"] > end).any() and not (cp["followed_up_at"] > end).any()


# --- believable behaviour ----------------------------------------------------------------


def test_annual_churn_is_about_twenty_percent(world: World) -> None:
    customers = world.tables["customers"]
    start = pd.Timestamp(world.config.start)
    for year in range(world.config.months // 12):
        begin, end = start + pd.DateOffset(years=year), start + pd.DateOffset(years=year + 1)
        base = customers[
            (customers["signup_date"] < begin)
            & ~(customers["cancel_date"] < begin)  # NaT compares False: still active
        ]
        churn = (base["cancel_date"] < end).mean()
        assert 0.15 <= churn <= 0.25, f"year {year}: annual churn {churn:.3f}"


def test_worse_served_segment_scores_lower_and_churns_more(world: World) -> None:
    scores = _scores(world)
    worse = scores["segment"] == WORSE_SEGMENT
    assert scores.loc[worse, "score"].mean() < scores.loc[~worse, "score"].mean() - 4
    customers = world.tables["customers"]
    churned = customers["cancel_date"].notna()
    in_segment = customers["segment"] == WORSE_SEGMENT
    assert churned[in_segment].mean() > 1.3 * churned[~in_segment].mean()


def test_revenue_and_margin_depend_on_segment(world: World) -> None:
    tx = world.tables["transactions"].merge(
        world.tables["customers"][["customer_id", "segment"]], on="customer_id"
    )
    by_segment = tx.assign(margin=1 - tx["cost"] / tx["amount"]).groupby("segment")
    assert by_segment["amount"].median().max() > 5 * by_segment["amount"].median().min()
    assert by_segment["margin"].mean().max() > by_segment["margin"].mean().min() + 0.05


def test_more_grievance_or_less_satisfaction_never_lowers_the_hazard() -> None:
    params = WorldParameters()
    rng = np.random.default_rng(0)
    n = 1000
    satisfaction = rng.normal(size=n).astype(np.float32)
    grievance = rng.exponential(size=n).astype(np.float32)
    static = rng.normal(-4, 1, size=n).astype(np.float32)
    price = rng.normal(size=n).astype(np.float32)
    tenure = rng.uniform(0, 60, size=n)

    def hazard(sat: np.ndarray, griev: np.ndarray) -> np.ndarray:
        state = state_log_odds(static, sat, price, griev, 0.0, params)
        return monthly_hazard(state, tenure, params)

    base = hazard(satisfaction, grievance)
    assert (hazard(satisfaction, grievance + 1) >= base).all()
    assert (hazard(satisfaction - 1, grievance) >= base).all()
    assert (
        monthly_hazard(static, tenure + 12, params) <= monthly_hazard(static, tenure, params)
    ).all()


# --- drift -------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["price_increase", "service_outage", "new_segment"])
def test_drift_changes_nothing_before_it_starts(
    drift_pair: dict[str, World], scenario: str
) -> None:
    day = pd.Timestamp(f"{DRIFT_FROM}-01")
    before, drifted = (
        _known_before(drift_pair["none"], day),
        _known_before(drift_pair[scenario], day),
    )
    for name in before:
        pd.testing.assert_frame_equal(before[name], drifted[name], obj=name)


def _after(world: World) -> dict[str, float]:
    """Quantities the drift scenarios move, measured from DRIFT_FROM on."""
    day = pd.Timestamp(f"{DRIFT_FROM}-01")
    t = world.tables
    tx = t["transactions"][t["transactions"]["date"] >= day]
    scores = _scores(world)
    scores = scores[scores["date"] >= day]
    cp = t["complaints"][t["complaints"]["opened_at"] >= day]
    customers = t["customers"]
    return {
        "amount": tx["amount"].mean(),
        "price_score": scores.loc[scores["dimension"] == "price", "score"].mean(),
        "logistics_score": scores.loc[scores["dimension"] == "logistics", "score"].mean(),
        "complaints_per_bill": len(cp) / len(tx),
        "late_or_open": ((cp["resolved_at"] > cp["due_at"]) | cp["resolved_at"].isna()).mean(),
        "cancellations": (customers["cancel_date"] >= day).sum(),
        "true_probability": world.ground_truth.loc[
            world.ground_truth["as_of"] > day, "true_probability"
        ].mean(),
        "online_pharmacies": (customers["segment"] == "online_pharmacy").sum(),
    }


def test_price_increase_raises_amounts_and_churn_and_lowers_price_scores(
    drift_pair: dict[str, World],
) -> None:
    base, drift = _after(drift_pair["none"]), _after(drift_pair["price_increase"])
    assert 1.08 < drift["amount"] / base["amount"] < 1.2
    assert drift["price_score"] < base["price_score"] - 3
    assert drift["cancellations"] > base["cancellations"]
    assert drift["true_probability"] > base["true_probability"]


def test_service_outage_brings_complaints_delays_and_poor_logistics(
    drift_pair: dict[str, World],
) -> None:
    base, drift = _after(drift_pair["none"]), _after(drift_pair["service_outage"])
    assert drift["complaints_per_bill"] > 1.5 * base["complaints_per_bill"]
    assert drift["late_or_open"] > base["late_or_open"] + 0.1
    assert drift["logistics_score"] < base["logistics_score"] - 3
    assert drift["cancellations"] > base["cancellations"]


def test_new_segment_arrives_only_after_its_start(drift_pair: dict[str, World]) -> None:
    base, drift = _after(drift_pair["none"]), _after(drift_pair["new_segment"])
    assert base["online_pharmacies"] == 0
    assert drift["online_pharmacies"] > 200
    customers = drift_pair["new_segment"].tables["customers"]
    online = customers[customers["segment"] == "online_pharmacy"]
    assert (online["signup_date"] >= pd.Timestamp(f"{DRIFT_FROM}-01")).all()


def test_drift_outside_the_simulated_months_is_refused() -> None:
    with pytest.raises(ValueError, match="drift_from 2030-01 is outside the simulated months"):
        _world(customers=10, months=6, drift="price_increase", drift_from="2030-01")


# --- ground truth ------------------------------------------------------------------------


def test_ground_truth_ranks_churners_above_stayers(world: World) -> None:
    truth = world.ground_truth
    assert truth["true_probability"].between(0, 1).all()
    assert (truth["as_of"].dt.day == 1).all() and (truth["horizon_days"] == HORIZON_DAYS).all()
    cancel = truth["customer_id"].map(
        world.tables["customers"].set_index("customer_id")["cancel_date"]
    )
    end = pd.Timestamp(world.config.start) + pd.DateOffset(months=world.config.months)
    horizon = pd.Timedelta(days=HORIZON_DAYS)
    observed = truth["as_of"] + horizon <= end
    churned = (cancel < truth["as_of"] + horizon)[observed]
    probability = truth.loc[observed, "true_probability"]
    assert probability[churned].mean() > 2 * probability[~churned].mean()
    assert abs(probability.mean() - churned.mean()) < 0.01


# --- parameters and output ---------------------------------------------------------------


def test_parameters_name_their_bad_values() -> None:
    with pytest.raises(ValueError, match="routes to unknown department 'legal'"):
        ComplaintParameters(
            categories={"x": CategoryParameters(dimension="price", department="legal", weight=1)}
        )


def test_progress_reports_every_month() -> None:
    messages: list[str] = []
    generate_world(
        GenerateConfig(customers=20, months=4), horizon_days=30, progress=messages.append
    )
    assert [m[:7] for m in messages[:4]] == ["2024-01", "2024-02", "2024-03", "2024-04"]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_write_world_writes_everything(tmp_path: Path, fmt: str) -> None:
    world = _world(customers=50, months=4)
    out = write_world(world, tmp_path / "data", fmt=fmt)
    names = {p.name for p in out.iterdir()}
    assert names == {f"{t}.{fmt}" for t in world.tables} | {"ground_truth.parquet", "world.json"}
    about = json.loads((out / "world.json").read_text())
    assert about["config"]["seed"] == world.config.seed
    assert about["rows"]["transactions"] == len(world.tables["transactions"])
    assert WorldParameters.model_validate(about["parameters"]) == world.params
    truth = pd.read_parquet(out / "ground_truth.parquet")
    pd.testing.assert_frame_equal(truth, world.ground_truth)
    raw, problems = validate_dir(out)
    assert problems == []
    assert raw is not None and len(raw.surveys) == len(world.tables["surveys"])


def test_write_world_leaves_no_partial_output(tmp_path: Path, monkeypatch) -> None:
    world = _world(customers=50, months=4)
    out = tmp_path / "data"
    out.mkdir()
    (out / "old.txt").write_text("previous data")

    def fail(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("zerochurn.synthetic.output.write_json", fail)
    with pytest.raises(OSError, match="disk full"):
        write_world(world, out)
    assert [p.name for p in tmp_path.iterdir()] == ["data"]
    assert [p.name for p in out.iterdir()] == ["old.txt"]


def test_hidden_state_describes_the_same_world(world: World) -> None:
    hidden = generate_world(
        GenerateConfig(customers=3000, months=24, seed=11, hidden_state=True),
        horizon_days=HORIZON_DAYS,
    )
    for name, frame in world.tables.items():
        pd.testing.assert_frame_equal(hidden.tables[name], frame)
    truth = hidden.ground_truth
    pd.testing.assert_frame_equal(truth[list(world.ground_truth.columns)], world.ground_truth)
    assert list(truth.columns[len(world.ground_truth.columns) :]) == list(HIDDEN_STATE_COLUMNS)
    assert (truth.groupby("customer_id")["frailty"].nunique() == 1).all()
    assert (truth["grievance"] >= 0).all()
    # The hidden drivers are what the survey answers measure, with noise.
    surveys = world.tables["surveys"].assign(
        as_of=lambda s: s["date"].dt.to_period("M").dt.to_timestamp() + pd.DateOffset(months=1)
    )
    answers = surveys.assign(score=surveys["grade"].map(GRADE_SCORES).astype(float))
    mean = answers.groupby(["customer_id", "as_of"])["score"].mean().rename("score")
    price = (
        answers[answers["dimension"] == "price"]
        .groupby(["customer_id", "as_of"])["score"]
        .mean()
        .rename("price_score")
    )
    joined = truth.join(mean, on=["customer_id", "as_of"], how="inner").join(
        price, on=["customer_id", "as_of"]
    )
    assert joined["satisfaction"].corr(joined["score"]) > 0.6
    assert joined["price_experience"].corr(joined["price_score"]) > 0.3
    # Higher true risk goes with lower satisfaction.
    assert truth["satisfaction"].corr(truth["true_probability"]) < -0.2

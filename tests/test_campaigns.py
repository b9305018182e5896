"""Campaigns: balanced randomisation, hand-checked measurement, durable records, outcome files."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zerochurn.campaigns.assign import CONTROL, TREATMENT, assign_groups
from zerochurn.campaigns.measure import (
    difference_interval,
    measure,
    not_measurable_reason,
)
from zerochurn.campaigns.outcomes import read_outcomes_file
from zerochurn.campaigns.report import campaign_report, measurement_figure, write_measurement
from zerochurn.campaigns.store import (
    TREATMENT_FILE,
    Campaign,
    CampaignError,
    CampaignStore,
    OutcomesRecord,
    check_name,
)
from zerochurn.configs.settings import CampaignConfig
from zerochurn.reports.html import report_json

Z95 = 1.959963984540054


# --- randomisation -------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 60), min_size=1, max_size=4),
    holdout=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**31 - 1),
)
def test_each_tier_keeps_its_share_of_controls_within_one_customer(sizes, holdout, seed):
    tiers = pd.Series(np.repeat([f"tier{i}" for i in range(len(sizes))], sizes))
    groups = assign_groups(tiers, holdout, seed)
    assert set(groups) <= {TREATMENT, CONTROL}
    for i, size in enumerate(sizes):
        controls = int((groups[tiers.to_numpy() == f"tier{i}"] == CONTROL).sum())
        assert abs(controls - holdout * size) < 1
    assert (assign_groups(tiers, holdout, seed) == groups).all()  # a seed gives the same groups


def test_every_member_is_a_control_with_the_holdout_probability():
    """Over many seeds each member's share of control draws is the holdout, whatever its tier."""
    tiers = pd.Series(["critical"] * 3 + ["high"] * 7 + ["low"] * 10)
    draws = np.array([assign_groups(tiers, 0.2, seed) == CONTROL for seed in range(4000)])
    # binomial(4000, 0.2): sd of a share is 0.0063; 0.03 is more than 4.7 sd
    assert np.abs(draws.mean(axis=0) - 0.2).max() < 0.03


def test_groups_are_balanced_on_risk_and_value():
    rng = np.random.default_rng(5)
    n = 4000
    probability = rng.beta(2, 8, n)
    value = rng.lognormal(10, 1, n)
    tiers = pd.Series(np.where(probability > 0.3, "high", "low"))
    control = assign_groups(tiers, 0.2, seed=9) == CONTROL
    for covariate in (probability, value):
        pooled = math.sqrt((covariate[control].var() + covariate[~control].var()) / 2)
        smd = abs(covariate[control].mean() - covariate[~control].mean()) / pooled
        assert smd < 0.1  # the usual bound of a standardised mean difference for balance
    assert control.mean() == pytest.approx(0.2, abs=0.01)


@pytest.mark.parametrize(
    ("tiers", "holdout", "message"),
    [
        (pd.Series(["low", None]), 0.2, "no stratum"),
        (pd.Series(["low"]), 1.0, "holdout must lie in"),
    ],
)
def test_bad_randomisation_inputs_are_refused(tiers, holdout, message):
    with pytest.raises(ValueError, match=message):
        assign_groups(tiers, holdout, seed=0)


# --- measurement ---------------------------------------------------------------------------


def _campaign(**changes) -> Campaign:
    base = dict(
        name="spring",
        created_at="2026-01-02T09:00:00+00:00",
        as_of="2026-01-01",
        model_version="3",
        horizon_days=90,
        holdout=0.4,
        seed=1,
        selection={"limit": 7},
        customers=7,
        treatment=4,
        control=3,
        value_column="customer_value",
    )
    return Campaign(**(base | changes))


def _members() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(7)],
            "group": [TREATMENT] * 4 + [CONTROL] * 3,
            "risk_tier": ["high", "high", "low", "low", "high", "low", "low"],
            "churn_probability": [0.5, 0.4, 0.1, 0.1, 0.45, 0.1, 0.1],
            "customer_value": [100.0, 200.0, 300.0, 400.0, 100.0, 200.0, np.nan],
        }
    )


def _outcomes(contacted=(pd.NA,) * 7) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(7)],
            "churned": pd.array([True, False, False, False, True, True, False], dtype="boolean"),
            "contacted": pd.array(list(contacted), dtype="boolean"),
        }
    )


def test_difference_interval_by_hand():
    # control 1,1,0: mean 2/3, sample variance 1/3; treatment 1,0,0,0: mean 1/4, variance 1/4
    interval = difference_interval(np.array([1.0, 1, 0]), np.array([1.0, 0, 0, 0]), 0.95)
    se = math.sqrt((1 / 3) / 3 + (1 / 4) / 4)  # 0.41667
    assert interval.estimate == pytest.approx(2 / 3 - 1 / 4)
    assert interval.low == pytest.approx(5 / 12 - Z95 * se)
    assert interval.high == pytest.approx(5 / 12 + Z95 * se)


def test_measure_by_hand():
    config = CampaignConfig(offer_cost=10.0, min_group_customers=2)
    result = measure(_campaign(), _members(), _outcomes(), config)
    assert result.treatment_churn_rate == 0.25
    assert result.control_churn_rate == pytest.approx(2 / 3)
    assert result.churn_rate_drop.estimate == pytest.approx(5 / 12)
    assert result.customers_saved.estimate == pytest.approx(4 * 5 / 12)
    # value lost per member: treatment 100,0,0,0 (mean 25); control 100,200,0 (unknown = 0)
    assert result.value_saved.estimate == pytest.approx(4 * (100 - 25))
    lost_t, lost_c = np.array([100.0, 0, 0, 0]), np.array([100.0, 200, 0])
    se = math.sqrt(lost_c.var(ddof=1) / 3 + lost_t.var(ddof=1) / 4)
    assert result.value_saved.low == pytest.approx(4 * (75 - Z95 * se))
    assert result.offers == 4 and result.offer_cost == 40.0  # nobody said who was contacted
    assert result.net_value.estimate == pytest.approx(300 - 40)
    assert result.net_value.high - result.net_value.low == pytest.approx(
        result.value_saved.high - result.value_saved.low
    )
    assert result.contact_rate is None and result.unknown_values == 1
    tiers = result.by_tier.set_index("risk_tier")
    assert list(tiers.index) == ["high", "low"]  # riskiest first
    assert tiers.loc["high", "treatment_churn_rate"] == 0.5
    assert tiers.loc["high", "control_churn_rate"] == 1.0
    assert tiers.loc["low", "churn_rate_drop"] == pytest.approx(0.5 - 0.0)


def test_offers_count_the_contacted_treatment_customers():
    contacted = (True, True, False, pd.NA, True, False, False)
    config = CampaignConfig(offer_cost=10.0, min_group_customers=2)
    result = measure(_campaign(), _members(), _outcomes(contacted), config)
    assert result.offers == 2 and result.offer_cost == 20.0
    assert result.contact_rate == 0.5 and result.controls_contacted == 1


def test_reasons_a_campaign_is_not_yet_measurable():
    config = CampaignConfig(min_group_customers=2)
    outcomes = _outcomes()
    assert "no outcomes recorded yet" in not_measurable_reason(_campaign(), None, config)

    def with_outcomes(through: str) -> Campaign:
        record = OutcomesRecord(
            "2026-04-02", "data", through, "spring/outcomes-1.parquet", 7, False
        )
        return _campaign(outcomes=record)

    early = not_measurable_reason(with_outcomes("2026-03-30"), outcomes, config)
    assert early == (
        "the outcome window ends on 2026-03-31; the recorded outcomes cover only the days "
        "through 2026-03-30"
    )
    assert not_measurable_reason(with_outcomes("2026-03-31"), outcomes, config) is None
    unknown = outcomes.assign(churned=outcomes["churned"].mask(outcomes.index == 2))
    assert "unknown for 1 member" in not_measurable_reason(
        with_outcomes("2026-04-30"), unknown, config
    )
    few = not_measurable_reason(with_outcomes("2026-04-30"), outcomes, CampaignConfig())
    assert few.startswith("4 treatment and 3 control customers: each group needs at least 50")


def test_report_page_and_json_agree(tmp_path):
    config = CampaignConfig(offer_cost=10.0, min_group_customers=2)
    result = measure(_campaign(), _members(), _outcomes(), config)
    paths = write_measurement(result, tmp_path)
    assert [p.name for p in paths] == [
        "campaign.html",
        "campaign.json",
        "by_tier.csv",
        "campaign.png",
    ]
    data = json.loads(paths[1].read_text())
    assert data["summary"]["status"] == "measured"
    assert data["summary"]["net_value"] == pytest.approx(260.0)
    assert data["summary"]["churn_rate_drop"] == pytest.approx(5 / 12)
    page = paths[0].read_text()
    assert '<td class="number" data-key="net_value">260</td>' in page
    assert '<td class="number" data-key="offer_cost">40</td>' in page
    assert "could be chance" in page  # the interval of the drop includes 0
    figure = measurement_figure(result)
    assert (
        report_json(campaign_report(result, figure))["tables"]["by_tier"][0]["risk_tier"] == "high"
    )


# --- the store -----------------------------------------------------------------------------


def test_create_record_and_read_back(tmp_path):
    store = CampaignStore(tmp_path / "campaigns")
    assert store.campaigns() == []
    members = _members()
    features = members[["customer_id"]].assign(complaints_open=[1, 0, 2, 0, 1, 1, 0])
    campaign = store.create(_campaign(), members, features)
    assert store.get("spring") == campaign
    pd.testing.assert_frame_equal(store.members(campaign), members)
    pd.testing.assert_frame_equal(store.features(campaign), features)
    treatment = pd.read_csv(store.path(campaign, TREATMENT_FILE))
    assert treatment["customer_id"].tolist() == ["C0", "C1", "C2", "C3"]
    assert "group" not in treatment
    assert store.outcomes(campaign) is None

    first = store.record_outcomes(
        "spring", _outcomes(), source="data", observed_through=dt.date(2026, 3, 31)
    )
    later = _outcomes((True,) * 7)
    second = store.record_outcomes(
        "spring", later, source="file", observed_through=dt.date(2026, 4, 30)
    )
    assert first.outcomes.file == "spring/outcomes-1.parquet"
    assert second.outcomes.file == "spring/outcomes-2.parquet" and second.outcomes.contacted_known
    reread = CampaignStore(tmp_path / "campaigns").get("spring")
    assert reread == second
    pd.testing.assert_frame_equal(store.outcomes(reread), later)


def test_a_taken_name_a_bad_name_and_incomplete_outcomes_are_refused(tmp_path):
    store = CampaignStore(tmp_path)
    store.create(_campaign(), _members(), _members()[["customer_id"]])
    with pytest.raises(CampaignError, match="campaign 'spring' exists"):
        store.create(_campaign(), _members(), _members()[["customer_id"]])
    with pytest.raises(CampaignError, match="expected 1-64 letters"):
        check_name("../spring")
    with pytest.raises(CampaignError, match=r"members have \(customers, treatment, control\)"):
        store.create(_campaign(name="autumn", treatment=5, control=2), _members(), _members())
    with pytest.raises(CampaignError, match="cover 6 of its 7 members; missing e.g. C6"):
        store.record_outcomes(
            "spring", _outcomes().head(6), source="x", observed_through=dt.date(2026, 4, 1)
        )
    with pytest.raises(CampaignError, match=r"no campaign 'autumn' .*\(campaigns: spring\)"):
        store.get("autumn")


def test_a_killed_create_leaves_no_campaign_and_can_be_redone(tmp_path):
    """Files written before the record's line are not a campaign; the next create replaces them."""
    store = CampaignStore(tmp_path)
    folder = tmp_path / "spring"
    folder.mkdir()
    (folder / "members.parquet").write_bytes(b"PAR1")  # what a writer killed mid-way leaves
    assert store.campaigns() == []
    store.create(_campaign(), _members(), _members()[["customer_id"]])
    assert len(store.members(store.get("spring"))) == 7


# --- outcome files -------------------------------------------------------------------------


def test_outcome_file_reads_yes_no_for_every_member(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text("customer_id,contacted,churned\nC1,yes,no\nC0,No,1\nC2,,\n")
    members = pd.Series(["C0", "C1", "C2", "C3"])
    table = read_outcomes_file(path, members)
    assert table["customer_id"].tolist() == ["C0", "C1", "C2", "C3"]
    assert table["contacted"].tolist() == [False, True, pd.NA, pd.NA]
    assert table["churned"].tolist() == [True, False, pd.NA, pd.NA]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,contacted\nC0,yes\n", "no customer_id column; the columns are id, contacted"),
        ("customer_id\nC0\nC0\n", "customer_id appears more than once: C0"),
        ("customer_id\nC0\nX9\n", r"1 customer\(s\) are not members of the campaign: X9"),
        ("customer_id,contacted\nC0,maybe\n", "column 'contacted': expected yes/no"),
    ],
)
def test_bad_outcome_files_are_named(tmp_path, text, message):
    path = tmp_path / "calls.csv"
    path.write_text(text)
    with pytest.raises(CampaignError, match=message):
        read_outcomes_file(path, pd.Series(["C0", "C1"]))

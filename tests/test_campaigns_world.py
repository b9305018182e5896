"""Campaigns against the synthetic world's truth, through the CLI, and killed mid-write."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from killed_writer import kill_at_random
from typer.testing import CliRunner

from zerochurn.campaigns.assign import CONTROL, TREATMENT, assign_groups
from zerochurn.campaigns.learning import CampaignRows
from zerochurn.campaigns.measure import measure
from zerochurn.campaigns.outcomes import churned_in_window
from zerochurn.campaigns.store import TREATMENT_FILE, Campaign, CampaignStore
from zerochurn.cli import app
from zerochurn.configs.settings import (
    CampaignConfig,
    ChurnConfig,
    FeatureConfig,
    GenerateConfig,
    ServingConfig,
    UpliftConfig,
)
from zerochurn.contract.dataset import RawData
from zerochurn.contract.validate import load_raw
from zerochurn.features.build import build_features
from zerochurn.model.value import churn_index, risk_tier
from zerochurn.serving.store import SnapshotInfo, write_snapshot
from zerochurn.synthetic import World, generate_world, write_world
from zerochurn.synthetic.action import Treatment
from zerochurn.synthetic.output import GROUND_TRUTH_FILE, TREATMENT_TRUTH_FILE
from zerochurn.training.uplift import evaluate_uplift, fit_uplift, held_out, held_out_mask

HORIZON_DAYS = 90
CAMPAIGN_DATE = "2026-01-01"
"""The end of a 24-month world starting 2024-01: the campaign date; 3 more months cover
its 90-day outcome window."""


def _truth_scores(ground_truth: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """Scores as a perfect model would give them: the true probabilities at `as_of`."""
    truth = ground_truth[ground_truth["as_of"] == pd.Timestamp(as_of)]
    probability = truth["true_probability"].to_numpy()
    index = churn_index(probability, probability.mean())
    return pd.DataFrame(
        {
            "customer_id": truth["customer_id"].to_numpy(),
            "churn_probability": probability,
            "churn_index": index,
            "risk_tier": risk_tier(index, ServingConfig().tier_cutoffs),
            "customer_value": 1000.0,
            "value_at_risk": 1000.0 * probability,
        }
    ).sort_values("churn_probability", ascending=False, ignore_index=True)


# --- against the generator's truth ---------------------------------------------------------


@dataclass(frozen=True)
class SpringWorld:
    """A campaign on a 50,000-customer world played out: its members, record and data."""

    members: pd.DataFrame
    campaign: Campaign
    after: World
    raw: RawData


@pytest.fixture(scope="module")
def spring(tmp_path_factory) -> SpringWorld:
    """The 10,000 riskiest customers by true probability are the campaign, a fifth held out."""
    base = GenerateConfig(customers=50_000, months=24, seed=3)
    before = generate_world(base, horizon_days=HORIZON_DAYS)
    members = _truth_scores(before.ground_truth, CAMPAIGN_DATE).head(10_000)
    groups = assign_groups(members["risk_tier"], 0.2, seed=4)
    members = members.assign(group=groups)
    treatment = Treatment(
        "spring", dt.date(2026, 1, 1), members["customer_id"].to_numpy(), groups == TREATMENT
    )
    after = generate_world(
        base.model_copy(update={"months": 27}), horizon_days=HORIZON_DAYS, treatment=treatment
    )
    raw = load_raw(write_world(after, tmp_path_factory.mktemp("spring") / "data"))
    campaign = Campaign(
        name="spring",
        created_at="2026-01-01T00:00:00+00:00",
        as_of=CAMPAIGN_DATE,
        model_version="truth",
        horizon_days=HORIZON_DAYS,
        holdout=0.2,
        seed=4,
        selection={},
        customers=len(members),
        treatment=int((groups == TREATMENT).sum()),
        control=int((groups == CONTROL).sum()),
        value_column="customer_value",
    )
    return SpringWorld(members, campaign, after, raw)


def _churned(spring: SpringWorld) -> pd.Series:
    ids = spring.members["customer_id"]
    return churned_in_window(spring.raw, spring.campaign, ChurnConfig(), ids)


@pytest.mark.slow
def test_the_measured_interval_covers_the_true_average_effect(spring):
    ids = spring.members["customer_id"]
    outcomes = pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "churned": _churned(spring).to_numpy(),
            "contacted": pd.array([pd.NA] * len(ids), dtype="boolean"),
        }
    )
    result = measure(spring.campaign, spring.members, outcomes, CampaignConfig())
    true_effect = spring.after.treatment_truth["true_effect"].mean()
    drop = result.churn_rate_drop
    assert drop.low <= true_effect <= drop.high
    assert drop.low > 0  # the action works, and the campaign is big enough to see it
    assert result.customers_saved.estimate == pytest.approx(
        drop.estimate * spring.campaign.treatment
    )
    # the untreated truth is the ground truth's probability on the campaign date
    truth = spring.after.ground_truth
    truth = truth[truth["as_of"] == pd.Timestamp(CAMPAIGN_DATE)].set_index("customer_id")
    expected = truth.loc[ids, "true_probability"].to_numpy()
    untreated = spring.after.treatment_truth["true_probability_untreated"].to_numpy()
    np.testing.assert_allclose(untreated, expected, atol=2e-4)


@pytest.mark.slow
def test_the_uplift_model_finds_the_persuadable_better_than_risk_does(spring):
    """Scored by the generator's true effects on held-out members; the churn model is the
    truth itself, so risk ranking is as good as risk ranking can be."""
    features = build_features(
        spring.raw, pd.Timestamp(CAMPAIGN_DATE), FeatureConfig(), ChurnConfig()
    ).set_index("customer_id")
    ids = spring.members["customer_id"]
    rows = CampaignRows(
        features=features.loc[ids].reset_index(),
        campaign=np.full(len(ids), "spring", dtype=object),
        customer_id=ids.to_numpy(dtype=object),
        churn_probability=spring.members["churn_probability"].to_numpy(),
        treated=(spring.members["group"] == TREATMENT).to_numpy(),
        churned=_churned(spring).to_numpy(dtype=np.int64),
    )
    config = UpliftConfig()
    held = held_out_mask(rows, config.validation_fraction, config.random_state)
    model = fit_uplift(rows, ~held, config)
    evaluation = evaluate_uplift(held_out(model, rows, held, spring.after.treatment_truth), config)
    assert evaluation.true_qini > evaluation.risk_true_qini + 0.1
    assert evaluation.true_uplift_at_k > evaluation.risk_true_uplift_at_k
    assert evaluation.validated, evaluation.verdict


def _small_treatment(world) -> Treatment:
    scores = _truth_scores(world.ground_truth, "2025-01-01").head(400)
    treated = np.arange(len(scores)) % 4 != 0
    return Treatment("small", dt.date(2025, 1, 1), scores["customer_id"].to_numpy(), treated)


def test_the_action_changes_nothing_before_its_date_and_helps_only_the_aggrieved():
    config = GenerateConfig(customers=3000, months=15, seed=8)
    untreated = generate_world(config, horizon_days=HORIZON_DAYS)
    treatment = _small_treatment(untreated)
    treated = generate_world(config, horizon_days=HORIZON_DAYS, treatment=treatment)
    start = pd.Timestamp("2025-01-01")
    for name in ("transactions", "surveys", "complaints"):
        date = "opened_at" if name == "complaints" else "date"
        a, b = untreated.tables[name], treated.tables[name]
        pd.testing.assert_frame_equal(
            a[a[date] < start].reset_index(drop=True), b[b[date] < start].reset_index(drop=True)
        )
    cancelled = [
        world.tables["customers"].set_index("customer_id")["cancel_date"]
        for world in (untreated, treated)
    ]
    before = [dates[dates < start] for dates in cancelled]
    pd.testing.assert_series_equal(*before)  # later fates are drawn anew: a saved customer
    # shifts the positions of the month's random draws
    truth = treated.treatment_truth
    assert truth["customer_id"].tolist() == list(treatment.members)
    assert (truth["treated"] == treatment.treated).all()
    no_grievance = truth["grievance"] == 0
    assert no_grievance.any() and (truth.loc[no_grievance, "true_effect"] == 0).all()
    aggrieved = truth[~no_grievance]
    assert (aggrieved["true_effect"] > 0).all()
    assert np.corrcoef(aggrieved["grievance"], aggrieved["true_effect"])[0, 1] > 0.5
    assert untreated.treatment_truth is None


def test_a_campaign_of_another_world_is_refused():
    config = GenerateConfig(customers=500, months=13, seed=2)
    strangers = Treatment(
        "other", dt.date(2025, 1, 1), np.array(["C09999999", "C00000001"]), np.array([True, True])
    )
    with pytest.raises(ValueError, match=r"not active customers of this world on 2025-01-01"):
        generate_world(config, horizon_days=HORIZON_DAYS, treatment=strangers)
    with pytest.raises(ValueError, match="acts on the first day of a month"):
        Treatment("x", dt.date(2025, 1, 2), np.array(["C1"]), np.array([True]))


# --- the commands --------------------------------------------------------------------------


def _snapshot_from_truth(workspace: Path, data: Path, as_of: str) -> None:
    """A snapshot store as `zerochurn score` leaves it, scored by the world's truth."""
    truth = pd.read_parquet(data / GROUND_TRUTH_FILE)
    scores = _truth_scores(truth, as_of).assign(reasons="")
    features = scores[["customer_id"]].assign(as_of=pd.Timestamp(as_of), complaints_open=0)
    info = SnapshotInfo(as_of, "truth", "2026-01-01T00:00:00+00:00", 0.05, len(scores))
    segments = pd.DataFrame({"by": pd.Series(dtype="str")})
    write_snapshot(
        workspace / "scores" / "snapshot.sqlite",
        features=features,
        scores=scores,
        segments=segments,
        info=info,
    )


def test_create_generate_record_and_measure_through_the_cli(tmp_path):
    workspace = tmp_path / "ws"
    runner = CliRunner()

    def zerochurn(*args: str):
        done = runner.invoke(app, ["--workspace", str(workspace), *args])
        assert done.exit_code == 0, done.output
        return done.output

    zerochurn("generate", "--customers", "4000", "--months", "12")
    _snapshot_from_truth(workspace, workspace / "data", "2025-01-01")
    out = zerochurn("campaign", "create", "winter", "--top", "600", "--seed", "7")
    assert "recorded campaign winter: 600 customers" in out
    store = CampaignStore(workspace / "campaigns")
    campaign = store.get("winter")
    assert campaign.as_of == "2025-01-01" and campaign.model_version == "truth"
    treatment_list = pd.read_csv(store.path(campaign, TREATMENT_FILE))
    assert len(treatment_list) == campaign.treatment
    assert treatment_list["churn_probability"].is_monotonic_decreasing

    assert "not yet measurable" in zerochurn("campaign", "measure", "winter")
    failed = runner.invoke(app, ["--workspace", str(workspace), "campaign", "record", "winter"])
    assert failed.exit_code == 1
    assert "not yet measurable: its outcome window ends on 2025-03-31, the data on 2024-12-31" in (
        " ".join(failed.output.split())
    )

    later = workspace / "later"
    zerochurn(
        "generate",
        "--customers",
        "4000",
        "--months",
        "15",
        "--campaign",
        "winter",
        "--out",
        str(later),
    )
    truth = pd.read_parquet(later / TREATMENT_TRUTH_FILE)
    assert len(truth) == 600 and truth["treated"].sum() == campaign.treatment
    calls = tmp_path / "calls.csv"
    contacted = treatment_list["customer_id"].head(100)
    calls.write_text("customer_id,contacted\n" + "".join(f"{c},yes\n" for c in contacted))
    zerochurn("campaign", "record", "winter", "--outcomes", str(calls), "--data", str(later))
    out = zerochurn("campaign", "measure", "winter")
    assert "churn drop (points)" in out and "MLflow run" in out
    measured = (workspace / "campaigns" / "winter" / "measurement" / "campaign.json").read_text()
    assert '"status": "measured"' in measured and '"offers": 100' in measured
    assert "winter" in zerochurn("campaign", "list")


# --- killed writers ------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pandas as pd
    from zerochurn.campaigns.store import Campaign, CampaignStore

    folder, first, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = CampaignStore(folder)
    number = first
    while True:
        groups = np.where(np.arange(rows) % 5 == 0, "control", "treatment")
        members = pd.DataFrame({
            "customer_id": [f"C{number}-{i}" for i in range(rows)],
            "group": groups,
            "churn_probability": np.linspace(0.9, 0.1, rows),
        })
        features = members[["customer_id"]].assign(tenure_days=np.arange(rows))
        campaign = Campaign(
            name=f"c{number}", created_at="2026-01-01T00:00:00+00:00", as_of="2026-01-01",
            model_version="1", horizon_days=90, holdout=0.2, seed=number, selection={},
            customers=rows, treatment=int((groups == "treatment").sum()),
            control=int((groups == "control").sum()), value_column="customer_value",
        )
        store.create(campaign, members, features)
        print(number, flush=True)  # acknowledged: create returned
        number += 1
    """
)
ROWS = 20_000
KILLS = 3
MAX_KILL_DELAY_SECONDS = 0.1


def _assert_whole(store: CampaignStore, campaign: Campaign) -> None:
    assert len(store.members(campaign)) == campaign.customers == ROWS
    assert len(store.features(campaign)) == ROWS
    assert len(pd.read_csv(store.path(campaign, TREATMENT_FILE))) == campaign.treatment


def test_a_writer_killed_mid_create_loses_no_acknowledged_campaign(tmp_path):
    """SIGKILL a process creating campaigns in a loop; every acknowledged one reads back whole,
    and a campaign whose writer died before its record is absent and can be created again."""
    rng = random.Random(1)
    store = CampaignStore(tmp_path)
    acknowledged = -1
    for _ in range(KILLS):
        acknowledged = kill_at_random(  # after a couple of campaigns
            WRITER,
            [str(tmp_path), str(acknowledged + 1), str(ROWS)],
            after=2,
            max_delay=MAX_KILL_DELAY_SECONDS,
            rng=rng,
        )
        names = [c.name for c in store.campaigns()]
        last = len(names) - 1
        # every acknowledged campaign, and at most one created but not yet acknowledged
        assert names == [f"c{i}" for i in range(last + 1)]
        assert acknowledged <= last <= acknowledged + 1
        for campaign in store.campaigns():
            _assert_whole(store, campaign)
        acknowledged = last


def test_a_created_campaign_survives_kill_of_the_command(tmp_path):
    """`zerochurn campaign create` killed with SIGKILL as soon as it reports the record: the
    campaign reads back whole in a new process."""
    workspace = tmp_path / "ws"
    runner = CliRunner()
    done = runner.invoke(
        app, ["--workspace", str(workspace), "generate", "--customers", "2000", "--months", "12"]
    )
    assert done.exit_code == 0, done.output
    _snapshot_from_truth(workspace, workspace / "data", "2025-01-01")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCHURN_")}
    command = [sys.executable, "-m", "zerochurn.cli", "--workspace", str(workspace)]
    command += ["campaign", "create", "kept", "--top", "300"]
    writer = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    for line in writer.stderr:
        if line.startswith("recorded campaign kept"):
            writer.send_signal(signal.SIGKILL)
            break
    writer.wait()
    listed = subprocess.run(
        [sys.executable, "-m", "zerochurn.cli", "--workspace", str(workspace), "campaign", "list"],
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "kept" in listed.stderr
    store = CampaignStore(workspace / "campaigns")
    campaign = store.get("kept")
    assert len(store.members(campaign)) == 300
    assert len(pd.read_csv(store.path(campaign, TREATMENT_FILE))) == campaign.treatment

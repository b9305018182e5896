"""Training data with one label only is refused with the period and what to check, never
a traceback from deep inside the fit."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from zerochurn.cli import app
from zerochurn.configs import load_settings
from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.validate import load_raw
from zerochurn.synthetic import generate_world, write_world
from zerochurn.training.data import build_snapshots
from zerochurn.training.split import TrainingDataError


@pytest.fixture(scope="module")
def nobody_churns(tmp_path_factory):
    """A small world whose customers never cancel: every label is 0."""
    folder = tmp_path_factory.mktemp("nobody-churns")
    world = generate_world(GenerateConfig(customers=300, months=13, seed=5), horizon_days=90)
    customers = world.tables["customers"].assign(cancel_date=pd.NaT)
    write_world(world, folder)
    customers.to_parquet(folder / "customers.parquet", index=False)
    return folder


def test_a_period_without_churners_is_named(tmp_path, nobody_churns):
    settings = load_settings(
        overrides={"workspace": str(tmp_path), "training.train_snapshots": 4}, environ={}
    )
    with pytest.raises(TrainingDataError, match=r"the train period \(.+\) has 0 churners and"):
        build_snapshots(load_raw(nobody_churns), settings)


def test_train_says_so_in_one_error_and_exits_1(tmp_path, nobody_churns):
    result = CliRunner().invoke(
        app, ["--workspace", str(tmp_path), "train", str(nobody_churns)], env={}
    )
    output = " ".join(result.output.split())
    assert result.exit_code == 1, output
    assert "has 0 churners" in output and "a model needs both" in output
    assert "must contain both 0 and 1 labels" not in output
    assert not (tmp_path / "mlflow").exists()  # refused before any run was started

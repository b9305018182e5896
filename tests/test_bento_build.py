"""`zerochurn build-bento` on a tiny trained workspace: champion, wheel and Bento in one go.

The command runs in its own process, as people run it: bentoml reads BENTOML_HOME once
per process, and a Bento store frozen on this workspace would mislead later test modules
(test_serving_service imports into its own home). Its results are read back with
bentoml's API on explicit stores, which leaves this process's BentoML home untouched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import bentoml
import pytest
import test_serving_service
from bentoml._internal.bento import BentoStore
from bentoml._internal.models import ModelStore

from zerochurn.configs import load_settings
from zerochurn.model.registry import find_champion
from zerochurn.serving.bento import STAGING_DIR, WHEELS_DIR
from zerochurn.serving.launch import BENTOML_HOME_DIR
from zerochurn.serving.model import bento_model_tag

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pathspec")  # bentoml's

world = test_serving_service.world
"""The module fixture of test_serving_service: ~2,000 customers, a champion, batch scores."""

REPO = Path(__file__).resolve().parents[1]
SERVICE_FILE = "zerochurn/serving/service.py"


@pytest.fixture(scope="module")
def built(world) -> str:
    """What `zerochurn --workspace W build-bento` prints, with BENTOML_HOME left to its default."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ZEROCHURN_", "BENTOML_")) and k != "DIST_EXTRA_CONFIG"
    }
    done = subprocess.run(
        [sys.executable, "-m", "zerochurn.cli", "--workspace", str(world.workspace), "build-bento"],
        env=env | {"BENTOML_DO_NOT_TRACK": "true"},
        capture_output=True,
        text=True,
        cwd=world.workspace,  # not the checkout: the command finds it from the package
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr  # the console writes to stderr


def _tag(output: str, pattern: str) -> str:
    match = re.search(pattern, output)
    assert match, output
    return match.group(1)


def test_build_bento_pins_the_champion_and_ships_the_wheel(world, built):
    output = built
    home = (world.workspace / BENTOML_HOME_DIR).resolve()
    model_tag = _tag(output, r"imported (\S+)\s")
    bento_tag = _tag(output, r"built Bento (\S+) ")
    assert f"bentoml serve {bento_tag}" in output
    assert f"bentoml containerize {bento_tag}" in output
    assert f"BENTOML_HOME={home}" in output

    model = bentoml.models.get(model_tag, _model_store=ModelStore(str(home / "models")))
    champion = find_champion(world)
    assert model.info.metadata["mlflow_version"] == str(champion.version)
    assert model.info.metadata["run_id"] == champion.run_id

    bento = bentoml.bentos.get(bento_tag, _bento_store=BentoStore(str(home / "bentos")))
    assert [str(m.tag) for m in bento.info.all_models] == [model_tag]  # that version only
    assert {"name": "ZEROCHURN_SERVING__MODEL_SOURCE", "value": "bentoml"} in [
        {"name": e.name, "value": e.value} for e in bento.info.envs
    ]
    (wheel,) = (Path(bento.path) / "env" / "python" / "wheels").glob("zerochurn-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert "zerochurn/configs/default.yaml" in archive.namelist()
        service = archive.read(SERVICE_FILE)  # KeyError if the wheel lacks it
    assert service == (REPO / "serving" / "service.py").read_bytes()  # this checkout's code
    staged = world.workspace / STAGING_DIR
    assert [p.name for p in (staged / WHEELS_DIR).iterdir()] == [wheel.name]
    assert f"wheels/{wheel.name}" in (staged / "bentofile.yaml").read_text()


def test_bento_model_setting_names_a_store_tag():
    def tag(value: str) -> str:
        return bento_model_tag(load_settings(overrides={"serving.bento_model": value}, environ={}))

    assert tag("zerochurn-churn") == "zerochurn-churn:latest"
    assert tag("zerochurn-churn:abc123") == "zerochurn-churn:abc123"

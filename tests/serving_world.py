"""A tiny trained world with batch scores, for the tests of the service (imported, not a test).

`build_serving_world` generates ~2,000 customers, trains a champion and runs `zerochurn
score` through the CLI; tests/conftest.py builds it once per session (`serving_world`).
Tests that damage a workspace (a corrupt store, their own prediction log) work on a copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from typer.testing import CliRunner
from worlds import trained_world

from zerochurn.cli import main
from zerochurn.cli.serving import at_risk, import_model, score, serve
from zerochurn.configs import Settings, load_settings
from zerochurn.configs.settings import GenerateConfig

MAX_BATCH = 20
"""serving.max_batch of the test world: small, so oversized batches are cheap to post."""


def cli() -> typer.Typer:
    """The serving commands on a local app, registered as zerochurn.cli will register them."""
    app = typer.Typer()
    app.callback()(main)
    app.command()(score)
    app.command("at-risk")(at_risk)
    app.command()(serve)
    app.command("import-model")(import_model)
    return app


def invoke(settings: Settings, *args: str) -> str:
    """Run a serving command on the workspace of `settings`; its output (exit 0 asserted)."""
    result = CliRunner().invoke(cli(), ["--workspace", str(settings.workspace), *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def build_serving_world(workspace: Path) -> Settings:
    """A workspace with synthetic data, a champion and batch scores at the end of the data."""
    settings = load_settings(
        overrides={
            "workspace": str(workspace),
            "training.train_snapshots": 4,
            "serving.max_batch": MAX_BATCH,
        },
        environ={},
    )
    trained_world(settings, GenerateConfig(customers=2000, months=13, seed=11))
    invoke(settings, "score")
    return settings


def copy_world(settings: Settings, workspace: Path) -> Settings:
    """The same world in a workspace of its own (MLflow's artifacts stay where they were)."""
    shutil.copytree(settings.workspace, workspace, dirs_exist_ok=True)
    return settings.model_copy(update={"workspace": workspace})

"""The `zerochurn` Typer app: global options parsed once, then one command per stage.

The commands live with their kind in this package (data.py, training.py, serving.py,
monitoring.py, reports.py, run.py) and are registered here in pipeline order.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from zerochurn.cli.campaigns import campaign_app, uplift
from zerochurn.cli.common import Options
from zerochurn.cli.data import features, generate, sample, show_config, validate
from zerochurn.cli.monitoring import monitor, retrain
from zerochurn.cli.reports import report_app
from zerochurn.cli.run import run
from zerochurn.cli.serving import at_risk, build_bento, import_model, score, serve
from zerochurn.cli.training import models, promote, rollback, train

app = typer.Typer(
    name="zerochurn",
    help="Predict which customers will leave, what they are worth, and why.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts name settings as [section.key], not markup
)
app.add_typer(report_app, name="report")
app.add_typer(campaign_app, name="campaign")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that a command stops as it does on Ctrl-C:
    MLflow runs end KILLED, temporary files are removed, the command exits 130."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"stopped by signal {signal.Signals(signum).name}")


def _print_version(value: bool) -> None:
    """--version: print the package version to stdout and stop."""
    if value:
        from zerochurn import __version__

        sys.stdout.write(f"zerochurn {__version__}\n")
        raise typer.Exit()


def _parse_set(pairs: list[str]) -> dict[str, Any]:
    import yaml

    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--set")
        overrides[key.strip()] = yaml.safe_load(raw)
    return overrides


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="YAML file overriding configs/default.yaml."),
    ] = None,
    workspace: Annotated[
        Path | None,
        typer.Option(help="Workspace folder (data, MLflow, scores, reports).", envvar=None),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override any setting: --set churn.horizon_days=60."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """zerochurn: churn risk, customer value and reasons, with MLflow, BentoML and Evidently."""
    signal.signal(signal.SIGTERM, _terminate)
    overrides = _parse_set(set_ or [])
    if workspace is not None:
        overrides["workspace"] = str(workspace)
    ctx.obj = Options(config, overrides)


# In pipeline order, as `zerochurn --help` lists them.
app.command()(generate)
app.command()(validate)
app.command()(features)
app.command()(sample)
app.command()(train)
app.command()(models)
app.command()(promote)
app.command()(rollback)
app.command()(run)
app.command("config")(show_config)
app.command()(score)
app.command("at-risk")(at_risk)
app.command()(serve)
app.command("import-model")(import_model)
app.command("build-bento")(build_bento)
app.command()(monitor)
app.command()(retrain)
app.command()(uplift)

"""What every CLI command shares: settings with flags on top, data loading, error output.

Stage packages keep their Typer commands in their own `commands` module and use these
helpers; zerochurn.cli registers them all on one app.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from zerochurn.configs import ConfigError, Settings, load_settings
from zerochurn.console import console

AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="As-of date T [default: end of the data]."),
]
DataDirArgument = Annotated[
    Path | None, typer.Argument(help="Folder of raw tables [default: <workspace>/data].")
]


class Options:
    """Global options, kept until a command adds its own flags and loads Settings."""

    def __init__(self, config_file: Path | None, overrides: dict[str, Any]) -> None:
        self.config_file = config_file
        self.overrides = overrides

    def settings(self, **flags: Any) -> Settings:
        """Settings with this command's flags (dotted keys; None = not given) on top of the rest."""
        given = {key: value for key, value in flags.items() if value is not None}
        try:
            return load_settings(self.config_file, {**self.overrides, **given})
        except ConfigError as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc


def data_dir(settings: Settings, given: Path | None) -> Path:
    """The folder given on the command line, else the configured one."""
    return given if given is not None else settings.data_dir


def load_raw_or_exit(data_dir: Path):
    """Validate and load the raw tables, or exit 1 listing every problem."""
    from zerochurn.contract.validate import DataValidationError, load_raw

    try:
        return load_raw(data_dir)
    except DataValidationError as exc:
        print_problems(data_dir, exc.problems)
        raise typer.Exit(1) from exc


def print_error(message: str) -> None:
    """An error line whose text is printed as it is (no markup), wrapped softly."""
    console.print("[red]error:[/] ", end="")
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def print_problems(data_dir: Path, problems) -> None:
    console.print(f"[red]{len(problems)} problem(s) in {data_dir}:[/]")
    for problem in problems:
        console.print("  [red]x[/] ", end="")
        console.print(str(problem), highlight=False, markup=False, soft_wrap=True)


def ground_truth(data_dir: Path):
    """The generator's true probabilities beside synthetic data, or None for real data."""
    import pandas as pd

    from zerochurn.synthetic.output import GROUND_TRUTH_FILE

    path = data_dir / GROUND_TRUTH_FILE
    return pd.read_parquet(path) if path.is_file() else None


def _train(
    settings: Settings, snapshots, source: Path, *, tune_trials: int, title: str, truth=None
):
    """Check the costs against the rows, then train, register and gate with progress."""
    from zerochurn.console import progress
    from zerochurn.training.train import check_costs, train_and_register

    try:
        check_costs(snapshots, settings.costs)
    except ValueError as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    with progress(title) as report:
        return train_and_register(
            snapshots,
            settings,
            data_dir=source,
            ground_truth=truth,
            tune_trials=tune_trials,
            progress=report,
        )


def train_with_progress(
    settings: Settings, raw, source: Path, *, tune_trials: int = 0, title: str = "training"
):
    """Build the monthly snapshots, then train, register and gate a model, showing progress."""
    from zerochurn.console import progress
    from zerochurn.features.build import ChurnDefinitionError
    from zerochurn.training.data import build_snapshots

    try:
        with progress("building monthly snapshots") as report:
            snapshots = build_snapshots(raw, settings, progress=report)
    except ChurnDefinitionError as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    return _train(
        settings,
        snapshots,
        source,
        tune_trials=tune_trials,
        title=title,
        truth=ground_truth(source),
    )


def train_table_with_progress(settings: Settings, path: Path, *, tune_trials: int = 0):
    """Read a flat customer table, report its column notes, then train, register and gate."""
    from zerochurn.contract.table import read_customer_table
    from zerochurn.contract.validate import DataValidationError
    from zerochurn.training.data import table_snapshots

    config = settings.table
    try:
        table = read_customer_table(
            path,
            id_column=config.id_column,
            target_column=config.target_column,
            positive_label=config.positive_label,
        )
        snapshots = table_snapshots(table, settings)
    except DataValidationError as exc:
        print_problems(path, exc.problems)
        raise typer.Exit(1) from exc
    except ValueError as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc
    for note in snapshots.notes:
        style = "yellow" if note.kind == "warning" else "dim"
        console.print(f"[{style}]{note.kind}[/] ", end="")
        console.print(str(note), markup=False, highlight=False)
    features = len(snapshots.features)
    console.print(f"{len(table.frame):,} customers, {features} feature columns from {path}")
    return _train(settings, snapshots, path, tune_trials=tune_trials, title="training")

"""What every CLI command shares: settings with flags on top, data loading, error output."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from zerochurn.configs import ConfigError, Settings, load_settings
from zerochurn.console import console
from zerochurn.logs import route_to_file

AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="As-of date T [default: end of the data]."),
]
DataDirArgument = Annotated[
    Path | None, typer.Argument(help="Folder of raw tables [default: <workspace>/data].")
]
DataLocationArgument = Annotated[
    str | None,
    typer.Argument(
        help="Folder of raw tables; with --engine spark also any Hadoop URI "
        "(hdfs://, s3a://, ...) [default: <workspace>/data]."
    ),
]
EngineOption = Annotated[
    str | None,
    typer.Option(
        help="pandas (this process) or spark (Apache Spark on engine.spark_master) [engine.name]."
    ),
]


class Options:
    """Global options, kept until a command adds its own flags and loads Settings."""

    def __init__(self, config_file: Path | None, overrides: dict[str, Any]) -> None:
        self.config_file = config_file
        self.overrides = overrides

    def settings(self, **flags: Any) -> Settings:
        """Settings with this command's flags (dotted keys; None = not given) on top of the rest.

        Library messages (MLflow, warnings) go to the workspace's log file from here on
        (zerochurn.logs).
        """
        given = {key: value for key, value in flags.items() if value is not None}
        try:
            settings = load_settings(self.config_file, {**self.overrides, **given})
        except ConfigError as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc
        route_to_file(settings.workspace)
        return settings


def data_dir(settings: Settings, given: Path | None) -> Path:
    """The folder given on the command line, else the configured one."""
    return given if given is not None else settings.data_dir


def load_raw_or_exit(settings: Settings, given: Path | None):
    """Validate and load the raw tables of `given` (else the configured folder) against
    the contract, events dated by data.as_of at the latest, or exit 1 listing every problem.
    """
    from zerochurn.contract.validate import DataValidationError, load_raw

    folder = data_dir(settings, given)
    try:
        return load_raw(folder, as_of=settings.data.as_of)
    except DataValidationError as exc:
        print_problems(folder, exc.problems)
        raise typer.Exit(1) from exc


def as_of_or_exit(settings: Settings, given: dt.datetime | None, default=None):
    """The as-of date T to build features at: `given`, else `default` (the end of the
    data; None while the data is unread, as for Spark, which then takes the end itself).

    Exits 2 when T lies after the day that follows the data's as-of date (data.as_of,
    default today): the data cannot know what happened since, so every customer would
    look silent.
    """
    import pandas as pd

    from zerochurn.contract.schema import data_as_of

    when = pd.Timestamp(given) if given is not None else default
    if when is None:
        return None
    latest = pd.Timestamp(data_as_of(settings.data.as_of)) + pd.Timedelta(days=1)
    if when > latest:
        raise typer.BadParameter(
            f"{when:%Y-%m-%d} is after {latest:%Y-%m-%d}, the day after the data's as-of date "
            "(data.as_of; default today): expected a date the data reaches",
            param_hint="--as-of",
        )
    return when


def print_error(message: str) -> None:
    """An error line whose text is printed as it is (no markup), wrapped softly."""
    console.print("[red]error:[/] ", end="")
    console.print(message, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def exit_on(*errors: type[Exception]) -> Iterator[None]:
    """Print an expected error's message and exit 1, instead of a traceback."""
    try:
        yield
    except errors as exc:
        print_error(str(exc))
        raise typer.Exit(1) from exc


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

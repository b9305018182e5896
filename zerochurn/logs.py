"""Where library messages go: MLflow's, BentoML's and Python warnings, out of the CLI's output.

MLflow prints INFO lines and warnings (the CloudPickle note on every logged model, "Created
version 3") to stderr through handlers of its own, and libraries warn through `warnings`.
The CLI routes them all to one file, <workspace>/logs/zerochurn.log (`LOG_FILE`), with
`route_to_file`; its own messages stay on the console. `adopt_mlflow_loggers` makes
MLflow's loggers ordinary ones that propagate to the root logger: model/registry.py
calls it, the one place that configures MLflow, so whatever the root logger does with
records (the CLI's file, an application's own logging) applies to MLflow's too.
"""

from __future__ import annotations

import logging
from pathlib import Path

LOG_FILE = Path("logs") / "zerochurn.log"
"""Library log of a workspace, relative to it."""
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MLFLOW_LOGGERS = ("mlflow", "alembic", "huey", "sqlalchemy.engine")
"""Loggers MLflow gives handlers of their own when it is imported."""


class _LazyFileHandler(logging.FileHandler):
    """A file handler that creates its folder and file only when the first record comes."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8", delay=True)

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


_installed: list[logging.Handler] = []
"""The file handler `route_to_file` installed on the root logger, if any."""


def route_to_file(workspace: Path) -> Path:
    """Send library log records (INFO and up) and Python warnings to the workspace's log file.

    The file (and its folder) is created with the first record. Replaces the handler of
    an earlier call, so several commands in one process (tests, `zerochurn run`) write to
    the workspace of the latest. Returns the file's path.
    """
    path = workspace / LOG_FILE
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    handler = _LazyFileHandler(path)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(logging.INFO)
    _installed[:] = [handler]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    return path


def adopt_mlflow_loggers() -> None:
    """Make MLflow's loggers propagate to the root logger instead of printing to stderr.

    Also silences MLflow's direct prints to stderr (`eprint`: "Successfully registered
    model ...", "Created version ..."), which the CLI reports in its own words.
    """
    from mlflow.utils.logging_utils import disable_logging

    for name in MLFLOW_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    disable_logging()

"""The `zerochurn` command line: every Typer command of every stage, in one package.

app.py holds the app, its global options and the data commands (generate, validate,
features, config); training.py, serving.py, monitoring.py and reports.py the commands of
each stage; run.py the whole job; common.py what they share. Stage packages never import
Typer or this package. Nothing heavy is imported at module level, so `zerochurn --help`
stays fast: each command imports the stage it runs.
"""

from zerochurn.cli.app import app, main

__all__ = ["app", "main"]

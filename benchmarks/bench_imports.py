"""Benchmark start-up: importing the service module and `zerochurn --help`, each in a fresh process.

Run: .venv/bin/python benchmarks/bench_imports.py [--repeats 7]
Target (issue #14): measure both before and after the model layer / scoring path move;
the issue found about 6 s for the service module, 0.9 s of it `zerochurn.features`.
Setup (untimed): two source trees, this checkout and commit cf9fc0f (the last one before
#14, extracted with `git archive`), are each laid out as the installed `zerochurn` package
in a temporary folder of symlinks (read from the tree's pyproject.toml package-dir), put
first on PYTHONPATH and used as the current folder (checked: zerochurn is imported from
there, not from the editable install), so both are measured with the same interpreter and
dependencies; their runs interleave so load on the machine falls on both alike. Timed: the wall time of
a fresh `python -c ...` that imports `zerochurn.serving.service` (`service_import_seconds`)
and one that runs the console script's `app` with `--help` (`cli_help_seconds`);
`interpreter_seconds` is `python -c pass`, the floor of both.
Results land in benchmarks/results/imports.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from pathlib import Path

from harness import write_results

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "cf9fc0f"
COMMANDS = {
    "interpreter_seconds": "pass",
    "service_import_seconds": "import zerochurn.serving.service",
    "cli_help_seconds": (
        "import sys; sys.argv = ['zerochurn', '--help']; from zerochurn.cli import app; app()"
    ),
}


def extract_commit(commit: str, into: Path) -> Path:
    """The source tree of `commit` of this repository, written under `into`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def package_farm(tree: Path, into: Path) -> Path:
    """A folder holding `zerochurn/` as pyproject.toml installs it from `tree`, as symlinks."""
    setuptools = tomllib.loads((tree / "pyproject.toml").read_text())["tool"]["setuptools"]
    package = into / "zerochurn"
    package.mkdir(parents=True)
    for entry in (tree / "zerochurn").iterdir():
        (package / entry.name).symlink_to(entry)
    for name, folder in setuptools["package-dir"].items():
        parts = name.split(".")
        if len(parts) == 2:  # zerochurn.<stage> lives in a top-level folder
            (package / parts[1]).symlink_to(tree / folder)
    return into


def _run(code: str, farm: Path, **output: object) -> subprocess.CompletedProcess:
    """A fresh interpreter running `code` on the tree laid out in `farm`.

    It runs in `farm`, so the current folder (first on sys.path under -c) holds nothing
    but that tree: run in a checkout, its own zerochurn/ would be imported instead.
    """
    env = {**os.environ, "PYTHONPATH": str(farm), "BENTOML_DO_NOT_TRACK": "true"}
    return subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=farm, **output)


def check_tree(farm: Path) -> None:
    """Raise unless the interpreter imports zerochurn, and a stage, from `farm`."""
    code = "import zerochurn.serving as s; print(s.__file__)"
    found = Path(_run(code, farm, capture_output=True, text=True).stdout.strip())
    if farm.resolve() not in found.parents and farm not in found.parents:
        raise RuntimeError(f"zerochurn.serving comes from {found}, not from {farm}")


def time_once(code: str, farm: Path) -> float:
    """Seconds of wall time for a fresh interpreter to run `code`, output discarded."""
    started = time.perf_counter()
    _run(code, farm, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description="benchmark: imports")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--sizes", nargs="*", help=argparse.SUPPRESS)  # run_all's; no sizes
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before = extract_commit(BEFORE, Path(folder) / "before")
        farms = {
            f"{BEFORE} (before #14)": package_farm(before, Path(folder) / "before-farm"),
            "this checkout": package_farm(ROOT, Path(folder) / "farm"),
        }
        for farm in farms.values():  # one untimed run writes the bytecode caches
            check_tree(farm)
            for code in COMMANDS.values():
                time_once(code, farm)
        runs = {(tree, key): [] for tree in farms for key in COMMANDS}
        for _ in range(args.repeats):
            for tree, farm in farms.items():
                for key, code in COMMANDS.items():
                    runs[tree, key].append(time_once(code, farm))
    rows = []
    for tree in farms:
        row: dict[str, str | int | float] = {"tree": tree, "repeats": args.repeats}
        row.update({key: statistics.median(runs[tree, key]) for key in COMMANDS})
        rows.append(row)
        print(json.dumps(row))
    write_results("imports", rows)


if __name__ == "__main__":
    main()

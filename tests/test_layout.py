"""The package layout holds: imports go one way, Typer stays in the CLI, nothing heavy loads
where it is not needed (README.md, Layout)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {
    "zerochurn.cli": REPO / "zerochurn" / "cli",
    "zerochurn.model": REPO / "zerochurn" / "model",
    "zerochurn.contract": REPO / "zerochurn" / "contract",
    "zerochurn.features": REPO / "features",
    "zerochurn.training": REPO / "training",
    "zerochurn.serving": REPO / "serving",
    "zerochurn.monitoring": REPO / "monitoring",
    "zerochurn.configs": REPO / "configs",
    "zerochurn.spark": REPO / "zerochurn" / "spark",
    "zerochurn.campaigns": REPO / "zerochurn" / "campaigns",
}
STAGES = ("zerochurn.training", "zerochurn.serving", "zerochurn.monitoring")
CAMPAIGNS = "zerochurn.campaigns"
NEVER = {
    "zerochurn.configs": ("zerochurn.features", "zerochurn.model", CAMPAIGNS, *STAGES),
    "zerochurn.contract": ("zerochurn.features", "zerochurn.model", CAMPAIGNS, *STAGES),
    "zerochurn.features": ("zerochurn.model", CAMPAIGNS, *STAGES),
    "zerochurn.model": (CAMPAIGNS, *STAGES),
    CAMPAIGNS: STAGES,
    "zerochurn.training": ("zerochurn.serving", "zerochurn.monitoring"),
    "zerochurn.serving": ("zerochurn.training", "zerochurn.monitoring"),
    "zerochurn.monitoring": ("zerochurn.training",),
    "zerochurn.spark": ("zerochurn.training", "zerochurn.monitoring"),
}
"""Packages a package must not import: configs, contract -> features -> model -> campaigns ->
training, serving; monitoring -> model, serving; spark -> features, model, serving. No package
but the CLI imports the CLI."""


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """Every module each .py file under `folder` imports, by file (relative imports unused)."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(REPO))] = names
    return found


def under(name: str, roots: tuple[str, ...]) -> bool:
    """Whether module `name` is one of `roots` or inside one."""
    return any(name == root or name.startswith(f"{root}.") for root in roots)


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path} imports {name}"
        for path, names in imported_modules(PACKAGES[package]).items()
        for name in sorted(names)
        if under(name, forbidden)
    ]


@pytest.mark.parametrize("package", sorted(NEVER))
def test_imports_go_one_way(package):
    assert offenders(package, NEVER[package]) == []


@pytest.mark.parametrize("package", sorted(set(PACKAGES) - {"zerochurn.cli"}))
def test_only_the_cli_imports_typer_or_the_cli(package):
    assert offenders(package, ("typer", "zerochurn.cli")) == []


@pytest.mark.parametrize("package", sorted(set(PACKAGES) - {"zerochurn.spark"}))
def test_only_the_spark_package_imports_pyspark(package):
    """pyspark is an optional extra: nothing else may need it installed."""
    assert offenders(package, ("pyspark",)) == []


def imported_by(statement: str) -> set[str]:
    """The modules a fresh interpreter has loaded after `statement`."""
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": "true"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_the_features_package_loads_no_pipeline_on_import():
    loaded = imported_by("import zerochurn.features")
    assert "zerochurn.features.build" not in loaded
    assert "pandas" not in loaded


def test_the_cli_loads_no_data_stack_for_help():
    loaded = imported_by("import zerochurn.cli")
    assert sorted(name for name in loaded if under(name, ("pandas", "mlflow", "sklearn"))) == []


def test_the_service_loads_neither_mlflow_nor_plotting_nor_other_stages():
    loaded = imported_by("import zerochurn.serving.service")
    unwanted = ("mlflow", "matplotlib", "evidently", "typer")
    stages = ("zerochurn.training", "zerochurn.monitoring", "zerochurn.cli")
    assert sorted(name for name in loaded if under(name, (*unwanted, *stages))) == []

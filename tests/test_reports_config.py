"""The reports section of the configuration: defaults from domain.md, clear errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from zerochurn.configs import ConfigError, Settings, load_settings


def test_defaults_are_the_case_study() -> None:
    reports = Settings().reports
    assert (reports.low_score, Settings().features.satisfied_score) == (70, 75)
    assert reports.target is not None
    assert (reports.target.level, reports.target.name) == ("dimension", "complaint_handling")
    assert (reports.target.points, reports.target.months) == (10, 3)


def test_target_can_be_switched_off() -> None:
    settings = load_settings(environ={"ZEROCHURN_REPORTS__TARGET": "null"})
    assert settings.reports.target is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reports.group_by": "plan"}, r"reports\.group_by"),
        ({"reports.target.name": "taste"}, r"unknown dimension 'taste'"),
        ({"reports.target.level": "item", "reports.target.name": "price"}, r"unknown item"),
        ({"reports.target.baseline_quarter": "2025-Q1"}, r"YYYYQn"),
        ({"reports.satisfaction_band_edges": [70, 50]}, r"increase strictly within \(25, 100\)"),
        ({"reports.satisfaction_band_edges": [25, 75]}, r"increase strictly"),
        ({"reports.churn_months": 0}, r"reports\.churn_months"),
    ],
)
def test_invalid_values_name_the_field(overrides, message) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides=overrides, environ={})


def test_commands_module_imports_no_heavy_libraries() -> None:
    code = (
        "import sys, zerochurn.cli.reports; "
        "print(sorted({'pandas', 'matplotlib', 'numpy'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"

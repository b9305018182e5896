"""Typed configuration: defaults, precedence of file < environment < CLI, clear errors."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from zerochurn.configs import ConfigError, Settings, load_settings
from zerochurn.configs.loader import environment_overrides


def test_default_yaml_matches_model_defaults():
    text = resources.files("zerochurn.configs").joinpath("default.yaml").read_text()
    from_yaml = Settings.model_validate(yaml.safe_load(text))
    assert from_yaml == Settings()


def test_precedence_file_then_environment_then_cli(tmp_path):
    config_file = tmp_path / "my.yaml"
    config_file.write_text("generate:\n  customers: 10\n  seed: 1\nchurn:\n  horizon_days: 30\n")
    env = {"ZEROCHURN_GENERATE__SEED": "2", "ZEROCHURN_CHURN__HORIZON_DAYS": "45"}
    settings = load_settings(config_file, {"churn.horizon_days": 60}, environ=env)
    assert settings.generate.customers == 10  # file
    assert settings.generate.seed == 2  # environment beats file
    assert settings.churn.horizon_days == 60  # CLI beats environment
    assert settings.generate.months == Settings().generate.months  # untouched default


def test_workspace_from_environment_and_derived_paths(tmp_path):
    settings = load_settings(environ={"ZEROCHURN_WORKSPACE": str(tmp_path / "ws")})
    assert settings.data_dir == tmp_path / "ws" / "data"
    assert settings.tracking_uri == f"sqlite:///{tmp_path / 'ws' / 'mlflow' / 'mlflow.db'}"


def test_unrelated_zerochurn_variables_are_ignored():
    assert environment_overrides({"ZEROCHURN_API_KEYS": "a,b", "HOME": "/root"}) == {}


def test_explicit_null_override_clears_a_setting():
    env = {"ZEROCHURN_MLFLOW__TRACKING_URI": "http://example.invalid"}
    settings = load_settings(overrides={"mlflow.tracking_uri": None}, environ=env)
    assert settings.mlflow.tracking_uri is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"churn.definition": "vibes"}, r"churn\.definition"),
        ({"generate.customers": 0}, r"generate\.customers"),
        ({"generate.drift": "price_increase"}, r"drift and drift_from must be given together"),
        ({"generate.drift_from": "2024-13", "generate.drift": "new_segment"}, r"YYYY-MM"),
        ({"features.satisfaction_index_weights": {"taste": 1.0}}, r"unknown dimensions"),
        ({"churn.horizon_dayz": 3}, r"churn\.horizon_dayz"),
    ],
)
def test_invalid_values_name_the_field(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides=overrides, environ={})


def test_bad_config_file_is_named(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="nope.yaml: config file not found"):
        load_settings(missing, environ={})
    broken = tmp_path / "broken.yaml"
    broken.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="broken.yaml: expected a mapping"):
        load_settings(broken, environ={})


def test_settings_are_frozen():
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.churn.horizon_days = 1


def test_config_command_masks_secrets(tmp_path):
    """`zerochurn config` printed the API keys; a password in the tracking URI too."""
    from typer.testing import CliRunner

    from zerochurn.cli import app

    env = {
        "ZEROCHURN_SERVING__API_KEYS": "[s3cret-one, s3cret-two]",
        "ZEROCHURN_MLFLOW__TRACKING_URI": "https://ops:hunter2@mlflow.internal:5000/x",
    }
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path), "config"], env=env)
    assert result.exit_code == 0, result.output
    printed = yaml.safe_load(result.output)
    assert printed["serving"]["api_keys"] == ["****", "****"]
    assert printed["mlflow"]["tracking_uri"] == "https://ops:****@mlflow.internal:5000/x"
    assert "s3cret" not in result.output and "hunter2" not in result.output
    assert printed["generate"] == Settings().generate.model_dump(mode="json")

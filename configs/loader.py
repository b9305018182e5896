"""Build Settings from default.yaml, a user YAML file, ZEROCHURN_* variables and CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from zerochurn.configs.settings import Settings

ENV_PREFIX = "ZEROCHURN_"
ENV_NESTING = "__"


class ConfigError(ValueError):
    """Configuration that cannot be read or does not fit the Settings model."""


def _read_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of settings, got {type(data).__name__}")
    return data


def _deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _nest(dotted: Mapping[str, Any], separator: str) -> dict[str, Any]:
    """Turn {"a.b": 1} into {"a": {"b": 1}}."""
    nested: dict[str, Any] = {}
    for key, value in dotted.items():
        *parents, leaf = key.split(separator)
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def environment_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Settings from ZEROCHURN_* variables whose first part names a settings section.

    Values are parsed as YAML scalars, so ``ZEROCHURN_GENERATE__CUSTOMERS=100`` is an int.
    Variables for other purposes (such as ZEROCHURN_API_KEYS) are left alone.
    """
    sections = set(Settings.model_fields)
    found: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key.split(ENV_NESTING)[0] in sections:
            found[key] = _read_yaml(f"v: {raw}", f"environment variable {name}")["v"]
    return _nest(found, ENV_NESTING)


def _describe(exc: ValidationError, source: str) -> str:
    lines = [f"invalid configuration ({source}):"]
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "<root>"
        lines.append(f"  {field}: {error['msg']} (got {error.get('input')!r})")
    return "\n".join(lines)


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Load Settings: packaged defaults < config_file < environment < overrides.

    Parameters
    ----------
    config_file
        Optional YAML file with any subset of the settings.
    overrides
        Dotted keys from the CLI, e.g. ``{"generate.customers": 100}``; None sets a null.
    environ
        Environment to read ZEROCHURN_* variables from; defaults to ``os.environ``.
    """
    default_text = resources.files("zerochurn.configs").joinpath("default.yaml").read_text()
    merged = _read_yaml(default_text, "configs/default.yaml")
    sources = ["configs/default.yaml"]
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        merged = _deep_merge(merged, _read_yaml(path.read_text(), str(path)))
        sources.append(str(path))
    env = environment_overrides(os.environ if environ is None else environ)
    if env:
        merged = _deep_merge(merged, env)
        sources.append("ZEROCHURN_* environment")
    if overrides:
        merged = _deep_merge(merged, _nest(overrides, "."))
        sources.append("command line")
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, " < ".join(sources))) from exc

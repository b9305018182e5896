"""Typed configuration: pydantic models (settings.py) filled from YAML, environment and CLI."""

from zerochurn.configs.loader import ConfigError, load_settings
from zerochurn.configs.settings import Settings

__all__ = ["ConfigError", "Settings", "load_settings"]

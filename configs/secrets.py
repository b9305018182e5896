"""Secrets in the configuration: which settings hold them, and their masked display.

Secrets belong in the environment (ZEROCHURN_API_KEYS), but a config file or --set may
still carry them; whatever shows or records the settings (`zerochurn config`, a training
run's parameters, an error naming the tracking URI) shows them masked.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from zerochurn.configs.settings import Settings

MASK = "****"
SECRET_SETTINGS = ("serving.api_keys",)
"""Dotted settings whose values are secrets: each value is shown as MASK."""
URI_SETTINGS = ("mlflow.tracking_uri",)
"""Dotted settings holding a URI whose password (user:password@host) is a secret."""


def redact_uri(uri: str) -> str:
    """`uri` with the password of its user:password@ part masked; other URIs unchanged."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:{MASK}@{host}"))


def _mask(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [MASK for _ in value]
    return None if value is None else MASK


def redacted(settings: Settings) -> dict[str, Any]:
    """The settings as JSON-ready data (model_dump(mode="json")) with every secret masked."""
    data = settings.model_dump(mode="json")
    for dotted in (*SECRET_SETTINGS, *URI_SETTINGS):
        *sections, leaf = dotted.split(".")
        node = data
        for section in sections:
            node = node[section]
        if dotted in SECRET_SETTINGS:
            node[leaf] = _mask(node[leaf])
        elif node[leaf] is not None:
            node[leaf] = redact_uri(node[leaf])
    return data

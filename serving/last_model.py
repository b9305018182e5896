"""The last champion the service loaded from MLflow, kept in the workspace so that the
service can start while the tracking server is unreachable.

`load_champion_kept` loads the registry's champion through a copy of its model files in
<workspace>/serving/last-champion/ (`KEPT_DIR`): model/ as MLflow wrote it and
champion.json naming the registered version. The copy is made once per version, whole
or not at all (zerochurn.io), under the folder's lock, so workers starting together do
not race. `load_last` loads that copy with no registry at all; `load_at_start` falls
back to it when MLflow is unreachable, and says so. A reload never falls back: it keeps
the model it serves and answers why (docs/serving.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from zerochurn.configs.settings import Settings
from zerochurn.io import atomic_directory, exclusive
from zerochurn.model.champion import (
    ChampionVersion,
    ModelUnavailableError,
    RegistryUnavailableError,
)
from zerochurn.serving.model import ScoringModel

KEPT_DIR = Path("serving") / "last-champion"
"""Folder of the kept champion inside the workspace."""
MODEL_FOLDER = "model"
RECORD_FILE = "champion.json"
KEPT_SOURCE = "kept:"
"""Prefix of ScoringModel.source for a model loaded from the kept copy (then its folder)."""

log = logging.getLogger(__name__)


def kept_dir(settings: Settings) -> Path:
    """Where the last champion the service loaded is kept."""
    return settings.workspace / KEPT_DIR


def kept_version(settings: Settings) -> ChampionVersion | None:
    """The registered version whose copy is kept, or None when none (readable) is."""
    try:
        return ChampionVersion(**json.loads((kept_dir(settings) / RECORD_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def keep(settings: Settings, found: ChampionVersion) -> Path:
    """Copy the model files of `found` into the kept folder unless they are there; the
    local model folder to load.

    Raises RegistryUnavailableError when MLflow cannot be reached to copy them.
    """
    from zerochurn.model.registry import download_champion  # MLflow: see serving/model.py

    folder = kept_dir(settings)
    with exclusive(folder.parent, f".{folder.name}.lock"):
        if kept_version(settings) != found:
            with atomic_directory(folder) as staging:
                download_champion(settings, found, staging / MODEL_FOLDER)
                (staging / RECORD_FILE).write_text(json.dumps(asdict(found), indent=2))
    return folder / MODEL_FOLDER


def load_champion_kept(settings: Settings) -> ScoringModel:
    """The registry's champion, loaded through its kept copy (`keep`)."""
    from zerochurn.model.registry import find_champion, load_champion_from

    found = find_champion(settings)
    champion = load_champion_from(str(keep(settings, found)), found)
    return ScoringModel.from_champion(champion, source="mlflow")


def load_last(settings: Settings) -> ScoringModel | None:
    """The kept champion, loaded without MLflow; None when none is kept."""
    from zerochurn.model.registry import load_champion_from

    folder = kept_dir(settings)
    found = kept_version(settings)
    if found is None:
        return None
    champion = load_champion_from(str(folder / MODEL_FOLDER), found)
    return ScoringModel.from_champion(champion, source=f"{KEPT_SOURCE}{folder}")


def unreachable_note(error: RegistryUnavailableError, settings: Settings, version: str) -> str:
    """What a service starting from the kept champion `version` says about it."""
    return (
        f"{error}; starting from the last champion this service loaded, version {version}, "
        f"kept in {kept_dir(settings)}: POST /reload moves to the registry's champion once "
        "MLflow answers"
    )


def load_at_start(settings: Settings, loader: Callable[[Settings], ScoringModel]) -> ScoringModel:
    """The champion `loader` gives, or the kept one when MLflow is unreachable (logged
    as a warning). Raises the registry's error when nothing is kept either."""
    try:
        return loader(settings)
    except RegistryUnavailableError as exc:
        model = load_last(settings)
        if model is None:
            raise ModelUnavailableError(
                f"{exc}; no champion is kept in {kept_dir(settings)} from an earlier start"
            ) from exc
        log.warning(unreachable_note(exc, settings, model.version))
        return model

"""The raw data behind the web pages: the data folder the latest scores came from.

The snapshot store records the folder its batch was built from (SnapshotInfo.data_dir;
the configured data folder for older snapshots). For that folder `DataViews` keeps the
customer index (customer_index.py) and the programme reports (programme.py), built once
per state of the folder, in a background thread when the service starts and again when
the folder changes (a new `zerochurn score` from another folder, rewritten tables). A
page that needs them while they are being built waits for them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from zerochurn.configs.settings import ReportsConfig, Settings
from zerochurn.serving.store import SnapshotMissingError, SnapshotStore
from zerochurn.serving.web.customer_index import (
    CustomerIndex,
    build_customer_index,
    folder_fingerprint,
    index_path,
)

if TYPE_CHECKING:
    from zerochurn.serving.web.programme import ReportView

SATISFACTION_GROUPS: tuple[str, ...] = get_args(ReportsConfig.model_fields["group_by"].annotation)
"""The groupings of the satisfaction page: region and segment (customer type)."""
CACHE_FOLDER = "web"
"""Folder of the workspace the customer index goes to, unless web.cache_dir is set."""

logger = logging.getLogger(__name__)


class DataUnavailableError(LookupError):
    """The raw data folder of the latest scores is missing or unreadable; the message says why."""


@dataclass(frozen=True)
class FolderViews:
    """What the pages read from one state of a data folder.

    reports: programme report views by name (programme.programme_reports); problems: why
    a report is missing, by the same name.
    """

    data_dir: Path
    fingerprint: str
    index: CustomerIndex
    reports: dict[str, ReportView]
    problems: dict[str, str]


def cache_dir(settings: Settings) -> Path:
    """Where customer indexes are kept."""
    configured = settings.web.cache_dir
    return configured if configured is not None else settings.workspace / CACHE_FOLDER


def build_views(data_dir: Path, fingerprint: str, settings: Settings) -> FolderViews:
    """Load the folder once; build (or reuse) its customer index and its programme reports.

    Raises DataUnavailableError when the folder does not pass the data contract.
    """
    from zerochurn.contract.validate import DataValidationError, load_raw
    from zerochurn.serving.web.programme import programme_reports  # matplotlib: only here

    try:
        raw = load_raw(data_dir, as_of=settings.data.as_of)
    except DataValidationError as exc:
        raise DataUnavailableError(f"{data_dir} does not pass the data contract: {exc}") from exc
    index = CustomerIndex(build_customer_index(raw, index_path(cache_dir(settings), fingerprint)))
    reports, problems = programme_reports(raw, settings)
    return FolderViews(data_dir, fingerprint, index, reports, problems)


class DataViews:
    """The views of the data folder of the latest scores, rebuilt when the folder changes."""

    def __init__(self, settings: Settings, store: SnapshotStore) -> None:
        self.settings = settings
        self.store = store
        self._lock = threading.Lock()
        self._key: tuple[Path, str] | None = None
        self._state: FolderViews | DataUnavailableError = DataUnavailableError("not built yet")

    def data_dir(self) -> Path:
        """The folder the latest batch was built from; the configured one if not recorded."""
        try:
            recorded = self.store.info().data_dir
        except SnapshotMissingError:
            recorded = None
        return Path(recorded) if recorded is not None else self.settings.data_dir.resolve()

    def current(self) -> FolderViews:
        """The views of the folder as it is now (built if needed; waits for a build).

        Raises DataUnavailableError saying why there are none.
        """
        folder = self.data_dir()
        if not folder.is_dir():
            raise DataUnavailableError(
                f"the raw data folder {folder} of the latest scores is not there"
            )
        key = (folder, folder_fingerprint(folder))
        with self._lock:
            if key != self._key:
                try:
                    self._state = build_views(folder, key[1], self.settings)
                except DataUnavailableError as exc:
                    self._state = exc
                self._key = key
            state = self._state
        if isinstance(state, DataUnavailableError):
            raise state
        return state

    def warm(self) -> threading.Thread:
        """Build the views in a background thread, so the first page does not wait long."""

        def build() -> None:
            try:
                self.current()
            except DataUnavailableError as exc:
                logger.warning("web workspace: %s", exc)

        thread = threading.Thread(target=build, name="web-data-views", daemon=True)
        thread.start()
        return thread

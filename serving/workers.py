"""The service's worker processes: each dies with its server, and all serve one model.

`bentoml serve` runs a supervisor (a circus arbiter) that starts `serving.workers` worker
processes; each is a fresh interpreter in a session of its own that runs the service's
`__init__` (and so loads the model) and shares the one listening socket. Two gaps:

- killed with SIGKILL, the supervisor leaves its workers running, holding the port, and
  the next start fails with "Address already in use". `die_with_parent` asks Linux to send
  the worker SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG), so the worker shuts
  down gracefully and the port is free;
- `/reload` reaches only the worker that answers it. `ModelPin` lets that worker publish
  exactly which model it loaded (a small JSON file replaced atomically); every other worker
  polls it, loads that same version in the background while it keeps serving its old
  model, and confirms; /reload answers once every worker has confirmed (or a timeout).

The files live in `<workspace>/serving/server-<supervisor pid>/`: a new server (another pid)
never reads an old server's pin, and a respawned worker loads the pin of its own server.
Folders of servers no longer running are removed when a worker starts.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import json
import logging
import os
import shutil
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zerochurn.io import atomic_path

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
"""linux/prctl.h: the signal a process gets when its parent dies."""
STATE_FOLDER = "serving"
SERVER_PREFIX = "server-"
PIN_FILE = "model.json"
LOCK_FILE = "model.lock"
WORKER_FILE = "worker-{index}.json"


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> bool:
    """Have Linux send `sig` to this process when its parent dies; False where unsupported.

    If the parent died before the request took effect (this process already has another
    parent), the signal is sent at once.
    """
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):  # not Linux
        return False
    if prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def server_folder(workspace: Path, server: int) -> Path:
    """Folder of the pin and confirmations of the server whose supervisor has pid `server`."""
    return Path(workspace) / STATE_FOLDER / f"{SERVER_PREFIX}{server}"


def remove_stale_servers(workspace: Path) -> list[Path]:
    """Remove the folders of servers whose supervisor is gone; return them."""
    removed = []
    parent = Path(workspace) / STATE_FOLDER
    for folder in parent.glob(f"{SERVER_PREFIX}*") if parent.is_dir() else ():
        pid = folder.name.removeprefix(SERVER_PREFIX)
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _write_json(path: Path, value: Mapping[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class Pin:
    """A published model: its generation (1, 2, ... per server) and how to load it exactly."""

    generation: int
    model: dict[str, Any]


class ModelPin:
    """The model every worker of one server serves, shared through files.

    Parameters
    ----------
    folder : `server_folder(workspace, supervisor pid)`
    worker : this worker's index, 1..workers
    workers : how many workers the server runs
    """

    def __init__(self, folder: Path, worker: int, workers: int) -> None:
        self.folder = Path(folder)
        self.worker = worker
        self.workers = workers
        self.folder.mkdir(parents=True, exist_ok=True)

    def read(self) -> Pin | None:
        """The latest published pin of this server, None before the first /reload."""
        value = _read_json(self.folder / PIN_FILE)
        return None if value is None else Pin(value["generation"], value["model"])

    def publish(self, model: Mapping[str, Any]) -> int:
        """Publish `model` (ScoringModel.pin) as the next generation; return that generation."""
        with (self.folder / LOCK_FILE).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two workers reloading at once count on
            current = self.read()
            generation = 1 if current is None else current.generation + 1
            _write_json(self.folder / PIN_FILE, {"generation": generation, "model": dict(model)})
        return generation

    def confirm(self, generation: int, version: str) -> None:
        """Record that this worker serves `generation` (model `version`)."""
        path = self.folder / WORKER_FILE.format(index=self.worker)
        _write_json(path, {"generation": generation, "version": version, "pid": os.getpid()})

    def confirmed(self, generation: int) -> int:
        """How many workers serve `generation` or a later one."""
        count = 0
        for index in range(1, self.workers + 1):
            value = _read_json(self.folder / WORKER_FILE.format(index=index))
            count += value is not None and value["generation"] >= generation
        return count


class PinFollower:
    """A daemon thread that polls the pin and hands `follow` every pin newer than this worker's.

    generation() is the generation this worker serves; `follow(pin)` loads and swaps in the
    pinned model (the old one serves meanwhile). A failure is logged and retried at the
    next poll.
    """

    def __init__(
        self,
        pins: ModelPin,
        generation: Callable[[], int],
        follow: Callable[[Pin], None],
        every: float,
    ) -> None:
        self.pins = pins
        self.generation = generation
        self.follow = follow
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="model-pin", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            latest = self.pins.read()
            if latest is None or latest.generation <= self.generation():
                continue
            try:
                self.follow(latest)
            except Exception:
                logger.exception(
                    "worker %s could not load the model of generation %s; retrying",
                    self.pins.worker,
                    latest.generation,
                )

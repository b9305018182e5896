"""Durable JSON-lines files: appends that survive a killed writer, reads that skip torn tails.

Appends of one process are committed in groups (group commit): a thread appending while
another commits waits, and the next commit takes whatever queued meanwhile. Per file a
commit takes an exclusive ``flock``, cuts off any torn tail an earlier, killed writer left
(the bytes after the last newline: never acknowledged), writes the records as lines,
fsyncs the file once for all of them (and, the first time this process writes the file,
its folder, which makes its name durable), and only then lets the callers return. So a
record whose append returned is on disk, and a record is either whole or absent, while
many threads share each fsync (1-4 ms on the development box: docs/monitoring.md). With
durability "os" the records are written to the operating system but not fsync'd: they
survive the process being killed, not a power loss.

Readers take no lock: a last line without its newline is a write in progress or a torn
one and is skipped. `write_file` creates a whole file with the same promise (temp file,
fsync, rename, fsync of the folder), for data too big for a line. Needs a local
filesystem, where flock and fsync keep these promises.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from zerochurn.io import atomic_path

RECORD_END = b"\n"
FILE_MODE = 0o666
"""Mode of a new journal file before the umask, as a plain create would give."""

Durability = Literal["fsync", "os"]
"""When an append returns: its records fsync'd to disk, or written to the operating system."""


def _cut_torn_tail(fd: int) -> None:
    """Truncate the file after its last newline (the caller holds the lock)."""
    end = os.fstat(fd).st_size
    if end == 0 or os.pread(fd, 1, end - 1) == RECORD_END:
        return
    # Records are single lines of modest size; reading the file from the start is rare
    # (only after a crash) and keeps this simple.
    content = os.pread(fd, end, 0)
    os.ftruncate(fd, content.rfind(RECORD_END) + 1)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync(path: Path) -> None:
    """fsync a file (its data) or a folder (the names in it: makes a creation or rename durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Pending:
    """One queued line: where it goes, and its outcome once committed."""

    __slots__ = ("path", "line", "done", "error")

    def __init__(self, path: Path, line: bytes) -> None:
        self.path = path
        self.line = line
        self.done = False
        self.error: BaseException | None = None


class GroupCommit:
    """Appends of many threads, committed in batches: one write and fsync per file and batch.

    The thread that finds no commit under way commits everything queued (its own line
    included) and wakes the others; lines queued meanwhile wait for the next commit, which
    one of their threads makes. A thread alone commits its own line at once, with no
    hand-over to another thread.

    Parameters
    ----------
    durability : "fsync" (lines are on disk when `append` returns) or "os" (written only)
    interval : least seconds between the starts of two commits; 0 commits as soon as the
        previous one is done, with whatever queued meanwhile
    """

    def __init__(self, durability: Durability, interval: float) -> None:
        self.sync = durability == "fsync"
        self.interval = interval
        self._state = threading.Condition()
        self._queue: list[_Pending] = []
        self._committing = False
        self._started = 0.0
        self._named: set[Path] = set()  # files whose folder entry this process fsync'd

    def append(self, path: Path, line: bytes) -> None:
        """Queue `line` (ending in RECORD_END) for `path`; return once it is committed."""
        pending = _Pending(path, line)
        with self._state:
            self._queue.append(pending)
            while not pending.done:
                if self._committing:
                    self._state.wait()
                    continue
                self._committing = True
                self._state.release()
                try:
                    self._commit_queue()
                finally:
                    self._state.acquire()
                    self._committing = False
                    self._state.notify_all()
        if pending.error is not None:
            raise pending.error

    def _commit_queue(self) -> None:
        """Commit what is queued (after the interval), per file; record each line's outcome."""
        wait = self._started + self.interval - time.monotonic()
        if wait > 0:  # sleep(0) would still give the processor away
            time.sleep(wait)
        self._started = time.monotonic()
        with self._state:
            batch, self._queue = self._queue, []
        by_file: dict[Path, list[_Pending]] = {}
        for pending in batch:
            by_file.setdefault(pending.path, []).append(pending)
        for path, items in by_file.items():
            try:
                self._commit(path, b"".join(pending.line for pending in items))
            except BaseException as exc:  # every caller of the batch learns of it
                for pending in items:
                    pending.error = exc
            for pending in items:
                pending.done = True

    def _commit(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _cut_torn_tail(fd)
            _write_all(fd, data)
            if self.sync:
                os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock
        if self.sync and path not in self._named:
            _fsync(path.parent)  # the file's name: once per file and process
            self._named.add(path)


_committers: dict[tuple[Durability, float], GroupCommit] = {}
_committers_lock = threading.Lock()


def _forget_committers() -> None:
    """In a forked child: the parent's locks may be held by threads that do not exist there."""
    global _committers_lock
    _committers_lock = threading.Lock()
    _committers.clear()


os.register_at_fork(after_in_child=_forget_committers)


def _committer(durability: Durability, interval: float) -> GroupCommit:
    """This process's writer for `durability` and `interval`, started on first use."""
    key = (durability, interval)
    with _committers_lock:
        if key not in _committers:
            _committers[key] = GroupCommit(durability, interval)
        return _committers[key]


def append_record(
    path: Path,
    record: Mapping[str, Any],
    *,
    durability: Durability = "fsync",
    interval: float = 0.0,
) -> None:
    """Append `record` as one JSON line to `path`; return once it is on disk (or, with
    durability "os", written to the operating system).

    Values must be JSON types; NaN is refused (write None for a missing value). Appends of
    concurrent threads share a commit (see GroupCommit; `interval` in seconds).
    """
    line = json.dumps(record, allow_nan=False, separators=(",", ":")).encode() + RECORD_END
    _committer(durability, interval).append(Path(path), line)


def write_file(path: Path, write: Callable[[Path], object]) -> None:
    """Create `path` whole, durably: return only once it is on disk under its name.

    `write` fills a temporary file beside `path` (zerochurn.io.atomic_path names it
    ``.<name>.<random>.tmp``); it is fsync'd, renamed onto `path`, and the folder fsync'd.
    So `path` is complete or absent, even if the process is killed: a killed writer may
    leave only the temporary file. If `write` raises, the temporary file is removed.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        write(tmp)
        _fsync(tmp)
    _fsync(path.parent)


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every complete record of `path`, oldest first; a torn last line is left out.

    Raises ValueError naming the file and line when a complete line is not a JSON object.
    """
    path = Path(path)
    *lines, _torn_or_empty = path.read_bytes().split(RECORD_END)
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: line {number} is not valid JSON ({exc})") from exc
        if not isinstance(record, dict):
            raise ValueError(
                f"{path}: line {number} is {type(record).__name__}: expected an object"
            )
        records.append(record)
    return records

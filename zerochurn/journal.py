"""Durable JSON-lines files: appends that survive a killed writer, reads that skip torn tails.

A writer takes an exclusive ``flock`` on the file, cuts off any torn tail an earlier,
killed writer left (the bytes after the last newline: never acknowledged), writes its
record as one line, fsyncs the file and its folder, and only then returns. So a record
whose append returned is on disk, and a record is either whole or absent. Readers take no
lock: a last line without its newline is a write in progress or a torn one and is skipped.
`write_file` creates a whole file with the same promise (temp file, fsync, rename, fsync of
the folder), for data too big for a line. Needs a local filesystem, where flock and fsync
keep these promises.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from zerochurn.io import atomic_path

RECORD_END = b"\n"
FILE_MODE = 0o666
"""Mode of a new journal file before the umask, as a plain create would give."""


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


def append_record(path: Path, record: Mapping[str, Any]) -> None:
    """Append `record` as one JSON line to `path` and return only once it is on disk.

    Values must be JSON types; NaN is refused (write None for a missing value).
    """
    line = json.dumps(record, allow_nan=False, separators=(",", ":")).encode() + RECORD_END
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _cut_torn_tail(fd)
        _write_all(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock
    _fsync(path.parent)


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

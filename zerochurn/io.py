"""File output that is never half-written: everything goes to a temp path, then is renamed.

A writer killed before the rename leaves its temp file (`.<name>.<random>.tmp`) behind;
`remove_temporaries` deletes them, under the folder's `exclusive` lock so that no live
writer's file goes.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from zerochurn.crash import crash_point

TEMP_SUFFIX = ".tmp"
"""Suffix of the temporary files and folders of `atomic_path` and `atomic_directory`."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _chmod_default(path: Path, base_mode: int) -> None:
    """Give a temp file or folder the permissions a plain create would have (mkstemp uses 0600)."""
    os.chmod(path, base_mode & ~_umask())


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success rename it onto `target`.

    On an exception the temporary file is removed and `target` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _chmod_default(tmp, 0o666)
        crash_point(f"before-rename:{target.name}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `target`; on success it replaces `target` whole."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    )
    try:
        yield staging
        _chmod_default(staging, 0o777)
        if target.exists():
            retired = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            os.replace(target, retired / target.name)
            os.replace(staging, target)
            shutil.rmtree(retired)
        else:
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def exclusive(folder: Path, name: str = ".write.lock") -> Iterator[None]:
    """Hold the exclusive lock of `folder` (file `name` in it) for the block.

    Waits while another process holds it; the operating system releases it when the
    holder exits, however it exits (flock), so a killed writer never leaves it held.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete the temp files and folders of atomic writes killed before their rename.

    Call it holding `exclusive(folder)`, the lock every writer of the folder holds, so that
    whatever is left is stale. Returns what was deleted.
    """
    folder = Path(folder)
    stale = sorted(folder.glob(f".*{TEMP_SUFFIX}")) if folder.is_dir() else []
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` to `path` as Parquet or CSV (by suffix), atomically."""
    path = Path(path)
    writers = {
        ".parquet": lambda p: frame.to_parquet(p, index=False),
        ".csv": lambda p: frame.to_csv(p, index=False),
    }
    if path.suffix not in writers:
        raise ValueError(
            f"{path}: unsupported table format {path.suffix!r}: expected .parquet or .csv"
        )
    with atomic_path(path) as tmp:
        writers[path.suffix](tmp)
    return path


def write_json(data: Any, path: Path) -> Path:
    """Write `data` as indented JSON to `path`, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path

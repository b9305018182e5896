"""Atomic output: a failure mid-write leaves the previous file or folder untouched."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from zerochurn.io import atomic_directory, atomic_path, write_json, write_table


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_failed_directory_write_keeps_old_folder(tmp_path):
    target = tmp_path / "data"
    target.mkdir()
    (target / "a.csv").write_text("old")
    with pytest.raises(RuntimeError), atomic_directory(target) as staging:
        (staging / "b.csv").write_text("new")
        raise RuntimeError("killed")
    assert [p.name for p in target.iterdir()] == ["a.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_directory_is_replaced_whole(tmp_path):
    target = tmp_path / "data"
    target.mkdir()
    (target / "stale.csv").write_text("old")
    with atomic_directory(target) as staging:
        (staging / "fresh.csv").write_text("new")
    assert [p.name for p in target.iterdir()] == ["fresh.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_write_table_round_trip(tmp_path, suffix):
    frame = pd.DataFrame({"customer_id": ["a", "b"], "amount": [1.5, 2.0]})
    path = write_table(frame, tmp_path / f"t{suffix}")
    back = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_write_table_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError, match=r"t\.xlsx: unsupported table format '\.xlsx'"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_write_json(tmp_path):
    path = write_json({"a": 1}, tmp_path / "sub" / "x.json")
    assert json.loads(path.read_text()) == {"a": 1}


def test_outputs_get_ordinary_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        file_path = write_json({"a": 1}, tmp_path / "x.json")
        with atomic_directory(tmp_path / "d") as staging:
            (staging / "t.txt").write_text("x")
    finally:
        os.umask(previous)
    assert file_path.stat().st_mode & 0o044 == 0o044  # readable by group and others
    assert (tmp_path / "d").stat().st_mode & 0o055 == 0o055

"""The prediction log: round trips, time windows, torn tails and writers killed mid-append."""

from __future__ import annotations

import datetime as dt
import json
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from zerochurn.configs import ConfigError, load_settings
from zerochurn.monitoring import prediction_log
from zerochurn.monitoring.journal import append_record, read_records


def scored(rows: int = 3, **columns) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(rows)],
            "as_of": pd.Timestamp("2026-02-01"),
            "tenure_days": np.arange(rows) * 10,
            "satisfaction_index": [np.nan, *np.linspace(40.0, 80.0, rows - 1)],
            "region": ["north", None, *["east"] * (rows - 2)],
            "churn_probability": np.linspace(0.05, 0.5, rows),
        }
    )
    return frame.assign(**columns)


def test_rows_read_back_as_written_with_their_metadata(tmp_path):
    frame = scored()
    path = prediction_log.append(
        frame, tmp_path, model_version="3", source="batch", scored_at="2026-02-01T06:00:00"
    )
    assert path == tmp_path / "predictions-2026-02-01.jsonl"
    back = prediction_log.read(tmp_path)
    assert list(back.columns) == [*prediction_log.METADATA_COLUMNS, *frame.columns]
    assert (back["model_version"] == "3").all() and (back["source"] == "batch").all()
    assert (back["scored_at"] == pd.Timestamp("2026-02-01T06:00:00", tz="UTC")).all()
    pd.testing.assert_frame_equal(back[frame.columns], frame, check_dtype=False)
    assert back["satisfaction_index"].isna().tolist() == [True, False, False]
    assert back["region"].isna().tolist() == [False, True, False]


def test_a_line_is_one_batch_stored_column_by_column(tmp_path):
    path = prediction_log.append(scored(2), tmp_path, model_version="3", source="service")
    (record,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert record["rows"] == 2 and record["dates"] == ["as_of"]
    assert record["columns"]["as_of"] == ["2026-02-01T00:00:00"] * 2
    assert record["columns"]["satisfaction_index"][0] is None


@hypothesis_settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False)),
            st.sampled_from(["north", "", None]),
            st.booleans(),
            st.integers(-3, 3),
            st.one_of(st.none(), st.datetimes(min_value=dt.datetime(2000, 1, 1))),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_a_few_rows_are_logged_as_they_are_among_many(rows):
    # A service request (few rows) takes a faster path than a batch: the same lines.
    frame = pd.DataFrame(rows, columns=["x", "region", "flag", "count", "as_of"]).astype(
        {"region": "str", "as_of": "datetime64[us]"}
    )
    frame["churn_probability"] = 0.5
    many = pd.concat([frame] * (prediction_log.FEW_ROWS // len(frame) + 1), ignore_index=True)
    with tempfile.TemporaryDirectory() as folder:
        lines = []
        for part in (frame, many):
            path = prediction_log.append(
                part, Path(folder) / str(len(part)), model_version="1", source="service"
            )
            lines.append(json.loads(path.read_text())["columns"])
    assert lines[0] == {name: values[: len(frame)] for name, values in lines[1].items()}


def test_since_and_until_select_by_scoring_time_across_day_files(tmp_path):
    for day in ("2026-01-30", "2026-01-31", "2026-02-01"):
        stamp = pd.Timestamp(f"{day}T12:00:00", tz="UTC")
        prediction_log.append(
            scored(), tmp_path, model_version="1", source="batch", scored_at=stamp
        )
    assert len(list(tmp_path.iterdir())) == 3
    window = prediction_log.read(tmp_path, since="2026-01-31", until="2026-02-01T12:00:00")
    assert window["scored_at"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2026-01-31"]
    assert len(prediction_log.read(tmp_path, since="2026-01-30T12:00:01")) == 6


def test_batches_with_other_columns_are_unioned_in_time_order(tmp_path):
    prediction_log.append(
        scored(), tmp_path, model_version="1", source="batch", scored_at="2026-01-01T01:00"
    )
    prediction_log.append(
        scored().drop(columns=["region"]).assign(extra=1),
        tmp_path,
        model_version="2",
        source="service",
        scored_at="2026-01-01T02:00",
    )
    prediction_log.append(
        scored(), tmp_path, model_version="1", source="batch", scored_at="2026-01-01T03:00"
    )
    back = prediction_log.read(tmp_path)
    assert back["model_version"].tolist() == ["1"] * 3 + ["2"] * 3 + ["1"] * 3
    assert back["extra"].isna().sum() == 6 and back["region"].isna().sum() == 2 + 3


def test_an_absent_log_reads_as_no_rows(tmp_path):
    empty = prediction_log.read(tmp_path / "nothing")
    assert empty.empty and list(empty.columns) == list(prediction_log.METADATA_COLUMNS)
    assert empty[empty["scored_at"] >= pd.Timestamp("2026-01-01", tz="UTC")].empty


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (scored().drop(columns="churn_probability"), {}, "no 'churn_probability' column"),
        (scored(scored_at="x"), {}, r"columns \['scored_at'\]: reserved"),
        (scored(), {"source": "notebook"}, "source='notebook': expected one of"),
        (scored(), {"model_version": ""}, "model_version is empty"),
    ],
)
def test_bad_appends_are_refused(tmp_path, frame, kwargs, message):
    arguments = {"model_version": "1", "source": "batch"} | kwargs
    with pytest.raises(ValueError, match=message):
        prediction_log.append(frame, tmp_path, **arguments)
    assert not list(tmp_path.iterdir())


def test_a_torn_tail_is_skipped_then_cut_by_the_next_writer(tmp_path):
    path = tmp_path / "journal.jsonl"
    append_record(path, {"n": 1})
    with path.open("ab") as handle:  # what a writer killed mid-write leaves
        handle.write(b'{"n": 2, "half')
    assert read_records(path) == [{"n": 1}]
    append_record(path, {"n": 3})
    assert read_records(path) == [{"n": 1}, {"n": 3}]
    assert path.read_bytes() == b'{"n":1}\n{"n":3}\n'


def test_a_damaged_complete_line_names_file_and_line(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"n": 1}\nnot json\n')
    with pytest.raises(ValueError, match=r"journal.jsonl: line 2 is not valid JSON"):
        read_records(path)


def test_a_stray_file_name_is_refused(tmp_path):
    (tmp_path / "predictions-latest.jsonl").write_text("")
    with pytest.raises(ValueError, match="predictions-latest.jsonl: not a prediction log"):
        prediction_log.read(tmp_path)


TODAY = dt.date(2026, 11, 24)
KEEP_DAYS = 400
"""On TODAY, 400 days kept: 2025-10-20 is the oldest day kept."""


def day_file(directory: Path, day: dt.date | str) -> Path:
    path = directory / f"predictions-{day}.jsonl"
    path.write_text('{"n": 1}\n')
    return path


def test_prune_deletes_exactly_the_days_before_the_retention_start(tmp_path):
    assert prediction_log.retention_start(KEEP_DAYS, TODAY) == dt.date(2025, 10, 20)
    old = [day_file(tmp_path, "2024-02-29"), day_file(tmp_path, "2025-10-19")]
    kept = [
        day_file(tmp_path, "2025-10-20"),  # the boundary: the oldest day kept
        day_file(tmp_path, "2026-11-23"),
        day_file(tmp_path, TODAY),
        day_file(tmp_path, "2026-11-25"),  # dated after today: never deleted
    ]
    foreign = [
        tmp_path / "predictions-latest.jsonl",
        tmp_path / "predictions-2020-1-5.jsonl",  # not zero-padded: the log never writes it
        tmp_path / "predictions-2020-02-30.jsonl",  # no such day
        tmp_path / "predictions-2020-01-01.jsonl.bak",
        tmp_path / "predictions-2020-01-01.json",
        tmp_path / "backup-predictions-2020-01-01.jsonl",
        tmp_path / "notes.txt",
    ]
    for path in foreign:
        path.write_text("keep me\n")
    folder = tmp_path / "predictions-2020-01-02.jsonl"  # a folder with a day file's name
    folder.mkdir()

    deleted = prediction_log.prune(tmp_path, KEEP_DAYS, today=TODAY)

    assert deleted == old  # oldest first
    assert sorted(tmp_path.iterdir()) == sorted([*kept, *foreign, folder])
    assert prediction_log.prune(tmp_path, KEEP_DAYS, today=TODAY) == []  # nothing left to do


def test_prune_counts_days_in_utc():
    # 23:30 in New York on the 24th is already the 25th in UTC
    evening = pd.Timestamp("2026-11-24T23:30", tz="America/New_York")
    assert prediction_log.retention_start(1, evening) == dt.date(2026, 11, 24)
    assert prediction_log.retention_start(1, "2026-11-24T23:30") == dt.date(2026, 11, 23)


def test_no_retention_keeps_everything_and_an_absent_log_has_nothing_to_prune(tmp_path):
    paths = [day_file(tmp_path, day) for day in ("1999-01-01", "2025-10-19", "2026-11-24")]
    assert prediction_log.prune(tmp_path, None, today=TODAY) == []
    assert sorted(tmp_path.iterdir()) == paths
    assert prediction_log.prune(tmp_path / "nothing", KEEP_DAYS, today=TODAY) == []


def test_keeping_less_than_a_day_is_refused(tmp_path):
    path = day_file(tmp_path, "2026-11-23")
    with pytest.raises(ValueError, match="keep_days=0: expected at least 1"):
        prediction_log.prune(tmp_path, 0, today=TODAY)
    assert path.exists()


def test_a_pruned_log_reads_the_kept_days(tmp_path):
    for day in ("2025-10-19", "2025-10-20", "2026-11-24"):
        prediction_log.append(
            scored(), tmp_path, model_version="1", source="batch", scored_at=f"{day}T12:00"
        )
    prediction_log.prune(tmp_path, KEEP_DAYS, today=TODAY)
    back = prediction_log.read(tmp_path)
    assert back["scored_at"].dt.strftime("%Y-%m-%d").unique().tolist() == [
        "2025-10-20",
        "2026-11-24",
    ]
    assert prediction_log.read(tmp_path, until="2025-10-20").empty


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    offsets=st.sets(st.integers(min_value=-900, max_value=5), max_size=25),
    near_start=st.sets(st.integers(min_value=-2, max_value=2)),
    keep_days=st.integers(min_value=1, max_value=800),
    today=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)),
)
def test_prune_keeps_exactly_the_days_from_the_retention_start(
    offsets, near_start, keep_days, today
):
    """Files before the start are deleted and reported; every file from it on survives.

    Days are drawn relative to today (offsets) and around the retention start (near_start).
    """
    start = today - dt.timedelta(days=keep_days)
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        days = {today + dt.timedelta(days=offset) for offset in offsets}
        days |= {start + dt.timedelta(days=offset) for offset in near_start}
        files = {day: day_file(directory, day) for day in days}
        deleted = prediction_log.prune(directory, keep_days, today=today)
        left = {prediction_log.file_day(path.name) for path in directory.iterdir()}
    assert deleted == [files[day] for day in sorted(files) if day < start]
    assert left == {day for day in files if day >= start}
    assert all(day >= start for day in left)


def test_prune_log_applies_the_retention_setting_and_says_what_went(tmp_path):
    from zerochurn.monitoring.monitor import prune_log

    settings = load_settings(overrides={"workspace": str(tmp_path)}, environ={})
    directory = prediction_log.log_directory(settings.workspace)
    today = dt.date(2026, 11, 24)
    for day in ("2025-10-19", "2025-10-20", "2026-11-24"):  # 400 days keep 2025-10-20 on
        (directory / f"predictions-{day}.jsonl").parent.mkdir(exist_ok=True)
        (directory / f"predictions-{day}.jsonl").write_text("")
    messages: list[str] = []
    pruned = prune_log(settings, today=today, report=messages.append)
    assert [path.name for path in pruned] == ["predictions-2025-10-19.jsonl"]
    assert messages == ["pruned 1 prediction-log days older than 2025-10-20"]
    assert prune_log(settings, today=today, report=messages.append) == []
    assert len(messages) == 1  # nothing pruned, nothing said


def test_retention_shorter_than_the_monitoring_window_is_refused():
    with pytest.raises(
        ConfigError, match=r"log_retention_days \(7\) must be at least window_days \(30\)"
    ):
        load_settings(overrides={"monitoring.log_retention_days": 7}, environ={})
    with pytest.raises(ConfigError, match=r"log_retention_days"):
        load_settings(overrides={"monitoring.log_retention_days": 0}, environ={})


WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pandas as pd
    from zerochurn.monitoring import prediction_log

    directory, first, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = np.random.default_rng(first)
    batch = first
    while True:
        frame = pd.DataFrame(
            {"batch": batch, "row": np.arange(rows), "churn_probability": rng.random(rows)}
        )
        prediction_log.append(frame, directory, model_version="1", source="service")
        print(batch, flush=True)  # acknowledged: append returned
        batch += 1
    """
)
BATCH_ROWS = 20_000
KILLS = 2
MAX_KILL_DELAY_SECONDS = 0.05


def test_a_writer_killed_mid_append_loses_no_acknowledged_batch(tmp_path):
    """SIGKILL a process appending in a loop, twice; every acknowledged batch reads back whole."""
    rng = random.Random(0)
    acknowledged = -1
    for _ in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), str(acknowledged + 1), str(BATCH_ROWS)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3):  # let it acknowledge a few batches, then kill it at a random moment
            acknowledged = int(writer.stdout.readline())
        time.sleep(rng.uniform(0.0, MAX_KILL_DELAY_SECONDS))
        writer.send_signal(signal.SIGKILL)
        rest = writer.stdout.read().split()
        writer.wait()
        acknowledged = int(rest[-1]) if rest else acknowledged
        logged = prediction_log.read(tmp_path)
        counts = logged.groupby("batch").size()
        last = int(counts.index.max())
        # complete up to the last acknowledged batch; at most one more that was written but
        # not yet acknowledged when the signal came; every batch whole
        assert acknowledged <= last <= acknowledged + 1
        assert counts.index.tolist() == list(range(last + 1))
        assert (counts == BATCH_ROWS).all()
        acknowledged = last

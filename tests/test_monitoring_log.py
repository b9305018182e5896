"""The prediction log: round trips, time windows, torn tails and writers killed mid-append."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from killed_writer import kill_at_random

from zerochurn.configs import ConfigError, Settings, load_settings
from zerochurn.journal import GroupCommit, append_record, read_records, write_file
from zerochurn.serving import prediction_log
from zerochurn.serving.log_schema import LogSchema


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


EXPECTED_TYPES = {
    "customer_id": "text",
    "as_of": "date",
    "tenure_days": "integer",
    "satisfaction_index": "number",
    "region": "text",
    "churn_probability": "number",
}
"""The types a line of `scored` rows records: fixed for keys and outputs, else by dtype."""


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
    assert record["rows"] == 2 and record["types"] == EXPECTED_TYPES
    assert record["columns"]["as_of"] == ["2026-02-01T00:00:00"] * 2
    assert record["columns"]["satisfaction_index"][0] is None


FRAME_ROWS = st.lists(
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
"""Rows of (number, region, flag, count, as_of) with gaps, for logged frames."""


@hypothesis_settings(max_examples=30, deadline=None)
@given(rows=FRAME_ROWS)
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


@hypothesis_settings(max_examples=20, deadline=None)
@given(rows=FRAME_ROWS, many=st.booleans())
def test_outputs_are_logged_as_columns_of_the_frame(rows, many):
    # A service request's scores are passed beside its features, not joined to them first:
    # the line is the one of the joined frame, for a few rows and for many.
    frame = pd.DataFrame(rows, columns=["x", "region", "flag", "count", "as_of"]).astype(
        {"region": "str", "as_of": "str"}
    )
    if many:
        frame = pd.concat([frame] * (prediction_log.FEW_ROWS // len(frame) + 1))
    n = len(frame)
    outputs = {
        "churn_probability": np.linspace(0.1, 0.9, n),
        "churn_index": np.arange(n) * 10,
        "risk_tier": np.array(["low", None] * n, dtype=object)[:n],
    }
    joined = pd.concat([frame.reset_index(drop=True), pd.DataFrame(outputs)], axis=1)
    with tempfile.TemporaryDirectory() as folder:
        lines = [
            json.loads(
                prediction_log.append(
                    data,
                    Path(folder) / name,
                    model_version="1",
                    source="service",
                    scored_at="2026-02-01T06:00:00",
                    **extra,
                ).read_text()
            )
            for name, data, extra in (
                ("joined", joined, {}),
                ("apart", frame, {"outputs": outputs}),
            )
        ]
    assert lines[0] == lines[1]
    assert lines[1]["columns"]["risk_tier"][:2] == ["low", None][: min(n, 2)]


def test_outputs_of_another_length_or_name_clash_are_refused(tmp_path):
    frame = scored(3).drop(columns="churn_probability")
    with pytest.raises(ValueError, match=r"outputs of \{'churn_probability': 2\} rows"):
        prediction_log.append(
            frame,
            tmp_path,
            model_version="1",
            source="service",
            outputs={"churn_probability": np.zeros(2)},
        )
    with pytest.raises(ValueError, match="repeated column names"):
        prediction_log.append(
            frame,
            tmp_path,
            model_version="1",
            source="service",
            outputs={"churn_probability": np.zeros(3), "region": np.zeros(3)},
        )


def test_datetimes_of_different_precision_in_one_column_read_back(tmp_path):
    stamps = pd.Series([pd.Timestamp("2026-02-01"), pd.Timestamp("2026-02-01T00:00:00.000001")])
    frame = scored(2, as_of=stamps)  # ISO text "...T00:00:00" and "...T00:00:00.000001"
    prediction_log.append(frame, tmp_path, model_version="1", source="batch")
    assert prediction_log.read(tmp_path)["as_of"].tolist() == stamps.tolist()


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
        (scored(), {"segment_rows": 0}, "segment_rows=0: expected at least 1"),
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


def test_appends_queued_during_a_commit_share_the_next_fsync(tmp_path, monkeypatch):
    """Seven threads append while an eighth's fsync is held: the next commit takes all seven."""
    committer = GroupCommit("fsync", interval=0.0)
    path = tmp_path / "journal.jsonl"
    in_fsync, release = threading.Event(), threading.Event()
    fsyncs: list[int] = []
    real_fsync = os.fsync

    def held_fsync(fd: int) -> None:
        fsyncs.append(fd)
        if len(fsyncs) == 1:
            in_fsync.set()
            release.wait()
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", held_fsync)
    first = threading.Thread(target=committer.append, args=(path, b'{"n":0}\n'))
    first.start()
    in_fsync.wait()
    others = [
        threading.Thread(target=committer.append, args=(path, f'{{"n":{n}}}\n'.encode()))
        for n in range(1, 8)
    ]
    for thread in others:
        thread.start()
    while len(committer._queue) < len(others):  # all seven queued behind the held commit
        time.sleep(0.001)
    release.set()
    for thread in [first, *others]:
        thread.join()
    assert sorted(record["n"] for record in read_records(path)) == list(range(8))
    # the held commit, the folder entry of the new file, then one commit for the seven
    assert len(fsyncs) == 3


def test_durability_os_writes_without_fsync(tmp_path, monkeypatch):
    fsyncs: list[int] = []
    monkeypatch.setattr(os, "fsync", fsyncs.append)
    append_record(tmp_path / "journal.jsonl", {"n": 1}, durability="os")
    assert read_records(tmp_path / "journal.jsonl") == [{"n": 1}] and fsyncs == []


def test_a_damaged_complete_line_names_file_and_line(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"n": 1}\nnot json\n')
    with pytest.raises(ValueError, match=r"journal.jsonl: line 2 is not valid JSON"):
        read_records(path)


def test_a_stray_file_name_is_refused(tmp_path):
    (tmp_path / "predictions-latest.jsonl").write_text("")
    with pytest.raises(ValueError, match="predictions-latest.jsonl: not a prediction log"):
        prediction_log.read(tmp_path)


HEX = "0123456789abcdef" * 2
"""32 hex digits: the unique part of a hand-made segment name."""


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def segments(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("*.parquet"))


def test_the_segment_threshold_defaults_to_the_setting():
    assert prediction_log.SEGMENT_ROWS == Settings().monitoring.log_segment_rows == 10_000


def test_a_batch_at_the_threshold_goes_to_one_segment_file_named_by_its_line(tmp_path):
    frame = scored(5)
    kwargs = {"model_version": "3", "source": "batch", "scored_at": "2026-02-01T06:00:00"}
    path = prediction_log.append(frame, tmp_path, segment_rows=5, **kwargs)
    assert path == tmp_path / "predictions-2026-02-01.jsonl"  # still the day file
    (record,) = lines(path)
    (name,) = segments(tmp_path)
    assert record["segment"] == name and "columns" not in record
    assert record["rows"] == 5 and record["types"] == EXPECTED_TYPES
    assert name.startswith("predictions-2026-02-01-")
    assert prediction_log.file_day(name) == dt.date(2026, 2, 1)
    back = prediction_log.read(tmp_path)
    assert list(back.columns) == [*prediction_log.METADATA_COLUMNS, *frame.columns]
    pd.testing.assert_frame_equal(back[frame.columns], frame, check_dtype=False)
    assert (back["scored_at"] == pd.Timestamp("2026-02-01T06:00:00", tz="UTC")).all()
    # one row fewer than the threshold: inline, and read back exactly alike
    inline = tmp_path / "inline"
    prediction_log.append(frame, inline, segment_rows=6, **kwargs)
    assert "columns" in lines(inline / path.name)[0] and segments(inline) == []
    pd.testing.assert_frame_equal(back, prediction_log.read(inline))


def test_inline_and_segment_batches_read_back_in_scoring_order(tmp_path):
    # logged out of time order, two shapes of batch, in two day files
    batches = [
        ("2026-01-01T02:00", scored(3), "1"),  # segment (threshold 3)
        ("2026-01-01T01:00", scored(2), "2"),  # inline
        ("2026-01-02T00:30", scored(4).drop(columns="region"), "3"),  # segment, other columns
        ("2026-01-01T03:00", scored(2), "4"),  # inline
        ("2026-01-01T00:00", scored(3), "5"),  # segment
    ]
    for when, frame, version in batches:
        for folder, threshold in (("mixed", 3), ("inline", 1_000)):
            prediction_log.append(
                frame,
                tmp_path / folder,
                model_version=version,
                source="batch" if len(frame) >= 3 else "service",
                scored_at=when,
                segment_rows=threshold,
            )
    assert len(segments(tmp_path / "mixed")) == 3 and segments(tmp_path / "inline") == []
    back = prediction_log.read(tmp_path / "mixed")
    assert back["model_version"].tolist() == [*"555", *"22", *"111", *"44", *"3333"]
    assert back["source"].tolist() == (
        ["batch"] * 3 + ["service"] * 2 + ["batch"] * 3 + ["service"] * 2 + ["batch"] * 4
    )
    assert back["region"].isna().tolist() == [False, True, False, False, True] * 2 + [True] * 4
    pd.testing.assert_frame_equal(back, prediction_log.read(tmp_path / "inline"))


def test_since_and_until_open_only_the_segments_of_batches_in_the_window(tmp_path):
    for when in ("2026-01-31T12:00", "2026-02-01T06:00", "2026-02-01T18:00"):
        prediction_log.append(
            scored(), tmp_path, model_version="1", source="batch", scored_at=when, segment_rows=1
        )
    first, *_ = lines(tmp_path / "predictions-2026-02-01.jsonl")
    (tmp_path / first["segment"]).unlink()  # the 06:00 batch's file
    window = prediction_log.read(tmp_path, since="2026-01-31", until="2026-02-01T06:00")
    assert window["scored_at"].unique().tolist() == [pd.Timestamp("2026-01-31T12:00", tz="UTC")]
    later = prediction_log.read(tmp_path, since="2026-02-01T06:00:01")
    assert len(later) == 3 and (later["scored_at"].dt.hour == 18).all()
    with pytest.raises(FileNotFoundError, match=first["segment"]):
        prediction_log.read(tmp_path)


def test_a_line_naming_a_missing_segment_says_which_file(tmp_path):
    path = prediction_log.append(
        scored(),
        tmp_path,
        model_version="1",
        source="batch",
        scored_at="2026-02-01",
        segment_rows=3,
    )
    (name,) = segments(tmp_path)
    (tmp_path / name).unlink()
    with pytest.raises(
        FileNotFoundError,
        match=rf"{name}: segment file missing; {path.name} record 1 names it for its 3 rows",
    ):
        prediction_log.read(tmp_path)


def test_a_day_pruned_while_its_segments_are_read_is_left_out_whole(tmp_path, monkeypatch):
    for when in ("2025-10-19T10:00", "2025-10-19T11:00", "2026-11-24T10:00"):
        prediction_log.append(
            scored(), tmp_path, model_version="1", source="batch", scored_at=when, segment_rows=1
        )

    def pruned_meanwhile(path: Path) -> list[dict]:
        records = read_records(path)  # the day's lines are read, then a monitor run prunes
        prediction_log.prune(tmp_path, KEEP_DAYS, today=TODAY)
        return records

    monkeypatch.setattr(prediction_log, "read_records", pruned_meanwhile)
    back = prediction_log.read(tmp_path)
    assert back["scored_at"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2026-11-24"]


def test_a_column_mixing_numbers_and_text_is_logged_as_text_alike_inline_or_in_a_segment(
    tmp_path,
):
    frame = scored(mixed=[1, "a", 2.5])  # an object column: no schema names it, so text
    for folder, rows in (("segment", 1), ("inline", 10)):
        path = prediction_log.append(
            frame, tmp_path / folder, model_version="1", source="batch", segment_rows=rows
        )
        assert lines(path)[0]["types"]["mixed"] == "text"
        back = prediction_log.read(tmp_path / folder)["mixed"]
        assert back.tolist() == ["1", "a", "2.5"]
    assert len(segments(tmp_path / "segment")) == 1


def test_a_value_not_of_its_schema_type_is_refused_naming_the_column(tmp_path):
    frame = scored(2).assign(as_of=["2026-02-01", "soon"])
    with pytest.raises(ValueError, match="column 'as_of': expected date"):
        prediction_log.append(frame, tmp_path, model_version="1", source="service")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_keys_and_outputs_read_back_as_one_type_whoever_wrote_them(tmp_path):
    """The service logs snapshot-store rows (as_of as text, counts as floats); batch scoring
    logs built features (as_of a datetime): both read back as the schema's types."""
    batch = scored(3)
    service = scored(2).assign(as_of="2026-03-01", tenure_days=[5.0, np.nan], churn_index=[90, 110])
    schema = LogSchema.for_features(
        ["tenure_days", "satisfaction_index", "region"], ["numeric", "numeric", "categorical"]
    )
    for frame, source in ((batch, "batch"), (service, "service")):
        prediction_log.append(frame, tmp_path, model_version="1", source=source, schema=schema)
    back = prediction_log.read(tmp_path)
    assert back["as_of"].dtype.kind == "M"
    assert back["as_of"].dt.strftime("%Y-%m-%d").tolist() == ["2026-02-01"] * 3 + ["2026-03-01"] * 2
    assert back["tenure_days"].dtype == "float64" and back["churn_index"].dtype == "Int64"
    assert (back["as_of"] > pd.Timestamp("2026-02-15")).tolist() == [False] * 3 + [True] * 2


def test_lines_of_older_versions_read_with_their_keys_typed(tmp_path):
    """Older lines named only their dates; a service line's as_of was text."""
    columns = {"customer_id": ["C1"], "as_of": ["2026-01-01"], "churn_probability": [0.2]}
    record = {"scored_at": "2026-01-05T10:00:00+00:00", "model_version": "1"}
    record |= {"source": "service", "rows": 1, "dates": [], "columns": columns}
    append_record(tmp_path / "predictions-2026-01-05.jsonl", record)
    back = prediction_log.read(tmp_path)
    assert back["as_of"].tolist() == [pd.Timestamp("2026-01-01")]


def test_an_orphan_segment_is_ignored_by_read_and_pruned_with_its_day(tmp_path):
    for when in ("2025-10-19T10:00", "2026-11-24T10:00"):
        prediction_log.append(
            scored(), tmp_path, model_version="1", source="batch", scored_at=when, segment_rows=1
        )
    # what a writer killed between the segment and its line leaves, on both days
    orphans = [tmp_path / f"predictions-{day}-{HEX}.parquet" for day in ("2025-10-19", TODAY)]
    for orphan in orphans:
        scored(7).to_parquet(orphan, index=False)
    leftover = tmp_path / f".predictions-2025-10-19-{HEX}.parquet.k3x_9qzt.tmp"
    leftover.write_bytes(b"PAR1")  # killed while writing a segment
    assert len(prediction_log.read(tmp_path)) == 6  # the two logged batches, nothing more
    deleted = prediction_log.prune(tmp_path, KEEP_DAYS, today=TODAY)
    assert deleted == [tmp_path / "predictions-2025-10-19.jsonl"]  # one per day pruned
    assert all(prediction_log.file_day(p.name) == TODAY for p in tmp_path.iterdir())
    assert len(segments(tmp_path)) == 2 and orphans[1].exists()  # today's batch and orphan
    assert len(prediction_log.read(tmp_path)) == 3


def test_the_temporary_file_of_a_segment_is_a_name_prune_knows(tmp_path):
    names = []
    target = tmp_path / f"predictions-2026-02-01-{HEX}.parquet"
    write_file(target, lambda tmp: names.append(tmp.name) or tmp.write_bytes(b"x"))
    assert target.read_bytes() == b"x" and list(tmp_path.iterdir()) == [target]
    (name,) = names
    assert name != target.name and prediction_log.file_day(name) == dt.date(2026, 2, 1)


@hypothesis_settings(max_examples=40, deadline=None)
@given(
    batches=st.lists(
        st.tuples(
            FRAME_ROWS,
            st.integers(1, 5),  # segment_rows
            st.sampled_from([0, 1, 1, 30]),  # hours after 2026-01-01: ties, two days
            st.sampled_from(["str", "category", "drop"]),  # region
            st.booleans(),  # with a UTC datetime column
        ),
        min_size=1,
        max_size=4,
    )
)
def test_batches_read_back_the_same_inline_or_in_segments(batches):
    with tempfile.TemporaryDirectory() as folder:
        mixed, inline = Path(folder) / "mixed", Path(folder) / "inline"
        for rows, threshold, hours, region, utc in batches:
            frame = pd.DataFrame(rows, columns=["x", "region", "flag", "count", "as_of"])
            frame = frame.astype({"as_of": "datetime64[us]"})
            frame = (
                frame.drop(columns="region")
                if region == "drop"
                else frame.astype({"region": region})
            )
            if utc:
                frame["seen"] = frame["as_of"].dt.tz_localize("UTC")
            frame["churn_probability"] = 0.5
            when = pd.Timestamp("2026-01-01") + pd.Timedelta(hours=hours)
            for directory, segment_rows in ((mixed, threshold), (inline, 100)):
                prediction_log.append(
                    frame,
                    directory,
                    model_version="1",
                    source="batch",
                    scored_at=when,
                    segment_rows=segment_rows,
                )
        expected = sum(len(rows) >= threshold for rows, threshold, *_ in batches)
        assert len(segments(mixed)) == expected
        pd.testing.assert_frame_equal(prediction_log.read(mixed), prediction_log.read(inline))


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
        tmp_path / f"predictions-2020-01-01-{HEX[:31]}.parquet",  # 31 hex digits
        tmp_path / f"predictions-2020-01-01-{HEX.upper()}.parquet",
        tmp_path / f"predictions-2020-02-30-{HEX}.parquet",
        tmp_path / f"predictions-2020-01-01-{HEX}.parquet.bak",
        tmp_path / f".predictions-2020-01-01-{HEX}.parquet",
        tmp_path / "predictions-2020-01-01.parquet",
    ]
    for path in foreign:
        path.write_text("keep me\n")
    folder = tmp_path / "predictions-2020-01-02.jsonl"  # a folder with a day file's name
    folder.mkdir()
    old_segments = [
        tmp_path / f"predictions-2024-02-29-{HEX}.parquet",
        tmp_path / f".predictions-2025-10-19-{HEX}.parquet.a1b2_c3d.tmp",  # a killed write
        tmp_path / f"predictions-2023-05-05-{'f' * 32}.parquet",  # a day with no day file
    ]
    kept.append(tmp_path / f"predictions-2025-10-20-{HEX}.parquet")
    for path in [*old_segments, kept[-1]]:
        path.write_bytes(b"PAR1")

    deleted = prediction_log.prune(tmp_path, KEEP_DAYS, today=TODAY)

    assert deleted == old  # the day files, oldest first; their segments went too
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
    from zerochurn.monitoring.current import prune_log

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
    from zerochurn.serving import prediction_log

    directory, first, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = np.random.default_rng(first)
    batch = first
    while True:
        frame = pd.DataFrame(
            {"batch": batch, "row": np.arange(rows), "churn_probability": rng.random(rows)}
        )
        segment_rows = rows + batch % 2  # even batches go to a segment file, odd ones inline
        prediction_log.append(
            frame, directory, model_version="1", source="service", segment_rows=segment_rows
        )
        print(batch, flush=True)  # acknowledged: append returned
        batch += 1
    """
)
BATCH_ROWS = 20_000
KILLS = 2
MAX_KILL_DELAY_SECONDS = 0.05


def test_a_writer_killed_mid_append_loses_no_acknowledged_batch(tmp_path):
    """SIGKILL a process appending in a loop, twice; every acknowledged batch reads back whole.

    Batches alternate between segment files and inline lines: a line never lacks its segment
    (read would raise), and a kill leaves at most one segment that no line names.
    """
    rng = random.Random(0)
    acknowledged = -1
    for kill in range(KILLS):
        acknowledged = kill_at_random(  # after a few batches
            WRITER,
            [str(tmp_path), str(acknowledged + 1), str(BATCH_ROWS)],
            after=3,
            max_delay=MAX_KILL_DELAY_SECONDS,
            rng=rng,
        )
        logged = prediction_log.read(tmp_path)
        counts = logged.groupby("batch").size()
        last = int(counts.index.max())
        # complete up to the last acknowledged batch; at most one more that was written but
        # not yet acknowledged when the signal came; every batch whole
        assert acknowledged <= last <= acknowledged + 1
        assert counts.index.tolist() == list(range(last + 1))
        assert (counts == BATCH_ROWS).all()
        named = {
            record["segment"]
            for path in tmp_path.glob("*.jsonl")
            for record in read_records(path)
            if "segment" in record
        }
        assert len(named) == (last + 2) // 2  # the even batches
        orphans = set(segments(tmp_path)) - named
        assert len(orphans) <= kill + 1
        acknowledged = last

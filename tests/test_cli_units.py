"""Command-line pieces without a subprocess: dates, checkpoints, outputs, progress."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sqlite3
from pathlib import Path

import orjson
import pytest

from douyin_async.cli.checkpoint import CheckpointWriter, read_checkpoint, unit_key
from douyin_async.cli.exits import CONFLICT, FILES, USAGE, CliError
from douyin_async.cli.progress import Progress
from douyin_async.cli.rows import TALENT_MEDIA, TASK_VIDEOS, fixed_values
from douyin_async.cli.sinks import FileOutput, csv_encoder, csv_header, jsonl_encoder
from douyin_async.cli.spec import parse_billing_dates, parse_time, read_ids_file
from douyin_async.cli.sqlite import SqliteOutput
from douyin_async.models import TalentMediaQuery, TaskVideoQuery
from douyin_async.stats import ClientStats

PARAMS = {"kind": "talent-media", "plan_ids": [1], "douyin_ids": ["a"], "content_type": 3,
          "page_size": 100, "format": "jsonl"}
BIG = 7270855478333246754


def media_row(i: int) -> dict[str, object]:
    return {"plan_id": BIG, "douyin_id": "dy", "content_open_id": f"@{i}", "content_type": 2,
            "gmv": i, "play_cnt": i, "talent_commission": i, "used_gmv": i}


# -- dates and ids ---------------------------------------------------------------------------


def test_billing_dates() -> None:
    assert parse_billing_dates("2026-11-01") == [dt.date(2026, 11, 1)]
    days = parse_billing_dates("2026-11-30..2026-12-02")
    assert days == [dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 12, 2)]
    for bad in ("2026-02-30", "2026-11-02..2026-11-01", "yesterday", "2026-11-01.."):
        with pytest.raises(CliError) as info:
            parse_billing_dates(bad)
        assert info.value.code == USAGE


def test_times() -> None:
    assert parse_time("1700000000", "--x") == 1700000000
    assert parse_time("2026-11-01", "--x") == 1793491200
    assert parse_time("2026-11-01", "--x", end_of_day=True) == 1793491200 + 86399
    assert parse_time("2026-11-01T08:00:00+08:00", "--x") == 1793491200
    assert parse_time("2026-11-01T00:00:00Z", "--x") == 1793491200
    for bad in ("2026-11-01T00:00:00", "2026-13-01", "soon"):
        with pytest.raises(CliError) as info:
            parse_time(bad, "--x")
        assert info.value.code == USAGE
        assert "--x" in str(info.value)


def test_ids_file(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("# talents\nalpha\n\n  beta  # second\n#gamma\n", encoding="utf-8")
    assert read_ids_file(str(path)) == ["alpha", "beta"]
    with pytest.raises(CliError) as info:
        read_ids_file(str(tmp_path / "missing.txt"))
    assert info.value.code == FILES


def test_unit_keys_are_stable_and_distinct() -> None:
    a = TaskVideoQuery("2026-11-01", 1, 2)
    assert unit_key(a) == unit_key(TaskVideoQuery("2026-11-01", 1, 2))
    assert unit_key(a) != unit_key(TaskVideoQuery("2026-11-01", 1, 2, douyin_id="x"))
    assert unit_key(TalentMediaQuery(plan_id=1, douyin_id="a")) != unit_key(
        TalentMediaQuery(plan_id=1, douyin_id="b"))


# -- checkpoint ------------------------------------------------------------------------------


def test_checkpoint_round_trip_ignores_a_cut_line(tmp_path: Path) -> None:
    path = str(tmp_path / "out.jsonl.ckpt")
    writer = CheckpointWriter.create(path, PARAMS)
    writer.record("u1", 1, False, 100)
    writer.record("u2", 1, True, 250)
    writer.record("u1", 2, False, 400)
    writer.close()
    intact = Path(path).stat().st_size
    with open(path, "ab") as handle:
        handle.write(b'{"unit": "u1", "pa')  # killed in the middle of a line
    state = read_checkpoint(path)
    assert state is not None
    assert state.params == PARAMS
    assert state.offset == 400
    assert state.units == {"u1": (2, False), "u2": (1, True)}
    assert state.intact == intact
    assert (state.start_page("u1"), state.start_page("u2"), state.start_page("u3")) == (3, 0, 1)
    CheckpointWriter.reopen(path, state).close()
    assert Path(path).stat().st_size == intact


def test_damaged_checkpoint_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl.ckpt"
    path.write_bytes(b"garbage\nmore garbage\n")
    with pytest.raises(CliError) as info:
        read_checkpoint(str(path))
    assert info.value.code == FILES


# -- file outputs ----------------------------------------------------------------------------


def test_jsonl_resume_truncates_to_the_checkpoint(tmp_path: Path) -> None:
    out = str(tmp_path / "out.jsonl")
    first = FileOutput(out, jsonl_encoder)
    assert first.open(PARAMS, resume=False, force=False) is None
    first.write_page("u", 1, False, [media_row(1), media_row(2)])
    first.close()
    with open(out, "ab") as handle:  # a page written but never checkpointed
        handle.write(jsonl_encoder([media_row(3)]))
    again = FileOutput(out, jsonl_encoder)
    state = again.open(PARAMS, resume=True, force=False)
    assert state is not None and state.start_page("u") == 2
    again.write_page("u", 2, True, [media_row(4)])
    again.finish()
    again.close()
    rows = [orjson.loads(line) for line in Path(out).read_bytes().splitlines()]
    assert [r["content_open_id"] for r in rows] == ["@1", "@2", "@4"]
    assert rows[0]["plan_id"] == BIG
    done = read_checkpoint(out + ".ckpt")
    assert done is not None and done.complete


def test_resume_when_the_output_was_never_created(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    CheckpointWriter.create(str(out) + ".ckpt", PARAMS).close()
    sink = FileOutput(str(out), csv_encoder(TALENT_MEDIA), csv_header(TALENT_MEDIA))
    state = sink.open(PARAMS, resume=True, force=False)
    sink.close()
    assert state is not None and state.start_page("u") == 1
    assert out.read_bytes() == csv_header(TALENT_MEDIA)


def test_existing_output_needs_resume_or_force(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    started = FileOutput(str(out), jsonl_encoder)  # a pull that failed before its first page
    started.open(PARAMS, resume=False, force=False)
    started.close()
    again = FileOutput(str(out), jsonl_encoder)
    again.open(PARAMS, resume=False, force=False)  # nothing was written: no conflict
    again.close()
    Path(str(out) + ".ckpt").unlink()
    out.write_bytes(b"{}\n")
    with pytest.raises(CliError) as info:
        FileOutput(str(out), jsonl_encoder).open(PARAMS, resume=False, force=False)
    assert info.value.code == CONFLICT
    with pytest.raises(CliError) as info:
        FileOutput(str(out), jsonl_encoder).open(PARAMS, resume=True, force=False)
    assert info.value.code == CONFLICT  # nothing to resume from
    forced = FileOutput(str(out), jsonl_encoder)
    forced.open(PARAMS, resume=False, force=True)
    forced.close()
    assert out.read_bytes() == b""
    other = dict(PARAMS, page_size=50)
    with pytest.raises(CliError) as info:
        FileOutput(str(out), jsonl_encoder).open(other, resume=True, force=False)
    assert info.value.code == CONFLICT
    assert "page_size" in str(info.value)


def test_csv_rows_keep_ids_exact_and_header_once(tmp_path: Path) -> None:
    out = str(tmp_path / "out.csv")
    sink = FileOutput(out, csv_encoder(TALENT_MEDIA), csv_header(TALENT_MEDIA))
    sink.open(PARAMS, resume=False, force=False)
    sink.close()  # killed before the first page
    sink = FileOutput(out, csv_encoder(TALENT_MEDIA), csv_header(TALENT_MEDIA))
    sink.open(PARAMS, resume=True, force=False)
    sink.write_page("u", 1, True, [media_row(1), {**media_row(2), "new_key": 5}])
    sink.close()
    rows = list(csv.DictReader(io.StringIO(Path(out).read_text())))
    assert [r["plan_id"] for r in rows] == [str(BIG), str(BIG)]
    assert rows[0]["extra"] == "" and orjson.loads(rows[1]["extra"]) == {"new_key": 5}


def test_fixed_values_follow_the_columns() -> None:
    values = fixed_values({"billing_date": "2026-11-01", "video_id": BIG}, TASK_VIDEOS)
    assert len(values) == len(TASK_VIDEOS.columns)
    assert values[0] == "2026-11-01" and values[-1] is None


# -- sqlite ----------------------------------------------------------------------------------


def test_sqlite_upserts_and_keeps_its_checkpoint(tmp_path: Path) -> None:
    out = str(tmp_path / "out.sqlite")
    db = SqliteOutput(out, TALENT_MEDIA, "talent-media")
    db.open(PARAMS, resume=False, force=False)
    db.write_page("u", 1, False, [media_row(1), media_row(2)])
    db.close()
    with pytest.raises(CliError) as info:
        SqliteOutput(out, TALENT_MEDIA, "talent-media").open(PARAMS, resume=False, force=False)
    assert info.value.code == CONFLICT
    db = SqliteOutput(out, TALENT_MEDIA, "talent-media")
    state = db.open(PARAMS, resume=True, force=False)
    assert state is not None and state.start_page("u") == 2
    db.write_page("u", 1, False, [media_row(1), {**media_row(2), "gmv": 99}])
    db.write_page("u", 2, True, [media_row(3)])
    db.finish()
    db.close()
    with sqlite3.connect(out) as conn:
        rows = conn.execute("SELECT plan_id, content_open_id, gmv FROM talent_media "
                            "ORDER BY content_open_id").fetchall()
    conn.close()
    assert rows == [(BIG, "@1", 1), (BIG, "@2", 99), (BIG, "@3", 3)]


def test_unwritable_sqlite_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(CliError) as info:
        SqliteOutput(str(tmp_path / "no" / "such.db"), TALENT_MEDIA, "talent-media").open(
            PARAMS, resume=False, force=False)
    assert info.value.code == FILES


# -- progress --------------------------------------------------------------------------------


def test_progress_eta_from_known_page_counts() -> None:
    now = [0.0]
    stream = io.StringIO()
    stats = ClientStats(requests=10, retries=1)
    progress = Progress(stats, stream, units_total=2, rate_cap=10, live=False, quiet=False,
                        clock=lambda: now[0])
    now[0] = 2.0
    progress.on_page("a", 1, 100, False, 4)
    progress.on_page("b", 1, 100, False, 2)
    progress.show()
    line = stream.getvalue()
    assert line.startswith("progress: pages 2 | records 200 | 5.0/10 req/s | retries 1")
    assert "ETA 0:04" in line  # 4 pages left at one page per second
    assert "units 0/2" in line
    quiet = io.StringIO()
    Progress(stats, quiet, units_total=1, rate_cap=10, live=False, quiet=True).show()
    assert quiet.getvalue() == ""


def test_parser_errors_are_one_line() -> None:
    from douyin_async.cli.args import build_parser

    with pytest.raises(CliError) as info:
        build_parser().parse_args(["pull", "task-videos", "--bogus"])
    assert info.value.code == USAGE and "\n" not in str(info.value)
    assert isinstance(build_parser(), argparse.ArgumentParser)

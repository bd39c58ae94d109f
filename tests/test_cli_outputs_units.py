"""The output side of the command without a server: locks, cell escaping, gzip members,
checksummed checkpoints, the rejects file and the identity a checkpoint records."""

from __future__ import annotations

import csv
import fcntl
import gzip
import io
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from douyin_async.cli.exits import CONFLICT, FILES, LOCKED, CliError
from douyin_async.cli.outputs import locks
from douyin_async.cli.outputs.checkpoint import CheckpointWriter, read_checkpoint
from douyin_async.cli.outputs.encoders import (
    csv_encoder,
    csv_header,
    escape_cell,
    gzip_encoder,
    gzip_member,
    jsonl_encoder,
)
from douyin_async.cli.outputs.locks import OutputLock, is_locked
from douyin_async.cli.outputs.rows import TALENT_MEDIA, TASK_VIDEOS, column_kinds
from douyin_async.cli.outputs.sinks import FileOutput
from douyin_async.cli.outputs.sqlite import SqliteOutput

PARAMS = {"kind": "talent-media", "server": "http://127.0.0.1:1", "app": "client key k"}


def media_row(i: int, **changes: Any) -> dict[str, Any]:
    return {"plan_id": 7, "douyin_id": "dy", "date": "2026-12-06", "content_open_id": f"@{i}",
            "content_type": 1,
            "gmv": -i, "play_cnt": i, "talent_commission": 0, "used_gmv": 0, **changes}


def reject(i: int) -> dict[str, Any]:
    return {"unit": ["talent-media"], "page": 1, "index": i, "field": "gmv",
            "reason": "not an integer", "record": {"gmv": 12.5}}


def test_a_second_lock_on_one_output_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    out = str(tmp_path / "out.jsonl")
    with OutputLock(out):
        assert is_locked(out) == os.getpid()
        with pytest.raises(CliError) as info:
            OutputLock(out).acquire()
        assert info.value.code == LOCKED and f"pid {os.getpid()}" in str(info.value)
    assert is_locked(out) is None and not os.path.exists(out + ".lock")
    with OutputLock(out):  # free again
        pass


def test_a_run_waits_out_a_status_probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = str(tmp_path / "out.jsonl")
    monkeypatch.setattr(locks, "PATIENCE", 30.0)
    probe = os.open(out + ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(probe, fcntl.LOCK_SH)  # what is_locked() holds for a moment
    threading.Timer(0.05, os.close, (probe,)).start()
    with OutputLock(out):  # not refused: the probe went away
        assert is_locked(out) == os.getpid()


def test_two_spellings_of_one_output_share_its_lock(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with OutputLock(str(tmp_path / "real" / "out.csv")):
        with pytest.raises(CliError) as info:
            OutputLock(str(tmp_path / "link" / "out.csv")).acquire()
        assert info.value.code == LOCKED


def test_a_lock_file_left_by_a_dead_run_is_no_lock(tmp_path: Path) -> None:
    out = str(tmp_path / "out.jsonl")
    Path(out + ".lock").write_text("999999\n")  # what a killed run leaves
    assert is_locked(out) is None
    with OutputLock(out):
        assert Path(out + ".lock").read_text() == f"{os.getpid()}\n"


def test_cells_are_escaped_by_column_type() -> None:
    assert [escape_cell(v) for v in ("=1", "+1", "-1", "@a", "\tx", "\rx", "a=1", "", "'=")] \
        == ["'=1", "'+1", "'-1", "'@a", "'\tx", "'\rx", "a=1", "", "'="]
    assert column_kinds(TASK_VIDEOS)[:3] == ["date", "int", "int"]
    kinds = dict(zip(TASK_VIDEOS.names, column_kinds(TASK_VIDEOS), strict=True))
    assert (kinds["video_id"], kinds["publish_time"], kinds["video_title"]) == \
        ("id", "datetime", "text")
    encode = csv_encoder(TALENT_MEDIA)
    rows = list(csv.reader(io.StringIO(encode([media_row(12, douyin_id="-1+1")]).decode())))
    assert rows == [["7", "'-1+1", "2026-12-06", "'@12", "1", "-12", "12", "0", "0", ""]]
    plain = csv_encoder(TALENT_MEDIA, plain=True)
    assert list(csv.reader(io.StringIO(plain([media_row(12)]).decode())))[0][3] == "@12"
    assert csv_header(TALENT_MEDIA).startswith(b"\xef\xbb\xbfplan_id,")
    assert csv_header(TALENT_MEDIA, plain=True).startswith(b"plan_id,")


def test_a_carriage_return_inside_a_cell_is_quoted() -> None:
    data = csv_encoder(TALENT_MEDIA, plain=True)([media_row(1, douyin_id="a\rb")])
    assert list(csv.reader(io.StringIO(data.decode(), newline="")))[0][1] == "a\rb"


def test_gzip_members_resume_at_a_member_boundary(tmp_path: Path) -> None:
    out = str(tmp_path / "out.jsonl.gz")
    encode = gzip_encoder(jsonl_encoder)
    first = FileOutput(out, encode, gzip_member(b""))
    first.open(PARAMS, resume=False, force=False)
    first.write_page("u", 1, False, [media_row(1), media_row(2)])
    first.close()
    with open(out, "ab") as handle:  # a member written but never checkpointed, cut short
        handle.write(encode([media_row(3)])[:-5])
    again = FileOutput(out, encode, gzip_member(b""))
    state = again.open(PARAMS, resume=True, force=False)
    assert state is not None and state.start_page("u") == 2
    again.write_page("u", 2, True, [media_row(4)])
    again.finish()
    again.close()
    assert gzip.decompress(Path(out).read_bytes()) == jsonl_encoder(
        [media_row(1), media_row(2), media_row(4)])


def test_a_damaged_checkpoint_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl.ckpt"
    writer = CheckpointWriter.create(str(path), PARAMS)
    writer.record("u", 1, False, {"offset": 10})
    writer.close()
    with path.open("ab") as handle:
        handle.write(b'{"unit": "u", "page": "two"}\n{"unit": "u", "page": 3}\n')
    with pytest.raises(CliError) as info:
        read_checkpoint(str(path))
    assert info.value.code == FILES and "line 3" in str(info.value)


def test_a_changed_prefix_is_refused_and_an_intact_one_resumes(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    first = FileOutput(str(out), jsonl_encoder)
    first.open(PARAMS, resume=False, force=False)
    first.write_page("u", 1, False, [media_row(1), media_row(2)])
    first.close()
    original = out.read_bytes()
    out.write_bytes(original.replace(b"\n", b"\r\n"))
    with pytest.raises(CliError) as info:
        FileOutput(str(out), jsonl_encoder).open(PARAMS, resume=True, force=False)
    assert info.value.code == CONFLICT and "changed since" in str(info.value)
    out.write_bytes(original + b'{"half": ')  # a page cut by a kill is not a change
    sink = FileOutput(str(out), jsonl_encoder)
    assert sink.open(PARAMS, resume=True, force=False) is not None
    sink.close()
    assert out.read_bytes() == original
    with pytest.raises(CliError) as info:
        FileOutput(str(out), jsonl_encoder).open({**PARAMS, "app": "client key other"},
                                                 resume=True, force=False)
    assert "app 'client key k', now 'client key other'" in str(info.value)


@pytest.mark.parametrize("sqlite", [False, True])
def test_rejects_are_cut_back_with_the_checkpoint(tmp_path: Path, sqlite: bool) -> None:
    out = str(tmp_path / ("out.sqlite" if sqlite else "out.jsonl"))
    rejects = Path(out + ".rejects.jsonl")

    def sink() -> FileOutput | SqliteOutput:
        return SqliteOutput(out, TALENT_MEDIA, "talent-media") if sqlite else \
            FileOutput(out, jsonl_encoder)

    first = sink()
    first.open(PARAMS, resume=False, force=False)
    first.write_page("u", 1, False, [media_row(1)], [reject(0), reject(1)])
    first.close()
    with rejects.open("ab") as handle:  # the next page's rejects, written before a kill
        handle.write(b'{"page": 2}\n')
    again = sink()
    state = again.open(PARAMS, resume=True, force=False)
    assert state is not None and again.rejected == 2
    again.write_page("u", 2, True, [media_row(2)], [reject(5)])
    again.finish()
    again.close()
    lines = rejects.read_bytes().splitlines()
    assert [line.count(b'"index"') for line in lines] == [1, 1, 1]
    assert [b'"index":5' in line for line in lines] == [False, False, True]
    fresh = sink()
    fresh.open(PARAMS, resume=False, force=True)  # starting over drops the old rejects
    fresh.close()
    assert not rejects.exists()


def test_progress_and_summary_count_refused_records() -> None:
    from douyin_async.cli.terminal.progress import Progress
    from douyin_async.stats import ClientStats

    progress = Progress(ClientStats(requests=3), io.StringIO(), units_total=1, rate_cap=10,
                        live=False, quiet=False, clock=lambda: 1.0)
    progress.on_page("u", 1, 99, True, None)
    assert "refused" not in progress.line() and "refused" not in progress.summary()
    progress.rejected = 1
    assert "records 99 | refused 1 |" in progress.line()
    assert "1 refused (quarantined)" in progress.summary()


def test_xlsx_rows_past_a_sheets_limit_go_on_in_the_next_sheet(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    from douyin_async.cli.outputs import xlsx

    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)
    out = str(tmp_path / "media.xlsx")
    sink = xlsx.XlsxOutput(out, TALENT_MEDIA)
    sink.open(PARAMS, resume=False, force=False)
    sink.write_page("u", 1, False, [media_row(i) for i in range(4)])
    sink.write_page("u", 2, True, [media_row(i) for i in range(4, 7)])
    sink.finish()
    sink.close()
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["talent_media", "talent_media_2", "talent_media_3"]
    ids = [[row[3] for row in book[name].iter_rows(min_row=2, values_only=True)]
           for name in book.sheetnames]
    assert ids == [["@0", "@1", "@2"], ["@3", "@4", "@5"], ["@6"]]
    assert all(next(book[name].iter_rows(values_only=True))[0] == "plan_id"
               for name in book.sheetnames)
    assert read_checkpoint(out + ".ckpt").complete  # type: ignore[union-attr]

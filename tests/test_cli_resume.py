"""Resume safety end to end: a changed partial file, another server or app, a pull that failed
on its first request, finished units past the 90 days, a total that changed between runs,
quarantined records and ``status``.

A scripted server refuses a chosen page, so a pull stops part-way at a known place and leaves
a checkpoint; the next run is the same command with ``--resume``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import helpers.cli as h
import orjson
import pytest
from apiserver import media
from record_server import RecordServer

from douyin_async.api.streams import unit_queries
from douyin_async.cli.identity import checkpoint_params
from douyin_async.cli.outputs.checkpoint import CheckpointWriter, unit_key
from douyin_async.cli.spec import build_spec
from douyin_async.decode.converter import decode_video, unstructure

pytestmark = pytest.mark.slow

TOKEN = "token-of-the-test-5e1f"
RECORDS = 350  # pages of 100: a pull refused at page 3 has written pages 1 and 2
KEY = ("content_open_id",)


def env(**extra: str) -> dict[str, str]:
    return h.clean_env(DOUYIN_ACCESS_TOKEN=TOKEN, **extra)


def media_args(server: RecordServer, out: Path, *extra: str, quiet: bool = True) -> list[str]:
    return ["pull", "talent-media", "--base-url", server.url, "--plan-id", "5", "--douyin-id",
            "dy_x", "--out", str(out), "--max-retries", "0", *extra,
            *(["--quiet"] if quiet else [])]


def stopped_at_page_3(server: RecordServer, out: Path, *extra: str) -> None:
    """Run a pull the server stops at page 3 (permission denied): pages 1-2 are written."""
    server.media = [media(i) for i in range(RECORDS)]
    server.refuse_pages = {3}
    result = h.cli(*media_args(server, out, *extra), env=env())
    assert result.returncode == 5, result.stderr
    server.refuse_pages = set()


def rows_of(out: Path) -> list[dict[str, Any]]:
    return h.csv_rows(out) if out.suffix == ".csv" else h.jsonl_rows(out)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_partial_file_changed_since_the_run_is_refused(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"media{suffix}"
    with RecordServer() as server:
        stopped_at_page_3(server, out)
        original = out.read_bytes()
        assert len(rows_of(out)) == 200
        for changed in (original.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                        if suffix == ".jsonl" else original.replace(b"\r\n", b"\n"),
                        original.replace(b"@open1", b"@open9", 1)):
            out.write_bytes(changed)  # re-saved with other line ends, or edited
            result = h.cli(*media_args(server, out, "--resume"), env=env())
            assert result.returncode == 8, result.stderr
            assert "changed since" in result.stderr and "--force" in result.stderr
            assert out.read_bytes() == changed  # refused, not spliced
        out.write_bytes(original)
        h.assert_ok(h.cli(*media_args(server, out, "--resume"), env=env()))
    assert set(h.keyed(rows_of(out), KEY)) == {(f"@open{i}",) for i in range(RECORDS)}


def test_resume_refuses_another_server_or_another_app(tmp_path: Path) -> None:
    out = tmp_path / "media.jsonl"
    token_file = tmp_path / "token.txt"
    token_file.write_text(TOKEN)
    with RecordServer() as server, RecordServer() as other:
        stopped_at_page_3(server, out)
        other.media = server.media
        result = h.cli(*media_args(other, out, "--resume"), env=env())
        assert result.returncode == 8, result.stderr
        assert server.url in result.stderr and other.url in result.stderr
        result = h.cli(*media_args(server, out, "--resume", "--access-token-file",
                                 str(token_file)), env=h.clean_env())
        assert result.returncode == 8 and "app" in result.stderr
        assert TOKEN not in result.stderr
        assert other.requests == 0
        h.assert_ok(h.cli(*media_args(server, out, "--resume"), env=env()))
    assert len(h.keyed(h.jsonl_rows(out), KEY)) == RECORDS
    assert TOKEN.encode() not in (tmp_path / "media.jsonl.ckpt").read_bytes()


@pytest.mark.parametrize("suffix", [".csv", ".sqlite"])
def test_a_pull_failing_on_its_first_request_leaves_nothing_behind(
        tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"media{suffix}"
    args = ["pull", "talent-media", "--base-url", "http://127.0.0.1:9", "--plan-id", "5",
            "--douyin-id", "dy_x", "--out", str(out), "--max-retries", "0"]
    for _ in range(2):  # the same command again: the same error, not a conflict
        result = h.cli(*args, env=env())
        assert result.returncode == 7, result.stderr
    if suffix == ".csv":
        assert sorted(os.listdir(tmp_path)) == []


def _fabricated_resume(tmp_path: Path, args: list[str], done_first: bool) -> tuple[Path, Any]:
    """A checkpoint as a run of ``args`` leaves it after the first unit's first page."""
    spec = build_spec(h.pull_args([*args, "--resume"]))
    units = unit_queries(spec.queries)
    writer = CheckpointWriter.create(spec.out + ".ckpt", checkpoint_params(spec, None),
                                     {"units": len(units)})
    writer.record(unit_key(units[0]), 1, done_first, {"offset": 0})
    writer.close()
    return Path(spec.out), units


def test_a_resumed_pull_does_not_check_its_finished_units_against_the_90_days(
        tmp_path: Path) -> None:
    out = tmp_path / "videos.jsonl"
    args = ["pull", "task-videos", "--sandbox", "--sandbox-seed", str(h.SEED), "--billing-date",
            h.day(-1), "--published-from", h.day(-100), "--published-to", h.day(-70), "--out",
            str(out), "--quiet"]
    _, units = _fabricated_resume(tmp_path, args, done_first=True)
    assert len(units) == 2  # the first window is past the 90 days, the second is not
    h.assert_ok(h.cli(*args, "--resume"))
    second = units[1]
    truth = {(r["video_id"], r["task_id"]): r for r in (
        {"billing_date": h.day(-1), **unstructure(decode_video(raw))} for raw in
        h.DATA.task_videos(h.day(-1), second.video_publish_start_time,
                         second.video_publish_end_time, None))}
    assert h.keyed(h.jsonl_rows(out), ("video_id", "task_id")) == truth

    out.unlink()
    _fabricated_resume(tmp_path, args, done_first=False)  # the old unit is unfinished
    result = h.cli(*args, "--resume")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert f"--billing-date {h.day(-1)}, published {h.day(-100)} 00:00:00 UTC+8" in line
    assert "90 days" in line and "--force" in line
    assert "video_publish_start_time" not in line  # in the options' terms


def test_a_talent_total_that_changed_between_runs_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "media.jsonl"
    with RecordServer() as server:
        stopped_at_page_3(server, out)
        server.media_total = RECORDS + 7
        result = h.cli(*media_args(server, out, "--resume"), env=env())
        assert result.returncode == 8, result.stderr
        assert f"now counts {RECORDS + 7} records" in result.stderr
        assert f"{RECORDS} when the interrupted run" in result.stderr
        assert len(h.jsonl_rows(out)) == 200  # nothing was added
        server.media_total = None
        h.assert_ok(h.cli(*media_args(server, out, "--resume"), env=env()))
    assert len(h.keyed(h.jsonl_rows(out), KEY)) == RECORDS


def test_status_tells_what_a_checkpoint_holds(tmp_path: Path) -> None:
    out = tmp_path / "media.csv"
    with RecordServer() as server:
        stopped_at_page_3(server, out)
        result = h.cli("status", str(out))
        assert result.returncode == 0, result.stderr
        text = result.stdout
        assert "talent-media pull, interrupted" in text
        assert "units: 0 done, 1 pending (1 started) of 1" in text
        assert "records: 200 written" in text
        assert f"server: {server.url}" in text
        assert "app: token from $DOUYIN_ACCESS_TOKEN" in text
        assert TOKEN not in text
        assert f"output: {out} holds the " in text
        original = out.read_bytes()
        out.write_bytes(original.replace(b"@open1", b"@open9", 1))
        assert "was changed since the pull wrote it" in h.cli("status", str(out)).stdout
        out.write_bytes(original)
        h.assert_ok(h.cli(*media_args(server, out, "--resume"), env=env()))
    text = h.cli("status", str(out)).stdout
    assert "complete" in text and f"records: {RECORDS} written" in text
    missing = h.cli("status", str(tmp_path / "none.jsonl"))
    assert missing.returncode == 3 and "no checkpoint" in missing.stderr


def test_quarantined_records_exit_11_and_survive_a_resume_once(tmp_path: Path) -> None:
    out = tmp_path / "media.jsonl"
    rejects = tmp_path / "media.jsonl.rejects.jsonl"
    with RecordServer() as server:
        server.media = [media(i) for i in range(RECORDS)]
        del server.media[5]["content_open_id"]  # a required field missing
        server.refuse_pages = {3}
        result = h.cli(*media_args(server, out, "--on-invalid-record", "quarantine"), env=env())
        assert result.returncode == 5, result.stderr
        server.refuse_pages = set()
        result = h.cli(*media_args(server, out, "--on-invalid-record", "quarantine",
                                 "--resume", quiet=False), env=env())
        assert result.returncode == 11, result.stderr
        assert "1 refused" in result.stderr.splitlines()[0]
        assert result.stderr.splitlines()[1].endswith(
            f"1 record was refused and quarantined in {rejects}")
    (entry,) = [orjson.loads(line) for line in rejects.read_bytes().splitlines()]
    assert (entry["page"], entry["index"], entry["field"]) == (1, 5, "content_open_id")
    assert entry["record"] == {k: v for k, v in media(5).items() if k != "content_open_id"}
    assert len(h.keyed(h.jsonl_rows(out), KEY)) == RECORDS - 1

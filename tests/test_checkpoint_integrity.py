"""The checkpoint trusts none of its own lines: each unit's progress is chained like the
output's digest, every value is checked, and only a bounded regular file is read (a FIFO, a
symbolic link to a device or a huge file is refused at once, never read or waited on)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import clean_env, cli, jsonl_rows
from record_server import RecordServer
from test_cli_resume import TOKEN, media_args, stopped_at_page_3

from douyin_async.cli.exits import FILES, CliError
from douyin_async.cli.outputs import checkpoint
from douyin_async.cli.outputs.checkpoint import CheckpointWriter, read_checkpoint

PARAMS: dict[str, Any] = {"command": "talent-media", "plan_id": 1}
DIGEST = "ab" * 32
TOTALS: dict[str, Any] = {"offset": 10, "sha256": DIGEST, "records": 2, "rejects": 0,
                          "rejected": 0}


def written(tmp_path: Path, *pages: tuple[str, Any, Any, dict[str, Any]]) -> Path:
    path = tmp_path / "out.jsonl.ckpt"
    writer = CheckpointWriter.create(str(path), PARAMS)
    for unit, page, done, totals in pages:
        writer.record(unit, page, done, totals)
    writer.close()
    return path


def damaged(path: Path) -> CliError:
    with pytest.raises(CliError) as caught:
        read_checkpoint(str(path))
    assert caught.value.code == FILES, caught.value
    return caught.value


@pytest.mark.parametrize(("old", "new"), [
    (b'"done":false', b'"done":true'), (b'"page":1', b'"page":2'),
    (b'"offset":10', b'"offset":11'), (b'"unit":"u1"', b'"unit":"u9"')])
@pytest.mark.parametrize("line", [2, 3])
def test_an_edited_progress_line_is_a_damaged_checkpoint(tmp_path: Path, old: bytes,
                                                         new: bytes, line: int) -> None:
    path = written(tmp_path, ("u1", 1, False, TOTALS), ("u1", 1, False, TOTALS),
                   ("u2", 1, True, TOTALS))
    lines = path.read_bytes().split(b"\n")
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new)
    path.write_bytes(b"\n".join(lines))
    assert f"line {line}" in str(damaged(path))


def test_a_removed_or_repeated_line_breaks_the_chain(tmp_path: Path) -> None:
    path = written(tmp_path, ("u1", 1, False, TOTALS), ("u1", 2, True, TOTALS),
                   ("u2", 1, False, TOTALS))
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([lines[0], lines[2], lines[3], b""]))
    assert "line 2" in str(damaged(path))
    path.write_bytes(b"\n".join([*lines[:3], lines[2], lines[3], b""]))
    assert "line 4" in str(damaged(path))


@pytest.mark.parametrize(("page", "done", "totals"), [
    (1e30, False, TOTALS), (float("nan"), False, TOTALS), (0, False, TOTALS),
    (-1, False, TOTALS), (True, False, TOTALS), ("2", False, TOTALS),
    (1, "yes", TOTALS), (1, 1, TOTALS), (1, False, {**TOTALS, "offset": 1e30}),
    (1, False, {**TOTALS, "offset": -5}), (1, False, {**TOTALS, "sha256": "zz"}),
    (1, False, {**TOTALS, "records": None}), (1, False, {**TOTALS, "rejected": [1]})])
@pytest.mark.parametrize("last", [False, True])
def test_every_malformed_value_is_a_damaged_checkpoint(tmp_path: Path, page: Any, done: Any,
                                                       totals: dict[str, Any],
                                                       last: bool) -> None:
    # Chained correctly (written by the writer itself): the values alone are wrong.
    later = [] if last else [("u2", 1, True, TOTALS)]
    path = written(tmp_path, ("u1", 1, False, TOTALS), ("u1", page, done, totals), *later)
    assert "line 3" in str(damaged(path))


def test_a_unit_key_of_the_wrong_type_and_an_odd_total_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "out.ckpt"
    writer = CheckpointWriter.create(str(path), PARAMS)
    writer.record(5, 1, False, TOTALS)  # type: ignore[arg-type]
    writer.close()
    damaged(path)
    writer = CheckpointWriter.create(str(path), PARAMS)
    writer.record("u", 1, False, TOTALS, announced=-3)
    writer.close()
    damaged(path)


def test_a_cut_last_line_is_still_ignored_and_the_chain_goes_on(tmp_path: Path) -> None:
    path = written(tmp_path, ("u1", 1, False, TOTALS))
    with path.open("ab") as handle:
        handle.write(b'{"unit":"u1","pa')
    state = read_checkpoint(str(path))
    assert state is not None and state.units == {"u1": (1, False)}
    writer = CheckpointWriter.reopen(str(path), state)
    writer.record("u1", 2, True, TOTALS)
    writer.close()
    again = read_checkpoint(str(path))
    assert again is not None and again.units == {"u1": (2, True)}


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl.ckpt"
    os.mkfifo(path)  # no writer: a blocking open would wait for ever
    assert "not a regular file" in str(damaged(path))


def test_a_symbolic_link_is_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl.ckpt"
    path.symlink_to("/dev/zero")
    assert "symbolic link" in str(damaged(path))
    real = written(tmp_path / "..", ("u1", 1, False, TOTALS))
    path.unlink()
    path.symlink_to(real)
    assert "symbolic link" in str(damaged(path))


def test_a_checkpoint_over_the_bound_is_refused_unread(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = written(tmp_path, *[("u1", n, False, TOTALS) for n in range(1, 40)])
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", path.stat().st_size - 1)
    assert "larger than" in str(damaged(path))
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", path.stat().st_size)
    assert read_checkpoint(str(path)) is not None


def test_the_temporary_header_file_is_never_written_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep")
    path = tmp_path / "out.jsonl.ckpt"
    (tmp_path / "out.jsonl.ckpt.tmp").symlink_to(target)
    CheckpointWriter.create(str(path), PARAMS).close()
    assert target.read_bytes() == b"keep"
    assert read_checkpoint(str(path)) is not None


@pytest.mark.slow
@pytest.mark.parametrize(("old", "new"), [
    (b'"done":false', b'"done":true'), (b'"page":2', b'"page":3'),
    (b'"page":2', b'"page":1e30')])
def test_resume_after_an_edited_last_line_exits_with_the_file_error(
        tmp_path: Path, old: bytes, new: bytes) -> None:
    out = tmp_path / "media.jsonl"
    with RecordServer() as server:
        stopped_at_page_3(server, out)
        ckpt = Path(f"{out}.ckpt")
        lines = ckpt.read_bytes().split(b"\n")
        assert old in lines[-2]
        lines[-2] = lines[-2].replace(old, new)
        ckpt.write_bytes(b"\n".join(lines))
        result = cli(*media_args(server, out, "--resume"),
                     env=clean_env(DOUYIN_ACCESS_TOKEN=TOKEN))
    assert result.returncode == FILES, result.stderr
    assert "damaged at line 3" in result.stderr and "Traceback" not in result.stderr
    assert len(jsonl_rows(out)) == 200  # nothing dropped, nothing appended


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_resume_from_a_fifo_or_a_device_exits_at_once(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "media.jsonl"
    out.write_bytes(b"")
    ckpt = Path(f"{out}.ckpt")
    if kind == "fifo":
        os.mkfifo(ckpt)
    else:
        ckpt.symlink_to("/dev/zero")
    with RecordServer() as server:
        result = cli(*media_args(server, out, "--resume"), timeout=60,
                     env=clean_env(DOUYIN_ACCESS_TOKEN=TOKEN))
    assert result.returncode == FILES, result.stderr
    assert "--force" in result.stderr and "Traceback" not in result.stderr

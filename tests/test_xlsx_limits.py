"""An ``.xlsx`` output never loses text: a value longer than a cell holds fails the build,
naming its row and column, or (``--xlsx-long-text split``) goes on in continuation columns;
every XlsxWriter write is checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apiserver import media
from helpers.cli import clean_env, cli
from record_server import RecordServer
from test_cli_outputs_units import PARAMS, media_row

from douyin_async.cli.exits import FILES, USAGE
from douyin_async.cli.outputs import xlsx
from douyin_async.cli.outputs.checkpoint import read_checkpoint
from douyin_async.cli.outputs.rows import TALENT_MEDIA
from douyin_async.cli.outputs.xlsx import MAX_CELL_CHARS, XlsxCellError, XlsxOutput

openpyxl = pytest.importorskip("openpyxl")
pytest.importorskip("xlsxwriter")

LONG = "".join(chr(0x4E00 + i % 500) for i in range(2 * MAX_CELL_CHARS + 100))


def build(tmp_path: Path, rows: list[dict[str, Any]], **kw: Any) -> str:
    out = str(tmp_path / "media.xlsx")
    sink = XlsxOutput(out, TALENT_MEDIA, **kw)
    sink.open(PARAMS, resume=False, force=False)
    try:
        sink.write_page("u", 1, True, rows)
        sink.finish()
    finally:
        sink.close()
    return out


def test_a_value_too_long_for_a_cell_fails_the_build_naming_its_row_and_column(
        tmp_path: Path) -> None:
    rows = [media_row(0), media_row(1, content_open_id=LONG), media_row(2)]
    with pytest.raises(XlsxCellError) as caught:
        build(tmp_path, rows)
    error = caught.value
    assert error.code == FILES
    assert (error.sheet, error.row, error.column, error.cell) == (
        "talent_media", 3, "content_open_id", "D3")
    assert f"{len(LONG):,} characters" in str(error) and "--xlsx-long-text split" in str(error)
    out = tmp_path / "media.xlsx"
    assert not out.exists() and not Path(f"{out}.tmp").exists()
    state = read_checkpoint(f"{out}.ckpt")
    assert state is not None and not state.complete  # resumable: the rows are kept
    assert Path(xlsx.side_path(str(out))).exists()


def test_split_mode_writes_long_text_across_continuation_columns(tmp_path: Path) -> None:
    rows = [media_row(0), media_row(1, content_open_id=LONG), media_row(2, douyin_id="d" * 5)]
    out = build(tmp_path, rows, long_text="split")
    sheet = openpyxl.load_workbook(out)["talent_media"]
    table = list(sheet.iter_rows(values_only=True))
    header = list(table[0])
    at = header.index("content_open_id")
    assert header[at:at + 4] == ["content_open_id", "content_open_id (part 2)",
                                 "content_open_id (part 3)", "content_type"]
    assert "".join(table[2][at:at + 3]) == LONG
    assert [len(cell) for cell in table[2][at:at + 3]] == [MAX_CELL_CHARS, MAX_CELL_CHARS, 100]
    assert table[1][at:at + 4] == ("@0", None, None, 1)  # short text: one cell
    assert table[3][header.index("douyin_id")] == "ddddd"
    assert table[3][header.index("play_cnt")] == 2  # the columns after keep their values


def test_every_write_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Let a value past XlsxWriter's own limit through the scan: its refusal must not be lost.
    monkeypatch.setattr(xlsx, "MAX_CELL_CHARS", 10 * MAX_CELL_CHARS)
    with pytest.raises(XlsxCellError) as caught:
        build(tmp_path, [media_row(0, douyin_id=LONG)])
    assert caught.value.cell == "B2" and "XlsxWriter refused" in str(caught.value)


@pytest.mark.slow
def test_the_command_fails_then_resumes_split(tmp_path: Path) -> None:
    out = tmp_path / "media.xlsx"
    env = clean_env(DOUYIN_ACCESS_TOKEN="token-x")
    with RecordServer() as server:
        server.media = [media(i) for i in range(5)]
        server.media[3]["content_open_id"] = LONG
        args = ["pull", "talent-media", "--base-url", server.url, "--plan-id", "5",
                "--douyin-id", "dy_x", "--out", str(out), "--max-retries", "0", "--quiet"]
        failed = cli(*args, env=env)
        assert failed.returncode == FILES, failed.stderr
        assert "row 5" in failed.stderr and "'content_open_id'" in failed.stderr
        assert not out.exists()
        wrong = cli(*args[:-2], str(tmp_path / "m.jsonl"), "--xlsx-long-text", "split",
                    env=env)
        assert wrong.returncode == USAGE, wrong.stderr
        done = cli(*args, "--resume", "--xlsx-long-text", "split", env=env)
        assert done.returncode == 0, done.stderr
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    at = rows[0].index("content_open_id")
    assert "".join(rows[4][at:at + 3]) == LONG and len(rows) == 6

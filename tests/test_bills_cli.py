"""``douyin-async pull bills``: every output format, usage and conflict exits, and pulls killed
at points drawn with fixed seeds that resume to exactly the sandbox's rows (no row lost, none
twice)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from helpers.cli import run_until
from test_bills import csv_bytes, row

from douyin_async.bills.records import COLUMNS, SHANGHAI
from douyin_async.sandbox import SandboxConfig, SandboxData, SubprocessSandbox

TODAY = dt.datetime.now(SHANGHAI).date()
DATES = [(TODAY - dt.timedelta(days=n)).isoformat() for n in (3, 2, 1)]
CONFIG = SandboxConfig(seed=11, bill_rows=12_000, bill_live_rows=50, bill_encoding="gb18030")


@pytest.fixture(scope="module")
def server() -> Iterator[SubprocessSandbox]:
    with SubprocessSandbox(CONFIG) as sandbox:
        yield sandbox


def env(server: SubprocessSandbox) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("DOUYIN_")}
    values["DOUYIN_ACCESS_TOKEN"] = server.token
    return values


def args(server: SubprocessSandbox, out: Path, *extra: str, quiet: bool = True) -> list[str]:
    return ["pull", "bills", "--base-url", server.url, "--bill-date", f"{DATES[0]}..{DATES[-1]}",
            "--out", str(out), *(["--quiet"] if quiet else []), *extra]


def cli(server: SubprocessSandbox, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "douyin_async", *argv], capture_output=True,
                          text=True, env=env(server), timeout=120)


def _text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    return value.isoformat() if isinstance(value, dt.date) else value


def truth(kind: str = "video") -> list[dict[str, Any]]:
    """The sandbox's rows as ``pull bills`` writes them to JSONL (unknown columns in
    ``extra``)."""
    data = SandboxData(CONFIG)
    rows = []
    for day in DATES:
        for n, raw in enumerate(data.bill_rows(day, kind=kind, decoded=True), 1):  # type: ignore[arg-type]
            row: dict[str, Any] = {"agency": 0, "kind": kind, "file_date": day, "row": n}
            row.update((COLUMNS[h][0], _text(v)) for h, v in raw.items() if h in COLUMNS)
            rows.append((row, {h: v for h, v in raw.items() if h not in COLUMNS}))
    return [{**known, "extra": extra} if extra else known for known, extra in rows]


def read(out: Path) -> list[dict[str, Any]]:
    """The rows of an output, as JSONL would hold them."""
    known = {name for name, _ in COLUMNS.values()} | {"agency", "kind", "file_date", "row"}
    if out.suffix == ".jsonl":
        return [orjson.loads(line) for line in out.read_bytes().splitlines()]
    if out.suffix == ".csv":
        with out.open(newline="", encoding="utf-8-sig") as handle:
            table = list(csv.DictReader(handle))
        ints = {"agency", "row"} | {n for n, k in COLUMNS.values() if k in ("int", "datetime")}
        rows = [{k: (int(v) if k in ints else v) for k, v in r.items() if k in known and v}
                for r in table]
        for row, r in zip(rows, table, strict=True):
            if r["extra"]:
                row["extra"] = orjson.loads(r["extra"])
        return rows
    conn = sqlite3.connect(out)
    try:
        cursor = conn.execute("SELECT * FROM bills ORDER BY file_date, row")
        names = [d[0] for d in cursor.description]
        found = []
        for values in cursor:
            row = {k: v for k, v in zip(names, values, strict=True) if v is not None}
            if "extra" in row:
                row["extra"] = orjson.loads(row["extra"])
            found.append(row)
        return found
    finally:
        conn.close()


def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".sqlite"])
def test_each_format_holds_the_sandbox_rows(server: SubprocessSandbox, tmp_path: Path,
                                            suffix: str) -> None:
    out = tmp_path / f"bills{suffix}"
    result = cli(server, *args(server, out, "--live", quiet=False))
    assert result.returncode == 0, result.stderr
    assert "done: 3 files, 150 rows, 0 refused" in result.stderr
    assert comparable(read(out)) == comparable(truth("live"))


def test_relative_bill_dates_are_beijing_days_read_as_values(server: SubprocessSandbox,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "bills.jsonl"
    result = cli(server, "pull", "bills", "--base-url", server.url, "--bill-date", "-3d..-1d",
                 "--live", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert comparable(read(out)) == comparable(truth("live"))


def test_usage_and_conflict_exits(server: SubprocessSandbox, tmp_path: Path) -> None:
    out = tmp_path / "b.jsonl"
    today = cli(server, "pull", "bills", "--base-url", server.url, "--bill-date",
                TODAY.isoformat(), "--out", str(out))
    assert today.returncode == 2 and "not over yet" in today.stderr
    old = (TODAY - dt.timedelta(days=181)).isoformat()
    assert cli(server, *args(server, out)[:4], "--bill-date", old, "--out",
               str(out)).returncode == 2
    assert cli(server, *args(server, out, "--live")).returncode == 0
    again = cli(server, *args(server, out, "--live"))
    assert again.returncode == 8 and "--resume" in again.stderr
    other = cli(server, *args(server, out, "--resume"))
    assert other.returncode == 8 and "live" in other.stderr
    dry = cli(server, *args(server, out, "--dry-run"))
    assert dry.returncode == 2 and "--dry-run" in dry.stderr
    done = cli(server, *args(server, out, "--live", "--resume", quiet=False))
    assert done.returncode == 0 and "already complete" in done.stderr


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize(("suffix", "seed"), [(".jsonl", 1), (".csv", 2), (".sqlite", 3)])
def test_killed_pulls_resume_to_exactly_the_sandbox_rows(server: SubprocessSandbox,
                                                         tmp_path: Path, suffix: str,
                                                         seed: int) -> None:
    out = tmp_path / f"bills{suffix}"
    watched = out if suffix == ".sqlite" else out.with_name(out.name + ".ckpt")
    rng = random.Random(seed)

    def grows(amount: int) -> Callable[[], bool]:
        base = _size(watched)
        return lambda: _size(watched) >= base + amount

    steps = (300, 2_000) if suffix != ".sqlite" else (300_000, 3_000_000)
    token = tmp_path / "token"
    token.write_text(server.token)
    argv = args(server, out, "--batch-rows", "400", "--access-token-file", str(token))
    finished = False
    for i in range(4):  # stops after the output grew by an amount drawn with a fixed seed
        finished = run_until([*argv, *(["--resume"] if i else [])],
                             grows(rng.randrange(*steps)), deadline=90)
        if finished:
            break
    while not finished:
        finished = run_until([*argv, "--resume"], None, deadline=90)
    assert comparable(read(out)) == comparable(truth())


def test_progress_tells_bytes_and_rows(server: SubprocessSandbox, tmp_path: Path) -> None:
    result = cli(server, *args(server, tmp_path / "b.jsonl", "--progress-interval", "0.05",
                               quiet=False))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("bills: ")]
    assert lines, result.stderr
    size = SandboxData(CONFIG).bill_file(DATES[0]).size / 2**20
    assert re.search(rf"/3 files; {DATES[0]} video: [\d.]+ MiB of {size:.1f} MiB, row [\d,]+;",
                     "\n".join(lines)), lines
    assert result.stderr.splitlines()[-1].startswith("done: 3 files, 36,000 rows, 0 refused, ")


def test_quarantine_entries_name_the_file_the_row_and_the_raw_cells() -> None:
    from douyin_async.bills.download import BillBatch
    from douyin_async.cli.bills import batch_rejects, unit_key
    from douyin_async.errors import InvalidRecordError

    bad = InvalidRecordError("row 7", field="gmv_1d", reason="not an integer: '1.5'",
                             record=["2026-11-01", "1", "1.5"], index=7)
    batch = BillBatch("2026-11-01", "video", [], (bad,), last_row=9, done=False)
    entries = batch_rejects(batch, unit_key("2026-11-01", False, "video"))
    assert entries == [{"unit": ["bills", "2026-11-01", False, "video"], "page": 9, "index": 7,
                        "field": "gmv_1d", "reason": "not an integer: '1.5'",
                        "record": ["2026-11-01", "1", "1.5"]}]


async def test_quarantine_keeps_bad_rows_aside_and_exits_11(tmp_path: Path) -> None:
    rows = [row(i) for i in range(50)]
    rows[10][1] = "x"
    rows[30][5] = "1.5"
    body = csv_bytes(rows)
    app = web.Application()
    base = ""

    async def links(request: web.Request) -> web.Response:
        expires = int(time.time()) + 3600
        return web.json_response({"err_no": 0, "err_msg": "", "log_id": "L1", "data": {
            "bill_link": f"{base}/f.csv?x-expires={expires}&x-signature=s"}})

    async def file(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/csv")

    app.router.add_post("/api/match/v2/taskbox/query_bill_link/", links)
    app.router.add_get("/f.csv", file)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    out = tmp_path / "b.jsonl"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DOUYIN_")}
    environment["DOUYIN_ACCESS_TOKEN"] = "tok"
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "douyin_async", "pull", "bills", "--base-url", base,
            "--bill-date", DATES[-1], "--out", str(out), "--on-invalid-record", "quarantine",
            env=environment, stderr=asyncio.subprocess.PIPE)
        _, err = await process.communicate()
    finally:
        await runner.cleanup()
    assert process.returncode == 11, err.decode()
    assert "2 rows were refused and quarantined" in err.decode()
    written = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [r["row"] for r in written] == [n for n in range(1, 51) if n not in (11, 31)]
    rejects = [orjson.loads(line) for line in (tmp_path / "b.jsonl.rejects.jsonl")
               .read_bytes().splitlines()]
    assert [(r["index"], r["field"]) for r in rejects] == [(11, "video_id"), (31, "gmv_1d")]
    assert rejects[0]["record"] == rows[10]

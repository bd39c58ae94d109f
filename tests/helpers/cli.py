"""What the command-line tests share: running ``douyin-async`` in a subprocess, the
sandbox's ground truth of a pull, and reading outputs back (JSONL, CSV, SQLite).

Days are Beijing days, as the command reads them: ``day(-1)`` is the command's ``yesterday``.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson

from douyin_async.cli.app import run
from douyin_async.cli.outputs.encoders import FORMULA_STARTS
from douyin_async.days import beijing_day, beijing_moment
from douyin_async.decode.converter import converter, decode_talent_media
from douyin_async.decode.fields import snake
from douyin_async.models import VideoDailyData
from douyin_async.sandbox.config import SandboxConfig
from douyin_async.sandbox.data import SandboxData
from douyin_async.sandbox.envelopes import data_date

#: The console command (its entry point handles signals before the package is imported).
COMMAND = Path(sys.executable).with_name("douyin-async")
SEED = 7
TODAY = beijing_day()
FAST = ["--sandbox", "--sandbox-seed", str(SEED), "--sandbox-qps", "400",
        "--rate-limit", "300", "--max-concurrency", "16"]
VIDEO_KEY = ("billing_date", "video_id", "task_id")
MEDIA_KEY = ("plan_id", "douyin_id", "content_open_id", "content_type")
DATA = SandboxData(SandboxConfig(seed=SEED))


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOUYIN_")}
    env.update(extra)
    return env


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "douyin_async", *args], capture_output=True,
                          text=True, env=env or clean_env(), timeout=timeout, cwd=cwd)


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def window(first: str, last: str) -> tuple[int, int]:
    """The publish window of ``--published-from FIRST --published-to LAST`` (Beijing days)."""
    start = beijing_moment(dt.date.fromisoformat(first))
    end = beijing_moment(dt.date.fromisoformat(last), dt.time(23, 59, 59))
    return int(start.timestamp()), int(end.timestamp())


def video_truth(dates: list[str], first: str, last: str, douyin_id: str | None = None,
                data: SandboxData = DATA) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The rows a pull must write, from the sandbox's own ground truth (it does not go
    through the client's decoder)."""
    start, end = window(first, last)
    truth = {}
    for billing in dates:
        for expected in data.expected_task_videos(billing, start, end, douyin_id):
            row = {"billing_date": billing, **written(VideoDailyData(**expected))}
            truth[tuple(row[k] for k in VIDEO_KEY)] = row
    return truth


def media_truth(plans: list[int], talents: list[str],
                content_type: int) -> dict[tuple[Any, ...], dict[str, Any]]:
    truth = {}
    for plan in plans:
        for talent in talents:
            for raw in DATA.talent_media(plan, talent, content_type):
                row = {"plan_id": plan, "douyin_id": talent, "date": data_date(time.time()),
                       **written(decode_talent_media(raw))}
                truth[tuple(row[k] for k in MEDIA_KEY)] = row
    return truth


def written(record: Any) -> dict[str, Any]:
    """A record as a pull writes it: its fields, and its unknown keys in one ``extra``
    object under their snake_case spelling."""
    row: dict[str, Any] = converter.unstructure(record)
    extra = {snake(key): value for key, value in row.pop("extra").items()}
    return {**row, "extra": extra} if extra else row


def keyed(rows: list[dict[str, Any]], key: tuple[str, ...]) -> dict[tuple[Any, ...], Any]:
    out = {tuple(r[k] for k in key): r for r in rows}
    assert len(out) == len(rows), "duplicate rows"
    return out


def jsonl_rows(path: Path) -> list[dict[str, Any]]:
    """JSONL rows as written: unknown keys in one ``extra`` object, if any."""
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _unescaped(value: str) -> str:
    """A spreadsheet-safe CSV cell as it was before its formula escape."""
    return value[1:] if value.startswith("'") and value[1:2] in FORMULA_STARTS else value


def _with_extra(row: dict[str, Any], as_text: bool = False) -> dict[str, Any]:
    """A row read back from a fixed-column output: its ``extra`` column (JSON text) as the
    object JSONL writes, and absent when empty."""
    extra = row.pop("extra", None)
    if extra:
        row["extra"] = orjson.loads(extra)
    return row


def csv_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [_with_extra({k: v if k == "extra" else _unescaped(v) for k, v in row.items()},
                            as_text=True)
                for row in csv.DictReader(handle)]


def as_text(truth: dict[tuple[Any, ...], dict[str, Any]]) -> dict[tuple[Any, ...], Any]:
    """Ground truth as CSV reads it back: every key and value as text (None: empty)."""
    return {tuple(str(k) for k in key):
            {c: v if c == "extra" else "" if v is None else str(v) for c, v in row.items()}
            for key, row in truth.items()}


def sqlite_rows(path: Path, table: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(path)
    try:
        cursor = conn.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cursor.description]
        return [_with_extra(dict(zip(names, row, strict=True))) for row in cursor]
    finally:
        conn.close()


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def line_count(path: Path) -> int:
    """Lines of a file (a checkpoint's entries); 0 when it does not exist."""
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def run_until(args: list[str], stop: Callable[[], bool] | None, deadline: float = 60) -> bool:
    """Run the command; SIGKILL it as soon as ``stop()`` holds. True if it finished first."""
    process = subprocess.Popen([sys.executable, "-m", "douyin_async", *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=clean_env())
    started = time.monotonic()
    try:
        while process.poll() is None:
            if stop is not None and stop():
                process.send_signal(signal.SIGKILL)
                process.wait()
                return False
            assert time.monotonic() - started < deadline, "the pull did not end"
            time.sleep(0.003)
        assert process.stderr is not None
        err = process.stderr.read().decode()
        assert process.returncode == 0, err
        assert "Traceback" not in err
        return True
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


SLOW = ["--sandbox", "--sandbox-seed", str(SEED), "--sandbox-latency", "0.03",
        "--sandbox-qps", "120", "--rate-limit", "100", "--quiet"]


def _caught(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has a handler for ``sig`` (Linux: /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = int(re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.M)[1], 16)  # type: ignore[index]
    return bool(mask >> (sig - 1) & 1)


def wait_for_handler(process: subprocess.Popen[bytes]) -> None:
    """Until the entry point has installed its SIGTERM handler (Python installs none)."""
    while not _caught(process.pid, signal.SIGTERM):
        assert process.poll() is None, "the command ended before handling signals"
        time.sleep(0.001)


def _entry(line: bytes) -> dict[str, Any]:
    """A JSON line of stderr; a text line (a stop before the options are read) as one too."""
    if line.startswith(b"{"):
        entry: dict[str, Any] = orjson.loads(line)
        return entry
    text = line.decode().strip()
    return {"level": "error", "message": text.removeprefix("douyin-async: error: "),
            "exit_code": 143}


def stop_after(args: list[str], pages: int | None, sig: int) -> tuple[int, list[Any]]:
    """Run the command and send ``sig`` once it has written ``pages`` pages (0: at start-up,
    None: never); its exit code and the JSON lines of its stderr."""
    process = subprocess.Popen([str(COMMAND), *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=clean_env())
    assert process.stderr is not None
    try:
        if pages == 0:
            if sig == signal.SIGTERM:
                wait_for_handler(process)
            process.send_signal(sig)
        lines = []
        written = 0
        for line in process.stderr:
            lines.append(_entry(line))
            if lines[-1].get("event") == "page":
                written += 1
                if written == pages:
                    process.send_signal(sig)
        return process.wait(timeout=60), lines
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()


def pull_args(argv: Sequence[str]) -> SimpleNamespace:
    """The options a ``pull`` command line gives (``kind`` and one attribute per option),
    read but not run: what ``build_spec`` takes. A usage error raises ``CliError``."""
    found: list[SimpleNamespace] = []
    run(argv, SimpleNamespace(pull=found.append))
    return found[0]

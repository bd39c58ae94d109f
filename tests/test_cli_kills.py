"""A pull stopped again and again, in every output format, resumes to exactly the sandbox's
records: SIGKILL (nothing runs after it) or SIGTERM (the command's own stop), at start-up and
after a number of pages drawn with a fixed seed.

The pulls log every page written (``-vv --log-format json``), so a stop falls after a counted
number of pages, whatever the machine's speed; no assertion depends on the clock.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers.cli import (
    COMMAND,
    SEED,
    VIDEO_KEY,
    as_text,
    cli,
    csv_rows,
    day,
    jsonl_rows,
    keyed,
    sqlite_rows,
    stop_after,
    video_truth,
)

from douyin_async.sandbox.config import SandboxConfig
from douyin_async.sandbox.data import SandboxData

pytestmark = pytest.mark.slow

RESUME_HINT = "; the same command with --resume continues the pull"
#: About 100 pages of 150 records: two billing dates of a six-day window.
DATES = [day(-2), day(-1)]
#: A spreadsheet is built once, at the end, from all the rows: half the pull (one date) does.
SHEET_DATES = DATES[1:]


def videos_args(out: Path, realistic: bool, dates: list[str]) -> list[str]:
    return ["pull", "task-videos", "--sandbox", "--sandbox-seed", str(SEED),
            "--sandbox-latency", "0.03", "--sandbox-qps", "120", "--rate-limit", "100",
            *(["--sandbox-realistic"] if realistic else []), "--billing-date",
            f"{dates[0]}..{dates[-1]}", "--published-from", day(-6), "--published-to",
            day(-1), "--page-size", "150", "--quiet", "-vv", "--log-format", "json",
            "--out", str(out)]


def ends_at_its_checkpoint(out: Path) -> bool:
    """Whether the output ends where its checkpoint's last page says (no page half written)."""
    ckpt = out.with_name(out.name + ".ckpt")
    entries = [orjson.loads(line) for line in ckpt.read_bytes().splitlines()] \
        if ckpt.exists() else []
    offsets = [entry["offset"] for entry in entries[1:] if "offset" in entry]
    return not offsets or offsets[-1] == (out.stat().st_size if out.exists() else 0)


def read_back(out: Path, suffix: str) -> list[dict[str, Any]]:
    if suffix in (".jsonl", ".csv"):
        return jsonl_rows(out) if suffix == ".jsonl" else csv_rows(out)
    if suffix == ".sqlite":
        return sqlite_rows(out, "task_videos")
    if suffix.endswith(".gz"):
        import gzip

        plain = out.with_name("plain")
        plain.write_bytes(gzip.decompress(out.read_bytes()))
        return jsonl_rows(plain) if suffix == ".jsonl.gz" else csv_rows(plain)
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(out, read_only=True)
    try:
        rows = list(book["task_videos"].iter_rows(values_only=True))
    finally:
        book.close()
    return [{k: _text(v) for k, v in zip(rows[0], r, strict=True)} for r in rows[1:]]


def _text(value: Any) -> str:
    """A typed spreadsheet cell as CSV shows it (a date cell is a midnight datetime)."""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    return "" if value is None else str(value)


@pytest.mark.parametrize(("suffix", "sig", "realistic", "seed"), [
    (".jsonl", signal.SIGKILL, False, 1), (".jsonl", signal.SIGTERM, True, 2),
    (".csv", signal.SIGKILL, True, 3), (".csv", signal.SIGTERM, False, 4),
    (".sqlite", signal.SIGKILL, False, 5), (".sqlite", signal.SIGTERM, True, 6),
    (".jsonl.gz", signal.SIGKILL, False, 7), (".csv.gz", signal.SIGTERM, False, 8),
    (".xlsx", signal.SIGKILL, False, 9), (".xlsx", signal.SIGTERM, True, 10),
], ids=lambda v: getattr(v, "name", str(v)))
def test_stopped_pulls_resume_to_the_exact_record_set(
        tmp_path: Path, suffix: str, sig: int, realistic: bool, seed: int) -> None:
    if suffix == ".xlsx":
        pytest.importorskip("xlsxwriter")
        pytest.importorskip("openpyxl")
    assert COMMAND.exists(), f"{COMMAND}: the console command is not installed"
    rng = random.Random(seed)
    out = tmp_path / f"videos{suffix}"
    dates = SHEET_DATES if suffix == ".xlsx" else DATES
    args = videos_args(out, realistic, dates)
    stops = [0, *(rng.randrange(1, 20 * len(dates)) for _ in range(3))]  # of 50 per date
    stopped_mid_pull = 0
    for n, pages in enumerate(stops):
        code, lines = stop_after([*args, "--resume"] if n else args, pages, sig)
        assert code == (143 if sig == signal.SIGTERM else -sig), lines[-1:]
        written = sum(line.get("event") == "page" for line in lines)
        if sig == signal.SIGTERM:  # one line says what happened, and how to go on
            errors = [line for line in lines if line["level"] == "error"]
            assert len(errors) == 1 and errors[0]["exit_code"] == 143, errors
            assert errors[0]["message"].startswith("terminated (SIGTERM)"), errors
            if written:
                assert errors[0]["message"] == "terminated (SIGTERM)" + RESUME_HINT
            if suffix in (".jsonl", ".csv", ".jsonl.gz", ".csv.gz"):
                assert ends_at_its_checkpoint(out)
        stopped_mid_pull += written > 0
    code, lines = stop_after([*args, "--resume"], None, sig)
    assert code == 0, lines[-1:]
    assert stopped_mid_pull >= 1
    config = SandboxConfig(seed=SEED, realism="realistic" if realistic else "tidy")
    truth = video_truth(dates, day(-6), day(-1), data=SandboxData(config))
    rows = read_back(out, suffix)
    if suffix in (".jsonl", ".sqlite", ".jsonl.gz"):
        assert keyed(rows, VIDEO_KEY) == truth
    elif suffix == ".xlsx":  # cells are typed: compare the keys as text
        assert set(keyed(rows, VIDEO_KEY)) == set(as_text(truth))
    else:
        assert keyed(rows, VIDEO_KEY) == as_text(truth)
    done = cli("status", str(out))
    assert done.returncode == 0 and ", complete" in done.stdout.splitlines()[0]

"""The ``douyin-async`` command end to end: real subprocesses, real files, a real sandbox.

Outputs are compared with the sandbox's ground truth exactly: the same keys, each once, with
the same field values.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from douyin_async.cli.encoders import FORMULA_STARTS
from douyin_async.decode.converter import decode_talent_media, unstructure
from douyin_async.models import VideoDailyData
from douyin_async.sandbox.config import SandboxConfig
from douyin_async.sandbox.data import SandboxData
from douyin_async.sandbox.server import ThreadedSandbox

pytestmark = pytest.mark.slow

SEED = 7
TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY = TODAY - dt.timedelta(days=1)
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
    start = dt.datetime.combine(dt.date.fromisoformat(first), dt.time(), dt.UTC)
    end = dt.datetime.combine(dt.date.fromisoformat(last), dt.time(23, 59, 59), dt.UTC)
    return int(start.timestamp()), int(end.timestamp())


def video_truth(dates: list[str], first: str, last: str, douyin_id: str | None = None,
                data: SandboxData = DATA) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The rows a pull must write, from the sandbox's own ground truth (it does not go
    through the client's decoder)."""
    start, end = window(first, last)
    truth = {}
    for billing in dates:
        for expected in data.expected_task_videos(billing, start, end, douyin_id):
            row = {"billing_date": billing, **unstructure(VideoDailyData(**expected))}
            truth[tuple(row[k] for k in VIDEO_KEY)] = row
    return truth


def media_truth(plans: list[int], talents: list[str],
                content_type: int) -> dict[tuple[Any, ...], dict[str, Any]]:
    truth = {}
    for plan in plans:
        for talent in talents:
            for raw in DATA.talent_media(plan, talent, content_type):
                row = {"plan_id": plan, "douyin_id": talent,
                       **unstructure(decode_talent_media(raw))}
                truth[tuple(row[k] for k in MEDIA_KEY)] = row
    return truth


def keyed(rows: list[dict[str, Any]], key: tuple[str, ...]) -> dict[tuple[Any, ...], Any]:
    out = {tuple(r[k] for k in key): r for r in rows}
    assert len(out) == len(rows), "duplicate rows"
    return out


def jsonl_rows(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _unescaped(value: str) -> str:
    """A spreadsheet-safe CSV cell as it was before its formula escape."""
    return value[1:] if value.startswith("'") and value[1:2] in FORMULA_STARTS else value


def _with_extra(row: dict[str, Any], as_text: bool = False) -> dict[str, Any]:
    """A row with the unknown keys of its ``extra`` column (JSON text) merged back."""
    extra = row.pop("extra", None)
    for key, value in (orjson.loads(extra) if extra else {}).items():
        row.setdefault(key, str(value) if as_text else value)
    return row


def csv_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [_with_extra({k: v if k == "extra" else _unescaped(v) for k, v in row.items()},
                            as_text=True)
                for row in csv.DictReader(handle)]


def as_text(truth: dict[tuple[Any, ...], dict[str, Any]]) -> dict[tuple[Any, ...], Any]:
    """Ground truth as CSV reads it back: every key and value as text (None: empty)."""
    return {tuple(str(k) for k in key): {c: "" if v is None else str(v) for c, v in row.items()}
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


# -- outputs ---------------------------------------------------------------------------------


def test_task_videos_jsonl_over_a_split_window(tmp_path: Path) -> None:
    out = tmp_path / "videos.jsonl"
    first, last = day(-35), day(-1)  # 35 days: two API windows
    result = cli("pull", "task-videos", *FAST, "--billing-date", day(-1),
                 "--published-from", first, "--published-to", last, "--page-size", "5000",
                 "--out", str(out))
    assert_ok(result)
    truth = video_truth([day(-1)], first, last)
    assert len(truth) > 20_000
    assert keyed(jsonl_rows(out), VIDEO_KEY) == truth
    assert result.stderr.splitlines()[-1].startswith(f"done: {len(truth):,} records")
    again = cli("pull", "task-videos", *FAST, "--billing-date", day(-1),
                "--published-from", first, "--published-to", last, "--page-size", "5000",
                "--out", str(out), "--resume")
    assert_ok(again)
    assert "already complete" in again.stderr


def test_task_videos_csv_with_ids_as_digits(tmp_path: Path) -> None:
    out = tmp_path / "videos.csv"
    author = DATA.douyin_ids[3]
    dates = [day(-3), day(-2), day(-1)]
    result = cli("pull", "task-videos", *FAST, "--billing-date", f"{day(-3)}..{day(-1)}",
                 "--published-from", day(-20), "--published-to", day(-1), "--douyin-id", author,
                 "--page-size", "7", "--out", str(out), "--quiet")
    assert_ok(result)
    assert result.stderr == ""
    truth = video_truth(dates, day(-20), day(-1), author)
    assert truth
    rows = csv_rows(out)
    assert keyed(rows, VIDEO_KEY) == as_text(truth)
    assert all(row["video_id"].isdigit() and int(row["video_id"]) > 2**53 for row in rows)


def test_talent_media_sqlite_rerun_does_not_duplicate(tmp_path: Path) -> None:
    out = tmp_path / "media.sqlite"
    ids = tmp_path / "ids.txt"
    ids.write_text("# talents\ndy_alpha\n\ndy_beta  # second\n", encoding="utf-8")
    args = ["pull", "talent-media", *FAST, "--plan-id", "7089334664648722476",
            "--plan-id", "7089334664648722001", "--douyin-id", "dy_gamma",
            "--douyin-ids-file", str(ids), "--content-type", "3", "--out", str(out)]
    assert_ok(cli(*args))
    assert_ok(cli(*args))  # a finished pull runs again: rows are upserted, not added
    truth = media_truth([7089334664648722476, 7089334664648722001],
                        ["dy_gamma", "dy_alpha", "dy_beta"], 3)
    assert keyed(sqlite_rows(out, "talent_media"), MEDIA_KEY) == truth


def test_stdout_jsonl_and_progress_lines(tmp_path: Path) -> None:
    result = cli("pull", "talent-media", "--sandbox", "--sandbox-seed", str(SEED),
                 "--sandbox-latency", "0.05", "--sandbox-qps", "100", "--rate-limit", "20",
                 "--plan-id", "42", "--douyin-id", "dy_a", "--douyin-id", "dy_b",
                 "--content-type", "2", "--page-size", "50", "--progress-interval", "0.2",
                 "--out", "-", cwd=tmp_path)
    assert_ok(result)
    assert list(tmp_path.iterdir()) == []
    rows = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert keyed(rows, MEDIA_KEY) == media_truth([42], ["dy_a", "dy_b"], 2)
    lines = result.stderr.splitlines()
    progress = [line for line in lines if line.startswith("progress: ")]
    assert progress and "req/s" in progress[-1] and "ETA" in progress[-1]
    assert lines[-1].startswith("done: ") and "requests" in lines[-1]
    assert "\r" not in result.stderr


# -- bad input -------------------------------------------------------------------------------

VIDEOS = ["pull", "task-videos", "--sandbox", "--billing-date", day(-1),
          "--published-from", day(-5), "--published-to", day(-1)]
MEDIA = ["pull", "talent-media", "--sandbox", "--plan-id", "42", "--douyin-id", "dy_a"]


@pytest.mark.parametrize(("args", "code", "words"), [
    ([*VIDEOS, "--bogus"], 2, "--bogus"),
    ([*VIDEOS[:4], "2026-02-30", *VIDEOS[5:]], 2, "2026-02-30"),
    ([*VIDEOS[:6], day(-100), *VIDEOS[7:]], 2, "90 days"),
    ([*VIDEOS[:6], day(-1), "--published-to", day(-3)], 2, "before"),
    ([*VIDEOS, "--page-size", "10001"], 2, "--page-size 10001"),
    ([*VIDEOS, "--page-size", "0"], 2, "--page-size 0"),
    ([*MEDIA, "--page-size", "101"], 2, "--page-size 101"),
    ([*MEDIA, "--douyin-id", " "], 2, "empty"),
    (["pull", "talent-media", "--sandbox", "--plan-id", "42"], 2, "--douyin-id"),
    ([*MEDIA, "--content-type", "4"], 2, "--content-type 4"),
    ([*MEDIA, "--plan-id", "x"], 2, "--plan-id"),
    ([*MEDIA[:2], *MEDIA[3:]], 2, "--base-url"),
    ([*MEDIA[:2], *MEDIA[3:], "--base-url", "http://127.0.0.1:9"], 2, "credentials"),
    ([*MEDIA, "--douyin-ids-file", "/nonexistent/ids.txt"], 3, "ids.txt"),
    ([*MEDIA, "--redis-url", "http://user:pw@host"], 2, "--redis-url"),
])
def test_bad_input(tmp_path: Path, args: list[str], code: int, words: str) -> None:
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "out.jsonl")]
    result = cli(*args)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("douyin-async: error: ")
    assert words in lines[0]
    assert not (tmp_path / "out.jsonl").exists()


def test_file_and_state_errors(tmp_path: Path) -> None:
    media = [*MEDIA, "--sandbox-qps", "400", "--rate-limit", "300"]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nobody\n")
    result = cli(*MEDIA[:5], "--douyin-ids-file", str(empty), "--out", str(tmp_path / "a.jsonl"))
    assert result.returncode == 2 and "no ids" in result.stderr
    result = cli(*media, "--out", str(tmp_path / "missing" / "out.jsonl"))
    assert result.returncode == 3 and "cannot write" in result.stderr
    result = cli(*media, "--out", str(tmp_path / "out.parquet"))
    assert result.returncode == 2 and ".parquet" in result.stderr
    out = tmp_path / "out.jsonl"
    assert_ok(cli(*media, "--out", str(out), "--quiet"))
    result = cli(*media, "--out", str(out))
    assert result.returncode == 8 and "--force" in result.stderr
    result = cli(*media, "--content-type", "1", "--out", str(out), "--resume")
    assert result.returncode == 8 and "content_type" in result.stderr
    assert_ok(cli(*media, "--out", str(out), "--force", "--quiet"))
    for result in (cli(*media, "--out", str(out)), cli(*media, "--out", "-", "--resume")):
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox(SandboxConfig(seed=SEED, qps=None)) as sandbox:
        yield sandbox


@pytest.mark.parametrize(("token", "extra", "code"), [
    ("not-a-valid-token-4fd2", [], 4),
    (None, ["--plan-id", "7089334664648722403"], 5),
])
def test_api_errors(tmp_path: Path, server: ThreadedSandbox, token: str | None,
                    extra: list[str], code: int) -> None:
    secret = token or server.token
    result = cli("pull", "talent-media", "--base-url", server.url, "--plan-id", "42",
                 "--douyin-id", "dy_a", *extra, "--out", str(tmp_path / "o.jsonl"),
                 env=clean_env(DOUYIN_ACCESS_TOKEN=secret))
    assert result.returncode == code, result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert secret not in result.stderr + result.stdout


def test_token_file_and_env_base_url(tmp_path: Path, server: ThreadedSandbox) -> None:
    token = tmp_path / "token"
    token.write_text(server.token + "\n")
    out = tmp_path / "o.jsonl"
    result = cli("pull", "talent-media", "--access-token-file", str(token), "--plan-id", "42",
                 "--douyin-id", "dy_a", "--out", str(out),
                 env=clean_env(DOUYIN_BASE_URL=server.url))
    assert_ok(result)
    assert keyed(jsonl_rows(out), MEDIA_KEY) == media_truth([42], ["dy_a"], 3)
    assert server.token not in result.stderr


@pytest.mark.parametrize(("secret", "code"), [("sandbox-client-secret", 0), ("wrong-4e1f", 4)])
def test_client_credentials(tmp_path: Path, server: ThreadedSandbox, secret: str,
                            code: int) -> None:
    out = tmp_path / "o.jsonl"
    env = clean_env(DOUYIN_CLIENT_KEY="sandbox-client-key", DOUYIN_CLIENT_SECRET=secret,
                    DOUYIN_BASE_URL=server.url)
    result = cli("pull", "talent-media", "--plan-id", "42", "--douyin-id", "dy_a", "--out",
                 str(out), "--max-retries", "1", env=env)
    assert result.returncode == code, result.stderr
    assert secret not in result.stderr and "Traceback" not in result.stderr
    if code == 0:
        assert keyed(jsonl_rows(out), MEDIA_KEY) == media_truth([42], ["dy_a"], 3)
    else:
        assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(("faults", "code"), [("rate_limit=1", 6), ("server_error=1", 7)])
def test_retries_exhausted(tmp_path: Path, faults: str, code: int) -> None:
    result = cli(*MEDIA, "--sandbox-fault-rate", faults, "--max-retries", "1",
                 "--out", str(tmp_path / "o.jsonl"))
    assert result.returncode == code, result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_unreachable_server(tmp_path: Path) -> None:
    result = cli(*MEDIA[:2], *MEDIA[3:], "--base-url", "http://127.0.0.1:9", "--max-retries",
                 "0", "--out", str(tmp_path / "o.jsonl"),
                 env=clean_env(DOUYIN_ACCESS_TOKEN="tok-123"))
    assert result.returncode == 7, result.stderr
    assert len(result.stderr.splitlines()) == 1 and "tok-123" not in result.stderr


# -- faults and kills --------------------------------------------------------------------------


def test_faults_still_give_the_exact_record_set(tmp_path: Path) -> None:
    out = tmp_path / "faulty.jsonl"
    faults = "server_error=0.05,bad_gateway=0.02,reset=0.01,cut_body=0.01,rate_limit=0.02"
    result = cli("pull", "task-videos", *FAST, "--sandbox-fault-rate", faults,
                 "--max-retries", "8", "--billing-date", f"{day(-2)}..{day(-1)}",
                 "--published-from", day(-4), "--published-to", day(-1), "--page-size", "100",
                 "--out", str(out))
    assert_ok(result)
    truth = video_truth([day(-2), day(-1)], day(-4), day(-1))
    assert keyed(jsonl_rows(out), VIDEO_KEY) == truth
    summary = result.stderr.splitlines()[-1]
    assert " 0 retries" not in summary


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
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


@pytest.mark.parametrize("profile", ["tidy", "realistic"])
@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".sqlite"])
def test_killed_pulls_resume_to_the_exact_record_set(tmp_path: Path, suffix: str,
                                                     profile: str) -> None:
    out = tmp_path / f"videos{suffix}"
    ckpt = out.with_name(out.name + ".ckpt")
    realism = ["--sandbox-realistic"] if profile == "realistic" else []
    args = ["pull", "task-videos", *SLOW, *realism, "--billing-date", f"{day(-2)}..{day(-1)}",
            "--published-from", day(-6), "--published-to", day(-1), "--page-size", "150",
            "--out", str(out)]
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)

    def after(seconds: float) -> Callable[[], Callable[[], bool]]:
        def arm() -> Callable[[], bool]:
            mark = time.monotonic()
            return lambda: time.monotonic() - mark >= seconds
        return arm

    def grows(measure: Callable[[], int], amount: int) -> Callable[[], Callable[[], bool]]:
        def arm() -> Callable[[], bool]:
            base = measure()
            return lambda: measure() >= base + amount
        return arm

    def lines() -> int:
        return _lines(ckpt)

    def size() -> int:
        return _size(out)

    stops = [after(0.02)]  # right at start
    if suffix == ".sqlite":
        stops += [grows(size, rng.randrange(100_000, 1_500_000)) for _ in range(3)]
    else:
        stops += [grows(lines, rng.randrange(1, 25)), grows(size, rng.randrange(50_000, 2_000_000)),
                  grows(lines, rng.randrange(1, 25)), grows(size, rng.randrange(50_000, 2_000_000))]
    started = time.monotonic()
    kills = 0
    finished = False
    for i, arm in enumerate(stops):
        finished = run_until([*args, "--resume"] if i else args, arm())
        if finished:
            break
        kills += 1
    while not finished:
        finished = run_until([*args, "--resume"], None)
    assert kills >= 3, f"the pull ended too soon to be killed (seed {seed})"
    assert time.monotonic() - started < 60
    data = DATA if profile == "tidy" else SandboxData(SandboxConfig(seed=SEED,
                                                                    realism="realistic"))
    truth = video_truth([day(-2), day(-1)], day(-6), day(-1), data=data)
    assert ckpt.exists() == (suffix != ".sqlite")
    if suffix == ".jsonl":
        rows = jsonl_rows(out)
    elif suffix == ".csv":
        rows, truth = csv_rows(out), as_text(truth)
    else:
        rows = sqlite_rows(out, "task_videos")
    assert keyed(rows, VIDEO_KEY) == truth, f"seed {seed}, {profile}"


def test_ctrl_c_exits_130_and_the_pull_resumes(tmp_path: Path) -> None:
    out = tmp_path / "videos.jsonl"
    ckpt = tmp_path / "videos.jsonl.ckpt"
    args = ["pull", "task-videos", *SLOW, "--billing-date", day(-1), "--published-from",
            day(-6), "--published-to", day(-1), "--page-size", "150", "--out", str(out)]
    process = subprocess.Popen([sys.executable, "-m", "douyin_async", *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=clean_env())
    deadline = time.monotonic() + 30
    while _lines(ckpt) < 4 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.003)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert err.splitlines() == [
        "douyin-async: error: interrupted; the same command with --resume continues the pull"]
    assert run_until([*args, "--resume"], None)
    assert keyed(jsonl_rows(out), VIDEO_KEY) == video_truth([day(-1)], day(-6), day(-1))


def test_live_progress_on_a_terminal(tmp_path: Path) -> None:
    import pty

    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "douyin_async", "pull", "talent-media", "--sandbox",
         "--sandbox-latency", "0.05", "--rate-limit", "10", "--plan-id", "42",
         "--douyin-id", "dy_a", "--page-size", "100", "--out", str(tmp_path / "m.jsonl")],
        stdout=subprocess.DEVNULL, stderr=slave, env=clean_env())
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        process.wait(timeout=30)
    text = b"".join(chunks).decode()
    assert process.returncode == 0, text
    assert "\r\x1b[2K" in text and "req/s" in text and "ETA" in text  # redrawn in place
    assert text.rstrip().split("\x1b[2K")[-1].startswith("done: ")


def test_sandbox_command_serves_a_pull(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "douyin_async", "sandbox", "--port", "0", "--seed", str(SEED),
         "--qps", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=clean_env())
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split()[-1]
        assert url.startswith("http://127.0.0.1:")
        out = tmp_path / "m.csv"
        result = cli("pull", "talent-media", "--base-url", url, "--plan-id", "42", "--douyin-id",
                     "dy_a", "--out", str(out),
                     env=clean_env(DOUYIN_ACCESS_TOKEN="sandbox-token"))
        assert_ok(result)
        assert keyed(csv_rows(out), MEDIA_KEY) == as_text(media_truth([42], ["dy_a"], 3))
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=20)
    assert server.returncode == 130 and "Traceback" not in err


def test_a_closed_stdout_stops_the_pull_quietly() -> None:
    # As in `douyin-async pull ... --out - | head -1`.
    with subprocess.Popen(
        [sys.executable, "-m", "douyin_async", *VIDEOS[:3], *FAST[1:], "--billing-date",
         day(-1), "--published-from", day(-30), "--published-to", day(-1), "--page-size",
         "100", "--quiet", "--out", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env()) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        err = process.stderr.read()
        assert process.wait(timeout=60) == 141
    assert orjson.loads(first)["video_id"]
    assert err == b""


def test_the_sandbox_command_stops_cleanly_on_sigterm() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "douyin_async", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    assert server.stdout is not None
    assert server.stdout.readline().split()[-1].startswith("http://127.0.0.1:")
    server.send_signal(signal.SIGTERM)
    _, err = server.communicate(timeout=20)
    assert server.returncode == 0 and err == ""

"""The ``douyin-async`` command end to end: real subprocesses, real files, a real sandbox.

Outputs are compared with the sandbox's ground truth exactly: the same keys, each once, with
the same field values.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from helpers.cli import (
    DATA,
    FAST,
    MEDIA_KEY,
    SEED,
    SLOW,
    VIDEO_KEY,
    as_text,
    assert_ok,
    clean_env,
    cli,
    csv_rows,
    day,
    jsonl_rows,
    keyed,
    line_count,
    media_truth,
    run_until,
    sqlite_rows,
    video_truth,
)

from douyin_async.sandbox.config import SandboxConfig
from douyin_async.sandbox.server import ThreadedSandbox

pytestmark = pytest.mark.slow


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


def test_ctrl_c_exits_130_and_the_pull_resumes(tmp_path: Path) -> None:
    out = tmp_path / "videos.jsonl"
    ckpt = tmp_path / "videos.jsonl.ckpt"
    args = ["pull", "task-videos", *SLOW, "--billing-date", day(-1), "--published-from",
            day(-6), "--published-to", day(-1), "--page-size", "150", "--out", str(out)]
    process = subprocess.Popen([sys.executable, "-m", "douyin_async", *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=clean_env())
    deadline = time.monotonic() + 30
    while line_count(ckpt) < 4 and process.poll() is None and time.monotonic() < deadline:
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

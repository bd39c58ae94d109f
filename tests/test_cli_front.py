"""The command line as a user meets it, end to end: signals, messages, dry runs, relative
dates, logs, completion. Real subprocesses against real sandboxes; records are compared with
the sandbox's ground truth exactly.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
import helpers.cli as h
import orjson
import pytest
from click.testing import CliRunner

import douyin_async
from douyin_async.cli import app, exits
from douyin_async.sandbox.config import SandboxConfig
from douyin_async.sandbox.server import ThreadedSandbox

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox(SandboxConfig(seed=h.SEED, qps=None)) as sandbox:
        yield sandbox


# -- signals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_start_up_prints_one_line(tmp_path: Path, sig: int) -> None:
    rng = random.Random(sig)
    for delay in [0.0, *(rng.uniform(0.0, 0.25) for _ in range(4))]:
        # 75 pages at 20 a second: the pull outlasts the signal on any machine
        process = subprocess.Popen(
            [str(h.COMMAND), "pull", "task-videos", *h.SLOW, "--billing-date", h.day(-1),
             "--published-from", h.day(-6), "--published-to", h.day(-1), "--force",
             "--page-size", "100", "--rate-limit", "20", "--out", str(tmp_path / "v.jsonl")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=h.clean_env())
        h.wait_for_handler(process)
        time.sleep(delay)
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
        text = err.decode()
        assert process.returncode == 128 + sig, (delay, text)
        assert "Traceback" not in text and len(text.splitlines()) == 1, (delay, text)


def test_sigint_ignored_by_the_parent_stays_ignored(tmp_path: Path) -> None:
    # A background job of a shell script ignores Ctrl-C; the command keeps it so.
    process = subprocess.Popen(
        [str(h.COMMAND), "pull", "talent-media", *h.FAST, "--plan-id", "42", "--douyin-id", "dy_a",
         "--out", str(tmp_path / "m.jsonl")], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env=h.clean_env(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    h.wait_for_handler(process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    rows = h.jsonl_rows(tmp_path / "m.jsonl")
    assert h.keyed(rows, h.MEDIA_KEY) == h.media_truth([42], ["dy_a"], 3)


# -- what a pull imports ---------------------------------------------------------------------

_PROBE = """\
import sys
from douyin_async.cli import main
code = main(sys.argv[1:])
print(sorted(m for m in sys.modules
             if m.startswith(("douyin_async.sandbox", "aiohttp.web"))))
sys.exit(code)
"""


def test_a_real_pull_imports_neither_the_sandbox_nor_the_web_server(
        tmp_path: Path, server: ThreadedSandbox) -> None:
    out = tmp_path / "m.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "pull", "talent-media", "--base-url", server.url,
         "--plan-id", "42", "--douyin-id", "dy_a", "--out", str(out), "--quiet"],
        capture_output=True, text=True, env=h.clean_env(DOUYIN_ACCESS_TOKEN=server.token),
        timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert h.keyed(h.jsonl_rows(out), h.MEDIA_KEY) == h.media_truth([42], ["dy_a"], 3)
    sandboxed = subprocess.run(
        [sys.executable, "-c", _PROBE, "pull", "talent-media", *h.FAST, "--plan-id", "42",
         "--douyin-id", "dy_a", "--out", str(tmp_path / "s.jsonl"), "--quiet"],
        capture_output=True, text=True, env=h.clean_env(), timeout=60)
    assert sandboxed.returncode == 0, sandboxed.stderr
    assert "douyin_async.sandbox" in sandboxed.stdout  # the probe sees imports


# -- messages --------------------------------------------------------------------------------


def test_a_404_names_the_url_and_a_refused_connection_says_so(
        tmp_path: Path, server: ThreadedSandbox) -> None:
    media = ["pull", "talent-media", "--plan-id", "42", "--douyin-id", "dy_a", "--out",
             str(tmp_path / "o.jsonl"), "--max-retries", "0"]
    wrong = server.url + "/v2"
    result = h.cli(*media, "--base-url", wrong, env=h.clean_env(DOUYIN_ACCESS_TOKEN=server.token))
    assert result.returncode == 7, result.stderr
    assert result.stderr.splitlines() == [
        f"douyin-async: error: HTTP 404 Not Found: {wrong}/poi/common/plan/talent/media/list/; "
        "is --base-url the API's root (e.g. https://open.douyin.com)?"]
    result = h.cli(*media, "--base-url", "http://127.0.0.1:9",
                 env=h.clean_env(DOUYIN_ACCESS_TOKEN="tok-123"))
    assert result.returncode == 7, result.stderr
    assert result.stderr.splitlines() == [
        "douyin-async: error: cannot connect to http://127.0.0.1:9: connection refused"]


def test_dates_are_told_as_dates(tmp_path: Path) -> None:
    args = ["pull", "task-videos", "--sandbox", "--billing-date", "yesterday", "--published-to",
            "yesterday", "--out", str(tmp_path / "v.jsonl")]
    old = h.cli(*args, "--published-from", h.day(-120))
    assert old.returncode == 2
    line = old.stderr.strip()
    assert re.fullmatch(rf"douyin-async: error: --published-from {h.day(-120)} is more than 90 "
                        rf"days ago \(limit: {h.day(-89)}\)", line), line
    relative = h.cli(*args, "--published-from", "-120d")
    assert f"--published-from -120d ({h.day(-120)}) is more than 90 days ago" in relative.stderr
    future = h.cli(*args[:3], "--billing-date", "+3d", *args[5:], "--published-from", "-3d")
    assert future.returncode == 2 and "--billing-date '+3d'" in future.stderr
    ahead = h.cli(*args[:3], "--billing-date", h.day(3), *args[5:], "--published-from", "-3d")
    assert ahead.returncode == 2 and f"--billing-date {h.day(3)} is in the future" in ahead.stderr
    for result in (old, relative, future, ahead):
        assert not re.search(r"\d{10}|video_publish|billing_date", result.stderr), result.stderr
    assert not (tmp_path / "v.jsonl").exists()


@pytest.mark.parametrize(("extra", "words"), [
    (["--sandbox", "--base-url", "http://127.0.0.1:9"], "--sandbox and --base-url"),
    (["--sandbox", "--res"], "unrecognized arguments: --res"),
    (["--sandbox", "--ou", "x.jsonl"], "required: --out"),  # --ou is not --out
])
def test_refused_combinations_and_abbreviations(tmp_path: Path, extra: list[str],
                                                words: str) -> None:
    result = h.cli("pull", "talent-media", "--plan-id", "42", "--douyin-id", "dy_a", *extra,
                 *([] if "--ou" in extra else ["--out", str(tmp_path / "o.jsonl")]),
                 cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and words in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_one_page_one_unit_and_the_output_named(tmp_path: Path) -> None:
    out = tmp_path / "v.jsonl"
    result = h.cli("pull", "task-videos", "--sandbox", "--sandbox-seed", str(h.SEED),
                 "--billing-date", h.day(-1), "--published-from", h.day(-2), "--published-to",
                 h.day(-1), "--rate-limit", "25", "--out", str(out))
    assert result.returncode == 0, result.stderr
    truth = h.video_truth([h.day(-1)], h.day(-2), h.day(-1))
    assert 0 < len(truth) < 10_000
    lines = result.stderr.splitlines()
    assert lines[0] == ("douyin-async: warning: --rate-limit 25 is above the platform's cap "
                        "of 10 requests per second per app; the server answers the excess "
                        "with rate-limit errors, which are retried more slowly")
    assert re.fullmatch(rf"done: {len(truth):,} records into {re.escape(str(out))}, 1 page, "
                        r"1 request \([\d.]+ req/s\), 0 retries, 0 rate-limited, 1/1 unit, "
                        r"wall [\d.]+ s", lines[-1]), lines[-1]


# -- what a user reaches for -----------------------------------------------------------------


def test_version_and_the_one_exit_code_table() -> None:
    version = h.cli("--version")
    assert version.returncode == 0
    assert version.stdout == f"douyin-async {douyin_async.__version__}\n"
    table = h.cli("exit-codes")
    assert table.returncode == 0 and table.stdout == exits.help_text()
    for args in (["--help"], ["pull", "task-videos", "--help"], ["pull", "talent-media", "-h"]):
        shown = h.cli(*args)
        assert shown.returncode == 0, shown.stderr
        assert "exit-codes" in shown.stdout and "  143 " not in shown.stdout, args


def test_dry_run_counts_the_units_of_the_pull_and_writes_nothing(tmp_path: Path) -> None:
    args = ["pull", "task-videos", *h.FAST, "--billing-date", "-3d..-1d",
            "--published-from", "-40d", "--published-to", "-38d", "--out",
            str(tmp_path / "v.jsonl")]
    dry = h.cli(*args, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert list(tmp_path.iterdir()) == []
    assert "units: 3 (3 billing dates x 1 window of at most 30 days x 1 author)" in dry.stdout
    assert "pages: at least 3 pages" in dry.stdout and "requests: at least 3" in dry.stdout
    assert "wall time: at least 0.0 s at 300 requests per second" in dry.stdout
    real = h.cli(*args)
    assert real.returncode == 0, real.stderr
    assert ", 3/3 units, " in real.stderr.splitlines()[-1]


def test_relative_dates_mean_the_days_they_name(tmp_path: Path) -> None:
    out = tmp_path / "v.csv"
    result = h.cli("pull", "task-videos", *h.FAST, "--billing-date", "-2d..yesterday",
                 "--published-from", "-5d", "--published-to", "today", "--page-size", "3000",
                 "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    truth = h.video_truth([h.day(-2), h.day(-1)], h.day(-5), h.day(0))
    assert h.keyed(h.csv_rows(out), h.VIDEO_KEY) == h.as_text(truth)


def test_json_logs_are_one_object_per_line(tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    args = ["pull", "talent-media", *h.FAST, "--plan-id", "42", "--douyin-id", "dy_a",
            "--douyin-id", "dy_b", "--page-size", "20", "--progress-interval", "0.05",
            "--log-format", "json", "-vv", "--out", str(out)]
    result = h.cli(*args)
    assert result.returncode == 0, result.stderr
    entries = [orjson.loads(line) for line in result.stderr.splitlines()]
    truth = h.media_truth([42], ["dy_a", "dy_b"], 3)
    assert entries[-1]["event"] == "done" and entries[-1]["records"] == len(truth)
    assert entries[-1]["out"] == str(out) and entries[-1]["level"] == "info"
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert entries[0]["event"] == "start" and entries[0]["units_total"] == 2
    pages = [e for e in entries if e.get("event") == "page"]  # -vv: every page written
    assert len(pages) == entries[-1]["pages"] and sum(e["records"] for e in pages) == len(truth)
    again = h.cli(*args)
    assert again.returncode == exits.CONFLICT
    refused = [orjson.loads(line) for line in again.stderr.splitlines()]
    assert refused[-1]["level"] == "error" and refused[-1]["exit_code"] == exits.CONFLICT


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def test_every_help_page_fits_an_80_column_screen_in_60_lines() -> None:
    commands = list(_commands(app.cli))
    assert {("pull", "task-videos"), ("pull", "bills"), ("sandbox",), ("exit-codes",)} <= set(
        commands)
    runner = CliRunner()
    for words in [(), *commands]:  # in this process: the same click rendering, 80 columns
        shown = runner.invoke(app.cli, [*words, "--help"], env={"COLUMNS": "80"},
                              prog_name="douyin-async")
        assert shown.exit_code == 0, (words, shown.output)
        lines = shown.stdout.splitlines()
        assert len(lines) <= 60, (words, len(lines))
        assert max(map(len, lines)) <= 80, words
    # and as a command in an 80-column terminal
    days = h.cli("pull", "task-videos", "--help", env=h.clean_env(COLUMNS="80"))
    assert days.returncode == 0, days.stderr
    lines = days.stdout.splitlines()
    assert len(lines) <= 60 and max(map(len, lines)) <= 80
    assert "Beijing" in days.stdout and "-Nd" in days.stdout


def _complete(words: list[str]) -> list[str]:
    """What click's completion offers for the last of ``words`` (as bash asks it)."""
    env = h.clean_env(_DOUYIN_ASYNC_COMPLETE="bash_complete", COMP_CWORD=str(len(words)),
                      COMP_WORDS=" ".join(["douyin-async", *words]))
    done = subprocess.run([str(h.COMMAND)], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_shell_completion_knows_the_commands_and_options(tmp_path: Path) -> None:
    assert _complete(["pu"]) == ["plain,pull"]
    assert sorted(_complete(["pull", "ta"])) == ["plain,talent-media", "plain,task-videos"]
    assert _complete(["pull", "task-videos", "--bil"]) == ["plain,--billing-date"]
    assert _complete(["pull", "talent-media", "--douyin-ids-file", "id"]) == ["file,id"]
    assert "plain,--sandbox-fault-rate" in _complete(["pull", "bills", "--sandbox-f"])
    for shell in ("bash", "zsh", "fish"):
        script = h.cli("completion", shell)
        assert script.returncode == 0, script.stderr
        assert "_DOUYIN_ASYNC_COMPLETE" in script.stdout
        same = subprocess.run([str(h.COMMAND)], capture_output=True, text=True, timeout=60,
                              env=h.clean_env(_DOUYIN_ASYNC_COMPLETE=f"{shell}_source"))
        assert same.stdout == script.stdout
    bash = tmp_path / "completion.bash"
    bash.write_text(h.cli("completion", "bash").stdout)
    path = f"{h.COMMAND.parent}:{os.environ.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-c", f"source {bash}; COMP_WORDS=(douyin-async pull ta); COMP_CWORD=2; "
         '_douyin_async_completion douyin-async; echo "${COMPREPLY[@]}"'],
        capture_output=True, text=True, timeout=60, env=h.clean_env(PATH=path))
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == ["talent-media", "task-videos"]
    bad = h.cli("completion", "tcsh")
    assert bad.returncode == 2 and "tcsh" in bad.stderr

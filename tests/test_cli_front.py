"""The command line as a user meets it, end to end: signals, messages, dry runs, relative
dates, logs, completion. Real subprocesses against real sandboxes; records are compared with
the sandbox's ground truth exactly.
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from test_cli import (
    FAST,
    MEDIA_KEY,
    SEED,
    VIDEO_KEY,
    as_text,
    clean_env,
    cli,
    csv_rows,
    day,
    jsonl_rows,
    keyed,
    media_truth,
    video_truth,
)

import douyin_async
from douyin_async.cli import exits
from douyin_async.cli.args import build_parser
from douyin_async.sandbox.config import SandboxConfig
from douyin_async.sandbox.server import ThreadedSandbox

pytestmark = pytest.mark.slow

#: The console command (its entry point handles signals before the package is imported).
COMMAND = Path(sys.executable).with_name("douyin-async")
SLOW = ["--sandbox", "--sandbox-seed", str(SEED), "--sandbox-latency", "0.03",
        "--sandbox-qps", "120", "--rate-limit", "100", "--quiet"]
#: A pull of about 2.5 s (three billing dates, pages of 150 at 60 requests per second).
STOPPABLE = ["pull", "task-videos", *SLOW[:-3], "--rate-limit", "60", "--quiet", "--billing-date",
             f"{day(-3)}..{day(-1)}", "--published-from", day(-6), "--published-to", day(-1),
             "--page-size", "150"]
RESUME_HINT = "; the same command with --resume continues the pull"


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox(SandboxConfig(seed=SEED, qps=None)) as sandbox:
        yield sandbox


def _caught(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has a handler for ``sig`` (Linux: /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = int(re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.M)[1], 16)  # type: ignore[index]
    return bool(mask >> (sig - 1) & 1)


def _wait_for_handler(process: subprocess.Popen[bytes]) -> None:
    """Until the entry point has installed its SIGTERM handler (Python installs none)."""
    deadline = time.monotonic() + 20
    while not _caught(process.pid, signal.SIGTERM):
        assert process.poll() is None, "the command ended before handling signals"
        assert time.monotonic() < deadline
        time.sleep(0.001)


# -- signals ---------------------------------------------------------------------------------


def _terminate_after(args: list[str], delay: float) -> tuple[int, str]:
    """Run the command, SIGTERM it ``delay`` seconds after start-up; its code and stderr."""
    assert COMMAND.exists(), f"{COMMAND}: the console command is not installed"
    process = subprocess.Popen([str(COMMAND), *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=clean_env())
    try:
        _wait_for_handler(process)
        time.sleep(delay)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, err.decode()


def _page_records(ckpt: Path) -> list[dict[str, object]]:
    if not ckpt.exists():
        return []
    return [entry for entry in map(orjson.loads, ckpt.read_bytes().splitlines())
            if "page" in entry]


def _pages(ckpt: Path) -> int:
    """Pages the checkpoint records."""
    return len(_page_records(ckpt))


def _ends_at_its_checkpoint(out: Path, ckpt: Path) -> bool:
    """Whether the output ends where the checkpoint's last page record says (no torn page)."""
    offsets = [entry["offset"] for entry in _page_records(ckpt) if "offset" in entry]
    return not offsets or offsets[-1] == (out.stat().st_size if out.exists() else 0)


@pytest.mark.parametrize(("suffix", "seed"), [(".jsonl", 11), (".csv", 12), (".jsonl", 13)])
def test_sigterm_at_random_points_then_resume_gives_the_exact_records(
        tmp_path: Path, suffix: str, seed: int) -> None:
    rng = random.Random(seed)
    out = tmp_path / f"videos{suffix}"
    args = [*STOPPABLE, "--out", str(out)]
    # The first stop falls anywhere from the imports to well into the pull.
    delays = [rng.uniform(0.0, 0.3), rng.uniform(0.3, 1.5), rng.uniform(0.2, 1.0)]
    stopped = 0
    ckpt = out.with_name(out.name + ".ckpt")
    for n, delay in enumerate(delays):
        before = _pages(ckpt)
        code, err = _terminate_after([*args, "--resume"] if n else args, delay)
        if code == 0:  # it finished first
            break
        assert code == 143, err
        assert "Traceback" not in err
        if _pages(ckpt) > before:  # the pull was under way: it says how to go on
            assert err.splitlines() == ["douyin-async: error: terminated (SIGTERM)" + RESUME_HINT]
        else:
            assert err.splitlines()[0].startswith("douyin-async: error: terminated (SIGTERM)")
        assert _ends_at_its_checkpoint(out, ckpt), "a page was left half written"
        stopped += 1
    else:
        done = subprocess.run([str(COMMAND), *args, "--resume"], capture_output=True,
                              text=True, env=clean_env(), timeout=60)
        assert done.returncode == 0, done.stderr
    assert stopped >= 2, f"the pull ended before it was stopped twice (seed {seed})"
    truth = video_truth([day(-3), day(-2), day(-1)], day(-6), day(-1))
    rows = jsonl_rows(out) if suffix == ".jsonl" else csv_rows(out)
    assert keyed(rows, VIDEO_KEY) == (truth if suffix == ".jsonl" else as_text(truth))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_start_up_prints_one_line(tmp_path: Path, sig: int) -> None:
    rng = random.Random(sig)
    for delay in [0.0, *(rng.uniform(0.0, 0.25) for _ in range(4))]:
        process = subprocess.Popen(
            [str(COMMAND), "pull", "task-videos", *SLOW, "--billing-date", day(-1),
             "--published-from", day(-6), "--published-to", day(-1), "--force",
             "--out", str(tmp_path / "v.jsonl")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=clean_env())
        _wait_for_handler(process)
        time.sleep(delay)
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
        text = err.decode()
        assert process.returncode == 128 + sig, (delay, text)
        assert "Traceback" not in text and len(text.splitlines()) == 1, (delay, text)


def test_sigint_ignored_by_the_parent_stays_ignored(tmp_path: Path) -> None:
    # A background job of a shell script ignores Ctrl-C; the command keeps it so.
    process = subprocess.Popen(
        [str(COMMAND), "pull", "talent-media", *FAST, "--plan-id", "42", "--douyin-id", "dy_a",
         "--out", str(tmp_path / "m.jsonl")], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env=clean_env(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    _wait_for_handler(process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert keyed(jsonl_rows(tmp_path / "m.jsonl"), MEDIA_KEY) == media_truth([42], ["dy_a"], 3)


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
        capture_output=True, text=True, env=clean_env(DOUYIN_ACCESS_TOKEN=server.token),
        timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert keyed(jsonl_rows(out), MEDIA_KEY) == media_truth([42], ["dy_a"], 3)
    sandboxed = subprocess.run(
        [sys.executable, "-c", _PROBE, "pull", "talent-media", *FAST, "--plan-id", "42",
         "--douyin-id", "dy_a", "--out", str(tmp_path / "s.jsonl"), "--quiet"],
        capture_output=True, text=True, env=clean_env(), timeout=60)
    assert sandboxed.returncode == 0, sandboxed.stderr
    assert "douyin_async.sandbox" in sandboxed.stdout  # the probe sees imports


# -- messages --------------------------------------------------------------------------------


def test_a_404_names_the_url_and_a_refused_connection_says_so(
        tmp_path: Path, server: ThreadedSandbox) -> None:
    media = ["pull", "talent-media", "--plan-id", "42", "--douyin-id", "dy_a", "--out",
             str(tmp_path / "o.jsonl"), "--max-retries", "0"]
    wrong = server.url + "/v2"
    result = cli(*media, "--base-url", wrong, env=clean_env(DOUYIN_ACCESS_TOKEN=server.token))
    assert result.returncode == 7, result.stderr
    assert result.stderr.splitlines() == [
        f"douyin-async: error: HTTP 404 Not Found: {wrong}/poi/common/plan/talent/media/list/; "
        "is --base-url the API's root (e.g. https://open.douyin.com)?"]
    result = cli(*media, "--base-url", "http://127.0.0.1:9",
                 env=clean_env(DOUYIN_ACCESS_TOKEN="tok-123"))
    assert result.returncode == 7, result.stderr
    assert result.stderr.splitlines() == [
        "douyin-async: error: cannot connect to http://127.0.0.1:9: connection refused"]


def test_dates_are_told_as_dates(tmp_path: Path) -> None:
    args = ["pull", "task-videos", "--sandbox", "--billing-date", "yesterday", "--published-to",
            "yesterday", "--out", str(tmp_path / "v.jsonl")]
    old = cli(*args, "--published-from", day(-120))
    assert old.returncode == 2
    line = old.stderr.strip()
    assert re.fullmatch(rf"douyin-async: error: --published-from {day(-120)} is more than 90 "
                        rf"days ago \(limit: {day(-89)}\)", line), line
    relative = cli(*args, "--published-from", "-120d")
    assert f"--published-from -120d ({day(-120)}) is more than 90 days ago" in relative.stderr
    future = cli(*args[:3], "--billing-date", "+3d", *args[5:], "--published-from", "-3d")
    assert future.returncode == 2 and "--billing-date '+3d'" in future.stderr
    ahead = cli(*args[:3], "--billing-date", day(3), *args[5:], "--published-from", "-3d")
    assert ahead.returncode == 2 and f"--billing-date {day(3)} is in the future" in ahead.stderr
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
    result = cli("pull", "talent-media", "--plan-id", "42", "--douyin-id", "dy_a", *extra,
                 *([] if "--ou" in extra else ["--out", str(tmp_path / "o.jsonl")]),
                 cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and words in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_one_page_one_unit_and_the_output_named(tmp_path: Path) -> None:
    out = tmp_path / "v.jsonl"
    result = cli("pull", "task-videos", "--sandbox", "--sandbox-seed", str(SEED),
                 "--billing-date", day(-1), "--published-from", day(-2), "--published-to",
                 day(-1), "--rate-limit", "25", "--out", str(out))
    assert result.returncode == 0, result.stderr
    truth = video_truth([day(-1)], day(-2), day(-1))
    assert 0 < len(truth) < 10_000
    lines = result.stderr.splitlines()
    assert lines[0] == ("douyin-async: warning: --rate-limit 25 is above the platform's cap "
                        "of 10 requests per second per app; the server answers the excess "
                        "with rate-limit errors, which are retried more slowly")
    assert re.fullmatch(rf"done: {len(truth):,} records into {re.escape(str(out))}, 1 page, "
                        r"1 request \([\d.]+ req/s\), 0 retries, 0 rate-limited, 1/1 unit, "
                        r"wall [\d.]+ s", lines[-1]), lines[-1]


# -- what a user reaches for -----------------------------------------------------------------


def test_version_and_help_show_the_one_exit_code_table() -> None:
    version = cli("--version")
    assert version.returncode == 0
    assert version.stdout == f"douyin-async {douyin_async.__version__}\n"
    for args in (["--help"], ["pull", "task-videos", "--help"], ["pull", "talent-media", "-h"]):
        shown = cli(*args)
        assert shown.returncode == 0, shown.stderr
        assert exits.help_text() in shown.stdout, args


def test_dry_run_counts_the_units_of_the_pull_and_writes_nothing(tmp_path: Path) -> None:
    args = ["pull", "task-videos", *FAST, "--billing-date", "-3d..-1d",
            "--published-from", "-40d", "--published-to", "-38d", "--out",
            str(tmp_path / "v.jsonl")]
    dry = cli(*args, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert list(tmp_path.iterdir()) == []
    assert "units: 3 (3 billing dates x 1 window of at most 30 days x 1 author)" in dry.stdout
    assert "pages: at least 3 pages" in dry.stdout and "requests: at least 3" in dry.stdout
    assert "wall time: at least 0.0 s at 300 requests per second" in dry.stdout
    real = cli(*args)
    assert real.returncode == 0, real.stderr
    assert ", 3/3 units, " in real.stderr.splitlines()[-1]


def test_relative_dates_mean_the_days_they_name(tmp_path: Path) -> None:
    out = tmp_path / "v.csv"
    result = cli("pull", "task-videos", *FAST, "--billing-date", "-2d..yesterday",
                 "--published-from", "-5d", "--published-to", "today", "--page-size", "3000",
                 "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    truth = video_truth([day(-2), day(-1)], day(-5), day(0))
    assert keyed(csv_rows(out), VIDEO_KEY) == as_text(truth)


def test_json_logs_are_one_object_per_line(tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    args = ["pull", "talent-media", *FAST, "--plan-id", "42", "--douyin-id", "dy_a",
            "--douyin-id", "dy_b", "--page-size", "20", "--progress-interval", "0.05",
            "--log-format", "json", "-vv", "--out", str(out)]
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    entries = [orjson.loads(line) for line in result.stderr.splitlines()]
    truth = media_truth([42], ["dy_a", "dy_b"], 3)
    assert entries[-1]["event"] == "done" and entries[-1]["records"] == len(truth)
    assert entries[-1]["out"] == str(out) and entries[-1]["level"] == "info"
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert entries[0]["event"] == "start" and entries[0]["units_total"] == 2
    pages = [e for e in entries if e.get("event") == "page"]  # -vv: every page written
    assert len(pages) == entries[-1]["pages"] and sum(e["records"] for e in pages) == len(truth)
    again = cli(*args)
    assert again.returncode == exits.CONFLICT
    refused = [orjson.loads(line) for line in again.stderr.splitlines()]
    assert refused[-1]["level"] == "error" and refused[-1]["exit_code"] == exits.CONFLICT


def _all_actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_actions(sub)


def test_every_help_text_is_one_line_for_the_completion_scripts() -> None:
    helps = [a.help for a in _all_actions(build_parser()) if a.help]
    assert len(helps) > 40 and not [h for h in helps if "\n" in h]


def test_shell_completion_knows_the_commands_and_options(tmp_path: Path) -> None:
    zsh = cli("completion", "zsh")
    assert zsh.returncode == 0, zsh.stderr
    assert "--billing-date" in zsh.stdout and "--sandbox-fault-rate" in zsh.stdout
    assert "rows are upserted either way" in zsh.stdout and "A run holds OUT.lock" in zsh.stdout
    bash = cli("completion", "bash")
    assert bash.returncode == 0, bash.stderr
    script = tmp_path / "completion.bash"
    script.write_text(bash.stdout)
    (tmp_path / "ids.txt").touch()

    def complete(*words: str) -> list[str]:
        line = " ".join(words)
        done = subprocess.run(
            ["bash", "-c", f'source {script}; COMP_WORDS=({line}); '
             f'COMP_CWORD={len(words) - 1}; _shtab_douyin_async; echo "${{COMPREPLY[@]}}"'],
            capture_output=True, text=True, cwd=tmp_path, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("douyin-async", "pu") == ["pull"]
    assert sorted(complete("douyin-async", "pull", "ta")) == ["talent-media", "task-videos"]
    assert complete("douyin-async", "pull", "task-videos", "--bil") == ["--billing-date"]
    assert complete("douyin-async", "pull", "talent-media", "--douyin-ids-file", "id") == [
        "ids.txt"]
    bad = cli("completion", "fish")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr

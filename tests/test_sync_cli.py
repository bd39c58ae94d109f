"""``douyin-async sync``: the click group, run in the process and as a subprocess."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from typing import Any

import pytest
from click.testing import CliRunner

from douyin_async.cli import exits
from douyin_async.cli.sync_command import sync
from douyin_async.days import beijing_day

SMALL_SEED = "5"


def _yesterday() -> dt.date:
    return beijing_day() - dt.timedelta(days=1)


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(sync, list(args), catch_exceptions=False)


def _days(path: str) -> list[str]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT DISTINCT billing_date FROM task_videos "
                                         "ORDER BY 1")]


def test_a_first_sync_then_nothing_new(tmp_path: Any) -> None:
    db = f"{tmp_path}/s.sqlite"
    y = _yesterday()
    result = _invoke("bills", "--sandbox", "--into", f"sqlite:///{db}", "--since", "-2d")
    assert result.exit_code == 0, result.output
    assert f"bills: {y} loaded" in result.output
    assert "done: 2 day(s) of bills" in result.output
    again = _invoke("bills", "--sandbox", "--into", f"sqlite:///{db}")
    assert again.exit_code == 0, again.output
    assert f"nothing new: bills holds every day up to {y}" in again.output
    assert "nothing changed" in again.output


def test_the_first_sync_needs_since(tmp_path: Any) -> None:
    result = _invoke("bills", "--sandbox", "--into", f"sqlite:///{tmp_path}/s.sqlite")
    assert result.exit_code == exits.CONFLICT
    assert "the first sync needs --since" in result.output


def test_option_changes_are_refused_with_what_differs(tmp_path: Any) -> None:
    into = f"file://{tmp_path}/ds/"
    assert _invoke("bills", "--sandbox", "--into", into, "--since", "yesterday").exit_code == 0
    result = _invoke("bills", "--sandbox", "--into", into, "--live")
    assert result.exit_code == exits.CONFLICT
    assert "live: False then, True now" in result.output and "--force" in result.output
    result = _invoke("bills", "--sandbox", "--into", into, "--since", "yesterday",
                     "--sandbox-seed", "3")
    assert result.exit_code == exits.CONFLICT
    assert "server: 'embedded sandbox (seed default)' then" in result.output


def test_a_dry_run_lists_days_and_requests(tmp_path: Any) -> None:
    db = f"{tmp_path}/s.sqlite"
    result = _invoke("task-videos", "--sandbox", "--into", f"sqlite:///{db}", "--since", "-3d",
                     "--dry-run")
    assert result.exit_code == 0, result.output
    y = _yesterday()
    assert f"would load 3 new day(s): {y - dt.timedelta(days=2)}" in result.output
    assert "requests: at least 9; more when a publish window holds over 10,000" \
        in result.output
    assert not os.path.exists(db + ".lock")


def test_usage_errors(tmp_path: Any) -> None:
    result = _invoke("task-videos", "--into", f"sqlite:///{tmp_path}/s.sqlite",
                     "--since", "-1d")
    assert result.exit_code == exits.USAGE and "no server" in result.output
    result = _invoke("task-videos", "--sandbox", "--into", "ftp://x/", "--since", "-1d")
    assert result.exit_code == exits.FILES and "unknown destination" in result.output
    result = _invoke("task-videos", "--sandbox", "--into", f"{tmp_path}/ds", "--since",
                     "-100d", "--until", "-99d")
    assert result.exit_code == exits.USAGE and "more than 90 days ago" in result.output


def test_a_second_sync_is_refused_while_one_runs(tmp_path: Any) -> None:
    db = f"{tmp_path}/s.sqlite"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    slow = subprocess.Popen(
        [sys.executable, "-m", "douyin_async.cli.sync_command", "task-videos", "--sandbox",
         "--sandbox-latency", "0.2", "--into", f"sqlite:///{db}", "--since", "-3d"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 30
        while not (os.path.exists(db + ".lock") and os.path.getsize(db + ".lock")):
            assert time.monotonic() < deadline and slow.poll() is None
            time.sleep(0.05)
        result = _invoke("task-videos", "--sandbox", "--into", f"sqlite:///{db}", "--since",
                         "-3d")
        assert result.exit_code == exits.LOCKED
        assert f"another sync (pid {slow.pid})" in result.output
    finally:
        slow.send_signal(signal.SIGTERM)
        _, err = slow.communicate(timeout=60)
    assert slow.returncode == exits.TERMINATED, err
    assert b"terminated (SIGTERM)" in err


@pytest.mark.parametrize(("argv", "shown"), [(["--help"], "task-videos"),
                                             (["task-videos", "--help"], "--lookback")])
def test_help(argv: list[str], shown: str) -> None:
    result = _invoke(*argv)
    assert result.exit_code == 0 and shown in result.output


def test_yesterday_is_the_beijing_day_at_2330_utc(tmp_path: Any) -> None:
    # 23:30 UTC on 2026-12-06 is 07:30 on 2026-12-07 in Beijing: yesterday is the 6th
    done = subprocess.run(
        ["faketime", "2026-12-06 23:30:00", sys.executable, "-m",
         "douyin_async.cli.sync_command", "bills", "--sandbox", "--into",
         f"sqlite:///{tmp_path}/s.sqlite", "--since", "yesterday", "--dry-run"],
        capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "would load 1 new day(s): 2026-12-06\n" in done.stdout


def test_talent_media_loads_the_server_date(tmp_path: Any) -> None:
    db = f"{tmp_path}/m.sqlite"
    result = _invoke("talent-media", "--sandbox", "--into", f"sqlite:///{db}",
                     "--plan-id", "7089334664648722476", "--douyin-id", "dy1",
                     "--douyin-id", "dy2")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        dates = conn.execute("SELECT DISTINCT date FROM talent_media").fetchall()
    assert dates == [(_yesterday().isoformat(),)]
    refused = _invoke("talent-media", "--sandbox", "--into", f"sqlite:///{db}",
                      "--plan-id", "7089334664648722476", "--douyin-id", "dy1",
                      "--douyin-id", "dy2", "--since", "-2d")
    assert refused.exit_code == exits.USAGE and "leave out --since" in refused.output

"""`sync --queue` and `sync --processes` as commands: a unit that fails for good is reported
with its error while the other units load; N local processes load what one process loads."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from typing import Any

import psycopg
from pg_server import pg_server, pg_url  # noqa: F401
from queue_helpers import CLI, app_tokens, apps_file, faketime_env, start_worker
from sync_helpers import (
    NOW,
    day,
    read_rows,
    sandbox_config,
    summary,
    truth_summary,
    video_truth,
)

from douyin_async.sandbox import ManualClock
from douyin_async.sandbox.server import ThreadedSandbox
from douyin_async.sync.state import day_range

pytest_plugins = ["redis_server"]


def _moment(url: str, table: str) -> float:
    """The moment the units of `table` asked as of (their days' load time)."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT min(loaded_at) FROM _sync_days WHERE table_name = %s",
                           (table,)).fetchone()
    assert row is not None and isinstance(row[0], dt.datetime)
    return row[0].timestamp()


def test_a_revoked_app_is_reported_and_the_others_load(
        pg_url: str, redis_server: Any, tmp_path: Any) -> None:  # noqa: F811
    tokens = app_tokens(2)
    config = sandbox_config(ManualClock(NOW), qps=10, static_tokens=frozenset(
        {tokens["shop-a"]}))  # shop-b's token is unknown: revoked
    apps = apps_file(str(tmp_path), tokens)
    with ThreadedSandbox(config) as sandbox:
        worker = start_worker(pg_url, apps, redis_server.url, f"{tmp_path}/worker.log")
        try:
            done = subprocess.run(
                [sys.executable, CLI, "sync", "task-videos", "--queue", pg_url, "--apps", apps,
                 "--base-url", sandbox.url, "--into", pg_url, "--since", "2025-10-06",
                 "--until", "2025-10-07", "--page-size", "1000"],
                capture_output=True, text=True, timeout=120,
                env={**os.environ, **faketime_env()})
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(60) == 0
    assert done.returncode == 4, done.stderr  # AUTH, the failed units' error
    assert "2 unit(s) loaded, 2 failed" in done.stderr
    for d in ("2025-10-06", "2025-10-07"):
        assert f"error: unit shop-b {d}: " in done.stderr
    assert tokens["shop-b"] not in done.stderr
    days = day_range(day("2025-10-06"), day("2025-10-07"))
    truth = truth_summary(video_truth(config, days, _moment(pg_url, "task_videos_shop_a")))
    assert summary(read_rows(pg_url, "task_videos_shop_a")) == truth
    assert read_rows(pg_url, "task_videos_shop_b") == []


def test_processes_load_what_one_process_loads(tmp_path: Any) -> None:
    apps = apps_file(str(tmp_path), app_tokens(3))
    common = ["sync", "bills", "--sandbox", "--since", "-4d", "--until", "-2d", "-q"]
    spread = subprocess.run([sys.executable, CLI, *common, "--apps", apps, "--processes", "2",
                             "--into", f"{tmp_path}/spread"], capture_output=True, text=True,
                            timeout=120)
    assert spread.returncode == 0, spread.stderr
    one = subprocess.run([sys.executable, CLI, *common, "--into", f"{tmp_path}/one"],
                         capture_output=True, text=True, timeout=120)
    assert one.returncode == 0, one.stderr

    def rows(url: str, table: str) -> list[Any]:
        return sorted(tuple(sorted(r.items())) for r in read_rows(url, table))

    expected = rows(f"file://{tmp_path}/one", "bills")
    assert len(expected) > 0
    for name in ("shop_a", "shop_b", "shop_c"):
        assert rows(f"file://{tmp_path}/spread", f"bills_{name}") == expected


def test_the_sandbox_serves_several_apps_for_a_spread_sync(tmp_path: Any) -> None:
    apps = f"{tmp_path}/apps.json"
    server = subprocess.Popen([sys.executable, CLI, "sandbox", "--port", "0", "--apps", "4",
                               "--write-apps", apps], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split()[-1]
        shown = [server.stdout.readline() for _ in range(8)]
        assert "app app-4 access token: sandbox-token-app-4\n" in shown
        done = subprocess.run([sys.executable, CLI, "sync", "bills", "--base-url", url,
                               "--apps", apps, "--processes", "2", "--since", "-3d", "--into",
                               f"{tmp_path}/ds"], capture_output=True, text=True, timeout=120)
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert done.returncode == 0, done.stderr
    loaded = sorted(line.split(":")[1].strip() for line in done.stderr.splitlines())
    assert loaded == ["app-1", "app-2", "app-3", "app-4"]
    assert len({len(read_rows(f"file://{tmp_path}/ds", f"bills_app_{n}")) for n in range(1, 5)}
               ) == 1


def test_sigterm_abandons_the_unit_in_hand_which_is_loaded_later(
        pg_url: str, redis_server: Any, tmp_path: Any) -> None:  # noqa: F811
    import asyncio

    from queue_helpers import enqueue_run, follow_run, wait_mid_unit

    from douyin_async.queue.load import RunSpec
    from douyin_async.sync import TaskVideoSource

    tokens = app_tokens(1)
    config = sandbox_config(ManualClock(NOW), qps=10, latency=0.05,
                            static_tokens=frozenset(tokens.values()))
    apps = apps_file(str(tmp_path), tokens)
    days = day_range(day("2025-10-06"), day("2025-10-07"))
    truth = truth_summary(video_truth(config, days, NOW))
    with ThreadedSandbox(config) as sandbox:
        spec = RunSpec(TaskVideoSource(page_size=100), pg_url, sandbox.url, "sandbox",
                       since=days[0], until=days[-1])
        run, _ = asyncio.run(enqueue_run(pg_url, spec, tokens))
        first = start_worker(pg_url, apps, redis_server.url, f"{tmp_path}/w1.log",
                             "--stop-timeout", "0.2")
        wait_mid_unit(pg_url, first.pid)
        first.send_signal(signal.SIGTERM)
        assert first.wait(60) == 0  # stopped cleanly
        with psycopg.connect(pg_url) as conn:
            states = dict(conn.execute("SELECT status::text, count(*) FROM procrastinate_jobs "
                                       "WHERE queue_name = %s GROUP BY 1", (run,)).fetchall())
        assert "doing" not in states and states.get("todo", 0) >= 1  # put back, not lost
        held = summary(read_rows(pg_url, "task_videos_shop_a"))
        assert all(held[d] == truth[d] for d in held)  # whole days only
        second = start_worker(pg_url, apps, redis_server.url, f"{tmp_path}/w2.log")
        try:
            counts = asyncio.run(follow_run(pg_url, run))
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(60) == 0
    assert (counts["done"], counts["failed"]) == (2, 0)
    assert summary(read_rows(pg_url, "task_videos_shop_a")) == truth


def test_detach_enqueues_the_units_and_status_shows_them(pg_url: str,  # noqa: F811
                                                         tmp_path: Any) -> None:
    common = [sys.executable, CLI, "sync", "bills", "--sandbox", "--queue", pg_url, "--detach",
              "--since", "-4d", "--until", "-2d"]
    refused = subprocess.run([*common, "--into", f"sqlite:///{tmp_path}/b.sqlite"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "PostgreSQL only" in refused.stderr
    done = subprocess.run([*common, "--into", pg_url], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    run = done.stdout.strip()
    assert run.startswith("sync-")
    shown = subprocess.run([sys.executable, CLI, "status", "--queue", pg_url, "--run", run],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    line = [x for x in shown.stdout.splitlines() if x.startswith(run)]
    assert len(line) == 1 and line[0].split()[1:] == ["-", "3", "0", "0", "0", "0"]

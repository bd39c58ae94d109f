"""Helpers of the queue tests: apps on a sandbox on the fixed clock of the sync tests, their
units planned and enqueued, and `douyin-async worker` processes whose clock starts at that
moment (libfaketime), so that every unit asks the windows the truth is computed for."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import glob
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from sync_helpers import NOW

from douyin_async.queue.jobs import enqueue, ensure_schema, new_run_queue, queue_app
from douyin_async.queue.load import AppAccess, RunSpec, plan_units
from douyin_async.queue.units import Unit
from douyin_async.queue.worker import follow
from douyin_async.sandbox import ManualClock
from douyin_async.sandbox.requestlog import fingerprint

CLI = os.path.join(os.path.dirname(os.path.dirname(__file__)), "douyin_async_cli.py")


def app_tokens(count: int) -> dict[str, str]:
    """App name -> its sandbox token."""
    return {f"shop-{chr(97 + n)}": f"queue-token-{n}" for n in range(count)}


def apps_file(path: str, tokens: dict[str, str]) -> str:
    """An apps file of `tokens` (each app's token in a file of its own)."""
    entries = []
    for name, token in tokens.items():
        with open(f"{path}/{name}.token", "w") as handle:
            handle.write(token)
        entries.append({"name": name, "access_token_file": f"{name}.token"})
    with open(f"{path}/apps.json", "w") as handle:
        json.dump({"apps": entries}, handle)
    return f"{path}/apps.json"


async def enqueue_run(queue_url: str, spec: RunSpec, tokens: dict[str, str]
                      ) -> tuple[str, list[Unit]]:
    """Plan the run at the fixed clock and enqueue its units; the run's queue and units."""
    await ensure_schema(queue_url)
    run = new_run_queue()
    apps = [AppAccess(name, token, 10.0, name, f"app {name}") for name, token in tokens.items()]
    units = await plan_units(spec, apps, run, clock=ManualClock(NOW))
    app = queue_app(queue_url)
    async with app.open_async():
        await enqueue(app, run, units)
    return run, units


def faketime_env() -> dict[str, str]:
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    assert found, "libfaketime is not installed (Debian: apt-get install faketime)"
    start = dt.datetime.fromtimestamp(NOW, dt.UTC).strftime("@%Y-%m-%d %H:%M:%S")
    return {"LD_PRELOAD": found[0], "FAKETIME": start, "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "FAKETIME_DONT_RESET": "1", "TZ": "UTC"}


async def follow_run(url: str, run: str) -> Any:
    app = queue_app(url)
    async with app.open_async():
        return await asyncio.wait_for(follow(app, run, lambda counts: None), 120)


def start_worker(queue_url: str, apps: str, redis_url: str, log: str, *more: str
                 ) -> subprocess.Popen[str]:
    """A worker process, its log (`-v`) in the file `log`."""
    with open(log, "w") as handle:
        return subprocess.Popen(
            [sys.executable, CLI, "worker", "--queue", queue_url, "--apps", apps,
             "--redis-url", redis_url, "--heartbeat", "0.5", "--stalled-after", "2",
             "--stalled-check", "1", "--concurrency", "2", "-v", *more],
            stdout=handle, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **faketime_env()})


def _in_transaction(url: str, pid: int) -> bool:
    """Whether process `pid` holds a day's transaction open (rows written, not committed)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND "
            "state IN ('active', 'idle in transaction') AND xact_start IS NOT NULL",
            (f"douyin-async sync (pid {pid})",)).fetchone()
    return bool(row and row[0])


def wait_mid_unit(url: str, pid: int) -> None:
    deadline = time.monotonic() + 60
    while not _in_transaction(url, pid):
        assert time.monotonic() < deadline, "the worker never opened a day"
        time.sleep(0.02)



@contextlib.contextmanager
def logs_on_failure(logs: list[str], lines: int = 40) -> Iterator[None]:
    """Re-raise a failed assertion with the last `lines` lines of each worker's log."""
    try:
        yield
    except AssertionError as failure:
        tails = []
        for log in logs:
            try:
                with open(log) as handle:
                    tail = handle.read().splitlines()[-lines:]
            except OSError as exc:
                tail = [f"(unreadable: {exc})"]
            tails.append(f"--- {log} (last {lines} lines)\n" + "\n".join(tail))
        raise AssertionError(f"{failure}\n" + "\n".join(tails)) from failure


def refused_and_peak(log: Any, tokens: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Per app: rate-limit refusals, and the most requests in any rolling second, as the
    sandbox's request log tells them."""
    from douyin_async.sandbox.requestlog import DATA_ENDPOINTS, max_in_window

    out = {}
    for name, token in tokens.items():
        mine = [e for e in log.entries() if e.token == fingerprint(token)
                and e.endpoint in DATA_ENDPOINTS]
        refused = sum(1 for e in mine if e.outcome == "28003018")
        out[name] = (refused, max_in_window(sorted(e.monotonic for e in mine), 1.0))
    return out


__all__ = ["CLI", "app_tokens", "apps_file", "enqueue_run", "faketime_env", "follow_run",
           "logs_on_failure", "refused_and_peak", "start_worker", "wait_mid_unit"]

"""One sync over procrastinate workers in processes of their own: 3 workers over 40 units
(4 apps x 10 days) sharing each app's quota through Redis, one worker killed with SIGKILL
inside a day's transaction and another started; the destination ends equal to the sandbox's
truth, each app stays under its cap on the server's side, and no request is refused."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from typing import Any

import psycopg
from pg_server import pg_server, pg_url  # noqa: F401
from queue_helpers import (
    CLI,
    app_tokens,
    apps_file,
    enqueue_run,
    follow_run,
    logs_on_failure,
    refused_and_peak,
    start_worker,
    wait_mid_unit,
)
from sync_helpers import NOW, day, read_rows, sandbox_config, summary, truth_summary, video_truth

from douyin_async.queue.jobs import queue_app, run_counts
from douyin_async.queue.load import RunSpec
from douyin_async.queue.units import app_table
from douyin_async.sandbox import ManualClock
from douyin_async.sandbox.server import ThreadedSandbox
from douyin_async.sync import TASK_VIDEOS, TaskVideoSource
from douyin_async.sync.state import day_range

pytest_plugins = ["redis_server"]

SINCE, UNTIL = "2025-09-28", "2025-10-07"


def test_killed_worker_units_are_taken_again_exactly_once(
        pg_url: str, redis_server: Any, tmp_path: Any) -> None:  # noqa: F811
    tokens = app_tokens(4)
    config = sandbox_config(ManualClock(NOW), seed=7, qps=10, latency=0.01,
                            static_tokens=frozenset(tokens.values()))
    days = day_range(day(SINCE), day(UNTIL))
    truth = truth_summary(video_truth(config, days, NOW))
    apps = apps_file(str(tmp_path), tokens)
    with ThreadedSandbox(config) as sandbox:
        spec = RunSpec(TaskVideoSource(page_size=1000), pg_url, sandbox.url, "sandbox",
                       since=day(SINCE), until=day(UNTIL))
        run, units = asyncio.run(enqueue_run(pg_url, spec, tokens))
        assert len(units) == 40
        logs = [f"{tmp_path}/worker{n}.log" for n in range(4)]
        workers = [start_worker(pg_url, apps, redis_server.url, logs[n]) for n in range(3)]
        try:
            with logs_on_failure(logs):
                wait_mid_unit(pg_url, workers[0].pid)
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait(30)
                for name in tokens:  # whole days only, never a part
                    held = summary(read_rows(pg_url, app_table(TASK_VIDEOS, name).name))
                    partial = {d: (held[d], truth[d]) for d in held if held[d] != truth[d]}
                    assert not partial, f"{name}: days held part-loaded (held, truth): {partial}"
                workers.append(start_worker(pg_url, apps, redis_server.url, logs[3]))
                counts = asyncio.run(follow_run(pg_url, run))
        finally:
            for worker in workers[1:]:
                worker.send_signal(signal.SIGTERM)
            codes = [worker.wait(60) for worker in workers[1:]]
        log = sandbox.log
    with logs_on_failure(logs):
        _check_the_run(pg_url, run, tokens, truth, codes, counts, log)


def _check_the_run(url: str, run: str, tokens: dict[str, str], truth: Any,
                   codes: list[int], counts: Any, log: Any) -> None:
    """The run's end as the destination, the queue, the sandbox and `status` tell it; each
    assertion says what was expected and what was found."""
    assert codes == [0, 0, 0], f"worker exit codes (the three left running): {codes}"
    assert (counts["done"], counts["failed"]) == (40, 0), \
        f"units done, failed: expected (40, 0), got {(counts['done'], counts['failed'])}; " \
        f"errors: {counts.errors}"
    for name in tokens:
        held = summary(read_rows(url, app_table(TASK_VIDEOS, name).name))
        wrong = {d: (held.get(d), truth[d]) for d in truth if held.get(d) != truth[d]}
        assert not wrong and set(held) == set(truth), \
            f"{name}: days differing from the truth (held, truth): {wrong}; " \
            f"days beyond it: {sorted(set(held) - set(truth))}"
    with psycopg.connect(url) as conn:
        retried = conn.execute("SELECT count(*) FROM procrastinate_events e JOIN "
                               "procrastinate_jobs j ON j.id = e.job_id WHERE j.queue_name = %s "
                               "AND e.type = 'deferred_for_retry'", (run,)).fetchone()
    # the killed worker's unit, taken again
    assert retried is not None and retried[0] >= 1, f"units retried: {retried}"
    for name, (refused, peak) in refused_and_peak(log, tokens).items():
        assert (refused, peak <= 10) == (0, True), \
            f"{name}: rate-limit refusals {refused} (expected 0), most requests in a rolling " \
            f"second {peak} (expected at most 10)"
    records = asyncio.run(_counts(url, run)).records
    expected = sum(n for n, _, _ in truth.values()) * 4
    assert records == expected, f"records reported: expected {expected}, got {records}"
    shown = subprocess.run([sys.executable, CLI, "status", "--queue", url, "--run", run,
                            "--json"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    assert {u["app"]: (u["queued"], u["running"], u["done"], u["failed"], u["records"])
            for u in status["units"]} == {
        name: (0, 0, 10, 0, sum(n for n, _, _ in truth.values())) for name in tokens}
    assert set(status["rates"]) == set(tokens)


async def _counts(url: str, run: str) -> Any:
    app = queue_app(url)
    async with app.open_async():
        return await run_counts(app, run)


def test_a_unit_loaded_again_after_its_commit_is_left_as_it_is(tmp_path: Any) -> None:
    import sqlite3

    from douyin_async.queue.load import AppAccess, load_unit, plan_units

    async def main() -> list[tuple[int, int]]:
        clock = ManualClock(NOW)
        async with ThreadedSandbox(sandbox_config(clock)) as sandbox:
            into = f"sqlite:///{tmp_path}/s.sqlite"
            spec = RunSpec(TaskVideoSource(page_size=1000), into, sandbox.url, "sandbox",
                           since=day("2025-10-07"), until=day("2025-10-07"))
            app = AppAccess("", sandbox.token, 10.0, "q", "sandbox token")
            [unit] = await plan_units(spec, [app], "run-1", clock=clock)
            return [await load_unit(unit, app, clock=clock) for _ in range(2)]

    first, again = asyncio.run(main())
    truth = truth_summary(video_truth(sandbox_config(ManualClock(NOW)), [day("2025-10-07")],
                                      NOW))
    assert first[0] == again[0] == truth["2025-10-07"][0] and first[1] > 0
    assert again[1] == 0  # not a request: the destination's state says it is done
    assert summary(read_rows(f"sqlite:///{tmp_path}/s.sqlite", "task_videos")) == truth
    with sqlite3.connect(f"{tmp_path}/s.sqlite") as db:
        assert db.execute("SELECT count(*) FROM _sync_days").fetchone() == (1,)

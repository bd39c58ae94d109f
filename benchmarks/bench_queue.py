"""Benchmark: one sync spread over processes and workers.

* ``processes``: a CPU-bound many-app task-video sync (8 apps, each with a quota far above
  what a core decodes) with `sync --processes 1` and `--processes 2`, records/s of each. The
  server is a child process that sends pre-rendered pages (a few distinct full pages, then
  an empty one), so the CPU goes to the sync: decoding, rows, Parquet.
* ``workers``: 8 simulated workers take units (app x day) of 4 apps from one queue, each
  unit's requests paced by the app's Redis limiter, against a sandbox capping every token
  at 10 requests per rolling second: the quota is the limit; the figure is the requests
  per second achieved over the possible 4 x 10, counted by the sandbox.

    .venv/bin/python -m benchmarks.bench_queue
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import Result, fmt
from .common import Row as ResultRow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

CLI = str(Path(__file__).resolve().parent.parent / "douyin_async_cli.py")
#: Records of each pre-rendered page, and the full pages of every query.
PAGE, FULL_PAGES = 2000, 3


def _serve(port: Any) -> None:
    """The pre-rendered server (in a child process): page p of any query is page p."""
    from aiohttp import web

    from benchmarks.common import sandbox_config
    from douyin_async.sandbox import envelopes
    from douyin_async.sandbox.data import SandboxData

    data = SandboxData(sandbox_config("realistic", videos_per_hour=400))
    pages = [envelopes.task_video(0, "success", "2024010100000000000000000000000000",
                                  data.task_video_page("2025-11-24", 1_760_000_000,
                                                       1_764_000_000, page_num=p,
                                                       page_size=PAGE))
             for p in range(1, FULL_PAGES + 1)]
    empty = envelopes.task_video(0, "success", "2024010100000000000000000000000000", [])
    bodies = [*pages, empty]

    async def answer(request: web.Request) -> web.Response:
        asked = int((await request.json()).get("page_num", 1))
        body = bodies[min(asked, FULL_PAGES + 1) - 1]
        return web.Response(body=body, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/api/match/v2/taskbox/query_task_video_daily_data/", answer)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.value = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


def _sync(url: str, apps: str, into: str, processes: int) -> tuple[int, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, CLI, "sync", "task-videos", "--base-url", url,
                           "--apps", apps, "--processes", str(processes), "--since", "-11d",
                           "--until", "-2d", "--into", into, "--page-size", str(PAGE),
                           "--max-retries", "0"], capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    records = sum(int(line.rsplit(":", 1)[1].split()[0].replace(",", ""))
                  for line in done.stderr.splitlines() if line.endswith(" records"))
    return records, seconds


def processes_rows(quick: bool) -> tuple[list[ResultRow], str]:
    """`--processes 1` against `--processes 2`, alternated, best of each."""
    context = multiprocessing.get_context("spawn")
    port = context.Value("i", 0)
    server = context.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    try:
        while not port.value:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port.value}"
        with tempfile.TemporaryDirectory() as tmp:
            apps = os.path.join(tmp, "apps.json")
            with open(apps, "w") as handle:
                json.dump({"apps": [{"name": f"shop-{n}", "access_token": f"bench-{n}",
                                     "rate": 1000} for n in range(8)]}, handle)
            best: dict[int, float] = {1: 0.0, 2: 0.0}
            seen: dict[int, list[str]] = {1: [], 2: []}
            for n in range(1 if quick else 3):
                for count in (1, 2):
                    records, seconds = _sync(url, apps, os.path.join(tmp, f"ds{n}{count}"),
                                             count)
                    best[count] = max(best[count], records / seconds)
                    seen[count].append(f"{records / seconds:,.0f}")
    finally:
        server.kill()
    ratio = best[2] / best[1]
    rows = [ResultRow("10 queue", "1 process: records/s, CPU-bound 8-app sync",
                      f"{best[1]:,.0f}"),
            ResultRow("10 queue", "2 processes: records/s over 1 process's",
                      fmt(ratio), ">= 1.7", ratio >= 1.7)]
    note = (f"Run 10, processes: 8 apps, ten billing dates each (three 30-day windows of "
            f"{FULL_PAGES} full pages of {PAGE:,} realistic records and an empty one), into "
            f"Parquet; records/s of each run: 1 process {', '.join(seen[1])}; 2 processes "
            f"{', '.join(seen[2])}.")
    return rows, note


async def _take_units(url: str, redis_url: str, tokens: dict[str, str], units: int,
                      workers: int) -> None:
    """`workers` workers taking units (app x talent) from one queue until none is left,
    each unit's requests paced by its app's Redis limiter."""
    from douyin_async import DouyinClient
    from douyin_async.pacing.redis_limiter import RedisRateLimiter, connect
    from douyin_async.sync import TalentMediaSource

    redis = connect(redis_url)
    names = sorted(tokens)
    todo: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for n in range(units):
        todo.put_nowait((names[n % len(names)], n // len(names)))
    limiters = {name: RedisRateLimiter(redis, app=name, rate=10.0) for name in tokens}

    async def worker() -> None:
        while not todo.empty():
            app, talent = todo.get_nowait()
            source = TalentMediaSource(7_000_000_000, (f"talent-{talent}",), page_size=10)
            async with DouyinClient(tokens[app], base_url=url,
                                    limiter=limiters[app]) as client:
                async for _ in client.pull(source.queries()):
                    pass

    await asyncio.gather(*(worker() for _ in range(workers)))
    for limiter in limiters.values():
        await limiter.aclose()
    await redis.aclose()


def _take_units_process(args: tuple[str, str, dict[str, str], int, int]) -> None:
    asyncio.run(_take_units(*args))


def workers_rows(quick: bool) -> tuple[list[ResultRow], str]:
    """8 simulated workers over 4 apps' units, the quota the limit."""
    from redis_server import RedisServer

    from douyin_async.queue.local import run_groups
    from douyin_async.sandbox import SandboxConfig, ThreadedSandbox
    from douyin_async.sandbox.requestlog import DATA_ENDPOINTS

    apps, workers, units = 4, 8, 16 if quick else 40
    tokens = {f"shop-{n}": f"bench-token-{n}" for n in range(apps)}
    config = SandboxConfig(qps=10, latency=0.02, media_per_scene=200,
                           static_tokens=frozenset(tokens.values()))
    with RedisServer() as server, ThreadedSandbox(config) as sandbox:
        # the workers in a process of their own: the sandbox's thread keeps its GIL here
        asyncio.run(run_groups(_take_units_process,
                               [(sandbox.url, server.url, tokens, units, workers)]))
        entries = sandbox.log.entries()
    times = sorted(e.monotonic for e in entries if e.endpoint in DATA_ENDPOINTS)
    refused = sum(1 for e in entries if e.outcome == "28003018")
    rate = (len(times) - 1) / (times[-1] - times[0])
    possible = apps * 10.0
    ratio = rate / possible
    rows = [ResultRow("10 queue", f"{workers} workers, {apps} apps: requests/s achieved / "
                      f"possible ({possible:.0f})", f"{fmt(ratio)} ({rate:.1f}/s)", ">= 0.9",
                      ratio >= 0.9),
            ResultRow("10 queue", f"{workers} workers: rate-limit refusals", str(refused), "0",
                      refused == 0)]
    note = (f"Run 10, workers: {units} units (app x talent: a talent's media of one plan, "
            f"page size 10) taken by {workers} simulated workers (one process) from one queue, "
            f"{apps} apps of 10/s each shared through Redis, sandbox answers in 20 ms; the "
            "rate is the requests between the first and the last, counted by the sandbox.")
    return rows, note


def run(quick: bool = False) -> Result:
    result = Result("queue")
    for rows, note in (processes_rows(quick), workers_rows(quick)):
        result.rows += rows
        result.notes.append(note)
    return result


if __name__ == "__main__":
    from .run import table

    found = run("--quick" in sys.argv)
    print(table(found.rows))
    print("\n".join(found.notes))

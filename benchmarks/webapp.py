"""The FastAPI app the web-app benchmark loads: one DouyinClient shared by every view.

    python -m benchmarks.webapp --base-url URL --token T --mode new --port 8000

``GET /view/{dist}/{n}`` is one view: it picks one of ``n`` pages (``zipf``: page k with
weight 1/k, ``uniform``, or ``cycle``: in turn) with a seeded generator, since a load
generator such as ``hey`` asks one URL, and answers that page of a talent's media.
``--mode old`` is the client with
every new feature off (no single flight, no cache, no deadline, a pull in the same lane as
the views); ``--mode new`` turns them on: single flight, a 60 s cache, ``deadline=`` on
every view, the pull in the background lane. Both modes keep the handler's
``asyncio.timeout(deadline)``: a view past its deadline answers 504, a view refused by
admission 503 with ``Retry-After``.

``POST /pull`` starts a batch pull of the talents listed in the body through the same
client; ``GET /pull`` reports its progress. ``GET /stats`` is the client's
[`ClientStats`][douyin_async.stats.ClientStats].
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from douyin_async import DouyinClient, DouyinError, TalentMediaQuery, TaskVideoQuery
from douyin_async.errors import QueueTimeoutError

PLAN = 7089334664648722476
VIEW_PAGE_SIZE = 20
PULL_PAGE_SIZE = 100
#: Pages of the batch pull run C starts beside the views.
PULL_PAGES = 100
CACHE_TTL = 60.0


def zipf_weights(n: int, s: float = 1.0) -> list[float]:
    """Weight of page k (1-based) proportional to 1 / k**s."""
    return [1.0 / (k ** s) for k in range(1, n + 1)]


async def watch_lag(lags: list[float], every: float = 0.05) -> None:
    """How late the event loop wakes a 50 ms sleep (the app's own load, seconds)."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(every)
        lags.append(loop.time() - before - every)


async def burn(rng: random.Random) -> None:
    """Keeps the app's loop CPU-bound as decoding large pages does: now and then a burst of
    busy steps (5 or 80 ms each) with other tasks running between them."""
    while True:
        await asyncio.sleep(rng.uniform(0.0, 0.2))
        end = time.perf_counter() + rng.uniform(0.05, 0.3)
        while time.perf_counter() < end:
            busy(rng.choice([0.005, 0.005, 0.08]))
            await asyncio.sleep(0)


def busy(seconds: float) -> None:
    """Hold the CPU (and the event loop) for ``seconds``."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def create_app(base_url: str, token: str, *, mode: str, deadline: float,
               seed: int = 7, cache: float | None = None, cpu_bound: bool = False,
               gmv: dict[str, Any] | None = None, cold_start: float = 0.0) -> FastAPI:
    """``cache``: the page cache's TTL (0: off; None: the mode's); ``cpu_bound``: keep the
    loop busy ([`burn`][benchmarks.webapp.burn]); ``gmv``: the 30-day aggregate of
    ``GET /gmv/{n}`` (billing date, window, talents with page sizes); ``cold_start``: the
    first answered view holds the loop that long (a real app's first-answer costs: lazy
    imports, first decodes, caches filled)."""
    new = mode == "new"
    state: dict[str, Any] = {"pull": {"pages": 0, "done": False, "error": None,
                                      "started": None, "finished": None, "times": []},
                             "refusals": [], "thrown": 0}
    rng = random.Random(seed)
    weights: dict[int, list[float]] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        options: dict[str, Any] = {"cache": CACHE_TTL} if new else {"single_flight": False}
        if cache is not None:
            options["cache"] = cache or None
        async with DouyinClient(token, base_url=base_url, **options) as client:
            state["client"] = client
            state["t0"] = time.monotonic()
            lag = asyncio.ensure_future(watch_lag(state.setdefault("lag", [])))
            burner = asyncio.ensure_future(burn(random.Random(seed))) if cpu_bound else None
            yield
            lag.cancel()
            if burner is not None:
                burner.cancel()
            task = state.get("pull_task")
            if task is not None:
                task.cancel()

    app = FastAPI(lifespan=lifespan)

    def pick(dist: str, n: int) -> int:
        if dist == "zipf":
            cum = weights.get(n)
            if cum is None:
                cum = weights[n] = zipf_weights(n)
            return rng.choices(range(n), weights=cum)[0]
        if dist == "cycle":  # one page after the other: n viewers ask n distinct pages
            state["turn"] = state.get("turn", -1) + 1
            return int(state["turn"] % n)
        return rng.randrange(n)

    @app.get("/view/{dist}/{n}")
    async def view(dist: str, n: int) -> Any:
        client: DouyinClient = state["client"]
        query = TalentMediaQuery(plan_id=PLAN, douyin_id=f"view-{pick(dist, n)}",
                                 page_size=VIEW_PAGE_SIZE)
        called = time.monotonic()
        try:
            async with asyncio.timeout(deadline):
                if new:
                    page = await client.fetch_page(query, 1, deadline=deadline)
                else:
                    page = await client.fetch_page(query, 1)
        except (DouyinError, TimeoutError) as exc:
            return failed(exc, called)
        if cold_start and not state.get("warm"):
            state["warm"] = True
            busy(cold_start)
        return JSONResponse({"douyin_id": query.douyin_id, "records": len(page.records)})

    def failed(exc: Exception, called: float) -> JSONResponse:
        """A view that got no answer: 503 refused by admission, 504 timed out, 502."""
        if isinstance(exc, QueueTimeoutError):
            state["refusals"].append(time.monotonic() - called)  # call to refusal, seconds
            if "ran out" in str(exc):
                state.setdefault("late", []).append(
                    [round(called - state["t0"], 3), round(time.monotonic() - called, 3),
                     str(exc)])
            return JSONResponse({"error": "busy", "retry_after": exc.retry_after}, 503,
                                headers={"Retry-After": str(max(1, math.ceil(exc.retry_after)))})
        if isinstance(exc, TimeoutError):
            return JSONResponse({"error": "timeout"}, 504)
        return JSONResponse({"error": type(exc).__name__}, 502)

    @app.get("/gmv/{n}")
    async def aggregate(n: int) -> Any:
        """The GMV of one of ``n`` talents' task videos over the configured window; records
        a view got before it failed are counted as thrown away."""
        assert gmv is not None
        client: DouyinClient = state["client"]
        douyin_id, page_size = gmv["talents"][rng.randrange(min(n, len(gmv["talents"])))]
        query = TaskVideoQuery(billing_date=gmv["billing_date"], douyin_id=douyin_id,
                               video_publish_start_time=gmv["start"],
                               video_publish_end_time=gmv["end"], page_size=page_size)
        called = time.monotonic()
        records = total = 0
        try:
            async with asyncio.timeout(deadline):
                async for page in client.task_video_pages(query, deadline=deadline):
                    records += len(page.records)
                    total += sum(video.gmv_1d for video in page.records)
        except (DouyinError, TimeoutError) as exc:
            state["thrown"] += records
            return failed(exc, called)
        return JSONResponse({"douyin_id": douyin_id, "videos": records, "gmv_fen": total})

    @app.post("/pull")
    async def start_pull(request: Request) -> Any:
        client: DouyinClient = state["client"]
        ids = (await request.json())["douyin_ids"]
        queries = [TalentMediaQuery(plan_id=PLAN, douyin_id=i, page_size=PULL_PAGE_SIZE)
                   for i in ids]
        progress = state["pull"]
        progress["started"] = time.monotonic()

        async def run() -> None:
            try:
                pages = client.pull(queries) if new else \
                    client.pull(queries, priority="interactive")
                async for _ in pages:
                    progress["pages"] += 1
                    progress["times"].append(time.monotonic())
            except Exception as exc:  # reported, not raised: the benchmark reads it
                progress["error"] = f"{type(exc).__name__}: {exc}"
            finally:
                progress["done"] = True
                progress["finished"] = time.monotonic()

        state["pull_task"] = asyncio.ensure_future(run())
        return {"queries": len(queries)}

    @app.get("/pull")
    async def pull_progress() -> Any:
        return state["pull"]

    @app.get("/stats")
    async def stats() -> Any:
        lags = sorted(state.get("lag", [])) or [0.0]
        return {**state["client"].stats.as_dict(), "thrown": state["thrown"],
                "loop_lag_p50": lags[len(lags) // 2], "loop_lag_p99": lags[-len(lags) // 100 - 1],
                "loop_lag_max": lags[-1]}

    @app.get("/refusals")
    async def refusals() -> Any:
        return state["refusals"]

    @app.get("/late")
    async def late() -> Any:
        return state.get("late", [])

    @app.get("/health")
    async def health() -> Any:
        return {"ok": True}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webapp")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--mode", choices=("old", "new"), default="new")
    parser.add_argument("--deadline", type=float, default=10.0)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cache", type=float, default=None, help="page cache TTL (0: off)")
    parser.add_argument("--cpu-bound", action="store_true", help="keep the loop busy")
    parser.add_argument("--cold-start", type=float, default=0.0,
                        help="seconds the first answered view holds the loop")
    parser.add_argument("--gmv", type=json.loads, default=None,
                        help='{"billing_date", "start", "end", "talents": [[id, page_size]]}')
    ns = parser.parse_args()
    app = create_app(ns.base_url, ns.token, mode=ns.mode, deadline=ns.deadline,
                     cache=ns.cache, cpu_bound=ns.cpu_bound, gmv=ns.gmv,
                     cold_start=ns.cold_start)
    uvicorn.run(app, host="127.0.0.1", port=ns.port, log_level="warning", access_log=False,
                backlog=1024)


if __name__ == "__main__":
    main()

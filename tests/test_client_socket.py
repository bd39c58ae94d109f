"""Client behaviour across a real socket: pacing counted server-side, retries, cancellation."""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from typing import Any

import pytest
from apiserver import TALENT, TASK, api_server, video

from douyin_async import (
    DouyinClient,
    RetryPolicy,
    TalentMediaQuery,
    TaskVideoQuery,
    TransportError,
)

NOW = int(time.time())


def client(url: str, **kw: Any) -> DouyinClient:
    kw.setdefault("retry_policy", RetryPolicy(max_retries=3, base=0.01, random=lambda: 1.0))
    return DouyinClient("tok", base_url=url, **kw)


def tvq(page_size: int = 10, **kw: Any) -> TaskVideoQuery:
    return TaskVideoQuery(billing_date="2026-11-01", video_publish_start_time=NOW - 3600,
                          video_publish_end_time=NOW, page_size=page_size, **kw)


def others() -> list[asyncio.Task[Any]]:
    """Client-side tasks still alive (the test server shares the loop and is left out)."""
    def ours(task: asyncio.Task[Any]) -> bool:
        code = getattr(task.get_coro(), "cr_code", None)
        return code is not None and "douyin_async" in code.co_filename

    return [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and ours(t)]


@pytest.mark.slow
async def test_never_more_than_the_cap_in_any_rolling_second() -> None:
    async with api_server(talent_total=50, videos=60, latency=0.02) as srv:
        async with client(srv.url, rate_limit=20, max_concurrency=16) as c:
            queries = [TalentMediaQuery(plan_id=1, douyin_id="a", page_size=2), tvq(page_size=2)]
            pages = [p async for p in c.pull(queries)]
        assert len(pages) >= 25 + 30
        assert len(srv.arrivals) >= 55
        assert srv.rolling_max(1.0) <= 20


@pytest.mark.slow
async def test_default_cap_of_ten_holds_for_many_concurrent_callers() -> None:
    async with api_server(talent_total=5) as srv:
        async with client(srv.url, max_concurrency=32) as c:
            # Distinct pages: identical calls in flight would share one request.
            qs = [TalentMediaQuery(plan_id=1, douyin_id=f"a{i}", page_size=5) for i in range(25)]
            await asyncio.gather(*(c.fetch_page(q) for q in qs))
        assert len(srv.arrivals) == 25
        assert srv.rolling_max(1.0) <= 10


async def test_every_transient_fault_is_retried_to_the_exact_result() -> None:
    async with api_server(videos=95) as srv:
        srv.fail(TASK, 1, "server", "html502")
        srv.fail(TASK, 2, "cut")
        srv.fail(TASK, 3, "reset", "ratelimit")
        async with client(srv.url, rate_limit=200) as c:
            records = [r async for r in c.task_video_daily_data(
                "2026-11-01", NOW - 3600, NOW, page_size=10)]
        assert [r.video_id for r in records] == [video(i)["VideoId"] for i in range(95)]
        assert c.stats.retries == 5 and c.stats.rate_limited == 1
        assert srv.pages(TASK).count(1) == 3 and srv.pages(TASK).count(3) == 3


async def test_timeouts_become_transport_errors_after_retries() -> None:
    async with api_server(videos=5) as srv:
        srv.fail(TASK, 1, "hang", "hang")
        async with client(srv.url, rate_limit=200, timeout=0.2,
                          retry_policy=RetryPolicy(max_retries=1, random=lambda: 0.0)) as c:
            with pytest.raises(TransportError) as info:
                await c.fetch_page(tvq())
        assert info.value.attempts == 2 and "0.2" in str(info.value)
        assert srv.pages(TASK) == [1, 1]


async def test_connection_refused_is_a_transport_error() -> None:
    async with api_server() as srv:
        url = srv.url
    async with client(url, rate_limit=200,
                      retry_policy=RetryPolicy(max_retries=0)) as c:
        with pytest.raises(TransportError):
            await c.fetch_page(tvq())


async def test_one_page_answer_costs_one_request() -> None:
    async with api_server(videos=7) as srv:
        async with client(srv.url, rate_limit=200) as c:
            records = [r async for r in c.task_video_daily_data("2026-11-01", NOW - 9, NOW,
                                                                  page_size=10)]
        assert len(records) == 7
        assert srv.pages(TASK) == [1]
        assert c.stats.wasted_requests == 0


async def test_wasted_requests_are_counted() -> None:
    async with api_server(videos=200, latency=0.01) as srv:
        async with client(srv.url, rate_limit=500) as c:
            n = len([r async for r in c.task_video_daily_data("2026-11-01", NOW - 9, NOW,
                                                                page_size=10)])
        assert n == 200
        sent_past_end = sum(1 for p in srv.pages(TASK) if p > 21)
        assert c.stats.wasted_requests == sent_past_end
        assert sorted(set(srv.pages(TASK)))[:21] == list(range(1, 22))


async def test_a_rate_limit_answer_pauses_all_callers() -> None:
    async with api_server(talent_total=40, latency=0.005) as srv:
        srv.fail(TALENT, 3, "ratelimit")
        async with client(srv.url, rate_limit=100, max_concurrency=4) as c:
            q = TalentMediaQuery(plan_id=1, douyin_id="a", page_size=1)
            got = [m.content_open_id async for m in c.talent_media(q.plan_id, "a", page_size=1)]
        assert got == [f"@open{i}" for i in range(40)]
        limited = next(a for a in srv.arrivals if a.page == 3)
        # the pause is a minimum: nothing arrives in the second after the rejected request,
        # except requests already on the wire when the answer came back
        soon = [a for a in srv.arrivals if limited.at + 0.1 < a.at < limited.at + 0.95]
        assert soon == []


async def test_pull_runs_both_endpoints_at_once() -> None:
    async with api_server(videos=40, talent_total=40, latency=0.05) as srv:
        async with client(srv.url, rate_limit=100, max_concurrency=8) as c:
            pages = [p async for p in c.pull([tvq(page_size=5),
                                              TalentMediaQuery(plan_id=1, douyin_id="a",
                                                               page_size=5)])]
        order = [a.endpoint for a in srv.arrivals]
        first_talent = order.index(TALENT)
        last_task = len(order) - 1 - order[::-1].index(TASK)
        assert first_talent < last_task  # interleaved, not one after the other
        by_query: dict[Any, list[int]] = {}
        for p in pages:
            by_query.setdefault(p.query, []).append(p.page)
        assert all(v == sorted(v) for v in by_query.values())
        assert sum(len(p.records) for p in pages) == 80


@pytest.mark.parametrize("how", ["break", "aclose", "cancel"])
async def test_stopping_early_leaves_nothing_running(how: str) -> None:
    async with api_server(talent_total=1000, latency=0.05) as srv:
        async with client(srv.url, rate_limit=100, max_concurrency=8) as c:
            q = TalentMediaQuery(plan_id=1, douyin_id="a", page_size=10)
            if how == "break":
                async with aclosing(c.talent_media_pages(q)) as pages:
                    async for _ in pages:
                        break
            elif how == "aclose":
                gen = c.pull([q, tvq()])
                await gen.__anext__()
                await gen.aclose()
            else:
                async def consume() -> None:
                    async for _ in c.pull([q]):
                        await asyncio.sleep(0.01)

                task = asyncio.ensure_future(consume())
                await asyncio.sleep(0.3)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                # the abandoned generator is closed by the loop's finalizer hook
                await asyncio.sleep(0.05)
            assert others() == []
            seen = len(srv.arrivals)
            await asyncio.sleep(0.2)
            assert len(srv.arrivals) == seen
            assert seen < 100


async def test_plain_break_is_cleaned_up_by_the_loop() -> None:
    async with api_server(talent_total=1000, latency=0.05) as srv:
        async with client(srv.url, rate_limit=100) as c:
            async for _ in c.talent_media(1, "a", page_size=10):
                break
            for _ in range(5):
                await asyncio.sleep(0)
            await asyncio.sleep(0.05)
            assert others() == []

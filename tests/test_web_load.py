"""The client under web load, against the sandbox: single flight, page cache, fail-fast
admission and priority lanes, counted on the sandbox's request log."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from douyin_async import (
    DouyinClient,
    PermissionDeniedError,
    RetryPolicy,
    TalentMediaQuery,
    TaskVideoQuery,
)
from douyin_async.errors import QueueTimeoutError
from douyin_async.sandbox import ManualClock, Sandbox, SandboxConfig
from douyin_async.webapp.cache import MemoryPageCache, RedisPageCache

pytest_plugins = ["redis_server"]

PLAN = 7089334664648722476
FORBIDDEN_PLAN = 7089334664648722403
DAY = 86400


def client(sb: Any, **kw: Any) -> DouyinClient:
    kw.setdefault("retry_policy", RetryPolicy(max_retries=2, base=0.01, cap=0.05))
    return DouyinClient(sb.token, base_url=sb.url, **kw)


def media(douyin_id: str = "dy-1", page_size: int = 10) -> TalentMediaQuery:
    return TalentMediaQuery(plan_id=PLAN, douyin_id=douyin_id, page_size=page_size)


async def test_identical_views_in_flight_share_one_request() -> None:
    async with Sandbox(SandboxConfig(latency=0.05)) as sb, client(sb) as c:
        pages = await asyncio.gather(*(c.fetch_page(media(), 1) for _ in range(30)))
        assert len(sb.log.entries("talent_media")) == 1
        assert all(p is pages[0] for p in pages)
        assert c.stats.shared_flights == 29 and c.stats.requests == 1
        # Another page is another request.
        await asyncio.gather(c.fetch_page(media(), 2), c.fetch_page(media("dy-2"), 1))
        assert len(sb.log.entries("talent_media")) == 3


async def test_single_flight_can_be_turned_off() -> None:
    async with Sandbox() as sb, client(sb, single_flight=False) as c:
        await asyncio.gather(*(c.fetch_page(media(), 1) for _ in range(3)))
        assert len(sb.log.entries("talent_media")) == 3


async def test_cached_pages_cost_no_request_until_the_ttl_passes() -> None:
    clock = ManualClock()
    cache = MemoryPageCache(60, clock=clock.monotonic)
    async with Sandbox() as sb, client(sb, cache=cache) as c:
        first = await c.fetch_page(media(), 1)
        again = await c.fetch_page(media(), 1)
        assert again == first and again is not first  # decoded afresh from the cached body
        assert len(sb.log.entries("talent_media")) == 1
        assert (c.stats.cache_hits, c.stats.cache_misses) == (1, 1)
        clock.advance(60)
        await c.fetch_page(media(), 1)
        assert len(sb.log.entries("talent_media")) == 2


async def test_errors_are_never_cached() -> None:
    async with Sandbox() as sb, client(sb, cache=60) as c:
        query = TalentMediaQuery(plan_id=FORBIDDEN_PLAN, douyin_id="dy-1")
        for _ in range(2):
            with pytest.raises(PermissionDeniedError):
                await c.fetch_page(query)
        assert len(sb.log.entries("talent_media")) == 2
        assert c.stats.cache_hits == 0


async def test_streams_use_the_cache_and_pulls_do_not() -> None:
    now = int(time.time())
    query = TaskVideoQuery(billing_date=time.strftime("%Y-%m-%d", time.gmtime(now - DAY)),
                           video_publish_start_time=now - 3 * DAY,
                           video_publish_end_time=now - DAY, page_size=50)
    async with Sandbox(SandboxConfig(qps=None)) as sb, client(sb, cache=60,
                                                              rate_limit=200) as c:
        first = [p async for p in c.task_video_pages(query)]
        assert len(first) > 3
        assert [p async for p in c.task_video_pages(query)] == first
        assert c.stats.cache_hits == len(first)  # every page of the second stream
        sent = len(sb.log)
        [p async for p in c.pull([query])]
        assert len(sb.log) >= sent + len(first)
        assert c.stats.cache_hits == len(first)


async def test_a_shared_redis_cache_serves_another_client_of_the_app(redis_client: Any) -> None:
    config = SandboxConfig(static_tokens=frozenset({"token-a", "token-b"}))
    async with Sandbox(config) as sb:
        for token in ("token-a", "token-b"):  # two processes of one app, two tokens
            cache = RedisPageCache(redis_client, ttl=60, app="app-1")
            async with DouyinClient(token, base_url=sb.url, cache=cache) as c:
                page = await c.fetch_page(media(), 1)
                assert page.records
        assert len(sb.log.entries("talent_media")) == 1
        for key in await redis_client.keys("*"):
            assert b"token" not in key


async def test_a_view_that_cannot_make_its_deadline_is_refused_at_once() -> None:
    async with Sandbox() as sb, client(sb) as c:
        queued = [asyncio.ensure_future(c.fetch_page(media(f"dy-{i}"))) for i in range(25)]
        for _ in range(20):
            await asyncio.sleep(0)
        assert c.stats.queued >= 20
        assert c.stats.estimated_wait > 2.0
        with pytest.raises(QueueTimeoutError) as caught:
            await c.fetch_page(media("late"), deadline=1.0)
        assert c.stats.queued >= 20  # refused while the queue was still long
        assert caught.value.retry_after > 1.0
        assert c.stats.queue_timeouts == 1
        await asyncio.gather(*queued)
        assert len(sb.log.entries("talent_media")) == 25  # the refused view sent nothing
        # A client-wide budget works the same for calls without a deadline.
    async with Sandbox() as sb, client(sb, max_queue_wait=0.5) as c:
        queued = [asyncio.ensure_future(c.fetch_page(media(f"dy-{i}"))) for i in range(25)]
        results = await asyncio.gather(*queued, return_exceptions=True)
        refused = [r for r in results if isinstance(r, QueueTimeoutError)]
        assert 15 <= len(refused) <= 21
        assert len(sb.log.entries("talent_media")) == 25 - len(refused)


async def test_views_overtake_a_background_pull_which_keeps_its_share() -> None:
    config = SandboxConfig(qps=10, media_per_scene=20)  # 0..20 records: 1..4 pages each
    async with Sandbox(config) as sb, client(sb) as c:
        pull_queries = [media(f"pull-{i}", page_size=5) for i in range(15)]
        expected = sum(sb.data.count_talent_media(PLAN, q.douyin_id, 3) for q in pull_queries)
        records = 0

        async def pull() -> None:
            nonlocal records
            async for page in c.pull(pull_queries):
                records += len(page.records)

        running = asyncio.ensure_future(pull())
        while len(sb.log) < 5:
            await asyncio.sleep(0.01)
        before = len(sb.log)
        views = await asyncio.gather(*(c.fetch_page(media(f"view-{i}", page_size=6))
                                       for i in range(8)))
        assert len(views) == 8
        later = sb.log.entries()[before:]
        view_at = [i for i, e in enumerate(later) if e.page_size == 6]
        assert len(view_at) == 8
        # The views went first: at most one background grant per four views, plus the
        # pull's requests already at the gate or in flight.
        assert max(view_at) < 8 + 2 + 2
        await running
        assert records == expected  # the pull still delivers every record
        assert sb.log.counts().get("28003018", 0) == 0


async def test_a_stream_with_a_deadline_is_refused_at_once_behind_a_long_queue() -> None:
    async with Sandbox() as sb, client(sb) as c:
        queued = [asyncio.ensure_future(c.fetch_page(media(f"dy-{i}"))) for i in range(25)]
        while c.stats.queued < 20:
            await asyncio.sleep(0.01)
        with pytest.raises(QueueTimeoutError):
            [p async for p in c.talent_media_pages(media("stream"), deadline=1.0)]
        await asyncio.gather(*queued)
        assert len(sb.log.entries("talent_media")) == 25


async def test_a_shared_view_is_sent_while_one_waiter_is_left_and_never_for_nobody() -> None:
    async with Sandbox() as sb, client(sb) as c:
        queued = [asyncio.ensure_future(c.fetch_page(media(f"dy-{i}"))) for i in range(10)]
        kept = [asyncio.ensure_future(c.fetch_page(media("kept"))) for _ in range(3)]
        dropped = [asyncio.ensure_future(c.fetch_page(media("dropped"))) for _ in range(3)]
        while c.stats.queued < 8:
            await asyncio.sleep(0.01)
        for task in kept[:2] + dropped:
            task.cancel()
        await kept[2]
        await asyncio.gather(*queued)
        await asyncio.gather(*dropped, return_exceptions=True)
        # The ten, and "kept" once; "dropped" never.
        assert len(sb.log.entries("talent_media")) == 11
        assert c.stats.shared_flights == 4

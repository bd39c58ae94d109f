"""A pull's unit streams share one bound on the pages they hold: with a consumer slower than
the cap, the pages answered and not yet handed on stay about one query's fetch-ahead, not one
per active query, and every record still arrives once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from apiserver import video

from douyin_async import DouyinClient, TaskVideoQuery
from douyin_async.api.pagination import PagesAhead
from douyin_async.http.fake import FakeTransport
from douyin_async.http.transport import Request, Response

BASE = "http://api.test"
NOW = int(time.time())
SIZE = 5
PAGES = 5  # per query: four full pages, then a short one
DATES = [f"2026-11-{day:02d}" for day in range(1, 13)]


def raws_of(date: str, page: int) -> list[dict[str, Any]]:
    count = SIZE if page < PAGES else 2 if page == PAGES else 0
    day = int(date[-2:])
    return [video(day * 10_000 + page * 100 + i) for i in range(count)]


async def pull(concurrency: int) -> tuple[int, list[tuple[str, int]], list[int]]:
    """Twelve queries, ten at once, against a server that answers at once and a consumer
    that takes 20 ms a page: (most pages answered and not yet handed on, pages got in
    order of arrival, video ids got)."""
    answered = 0
    got = 0
    most = 0

    async def handler(request: Request) -> Response:
        nonlocal answered, most
        query = orjson.loads(request.body or b"{}")
        date, page = query["billing_date"], query["page_num"]
        if page <= PAGES:  # a page past the end is never handed on (counted as wasted)
            answered += 1
            most = max(most, answered - got)
        data = {"video_daily_data_list": raws_of(date, page)}
        return Response(200, {}, orjson.dumps({"err_no": 0, "log_id": "L", "data": data}))

    queries = [TaskVideoQuery(billing_date=d, video_publish_start_time=NOW - 3600,
                              video_publish_end_time=NOW, page_size=SIZE) for d in DATES]
    pages: list[tuple[str, int]] = []
    ids: list[int] = []
    async with DouyinClient("static-token", base_url=BASE, rate_limit=1000,
                            max_concurrency=concurrency,
                            transport=FakeTransport(handler)) as client:
        async for page in client.pull(queries, max_active_queries=10):
            got += 1
            pages.append((str(page.query.billing_date), page.page))
            ids += [record.video_id for record in page.records]
            await asyncio.sleep(0.02)
    return most, pages, ids


async def test_a_slow_consumer_holds_one_querys_pages_not_one_per_active_query() -> None:
    for concurrency in (4, 10):
        most, pages, ids = await pull(concurrency)
        # The bound is one query's fetch-ahead (max_concurrency pages here) and the page the
        # consumer holds. Unbounded, the ten streams held up to 10 x 5 pages.
        assert most <= concurrency + 1, (concurrency, most)
        assert sorted(pages) == sorted((d, p) for d in DATES for p in range(1, PAGES + 1))
        want = [r["VideoId"] for d in DATES for p in range(1, PAGES + 1) for r in raws_of(d, p)]
        assert sorted(ids) == sorted(want) and len(set(ids)) == len(want)


def test_the_bound_counts_pages_handed_on_until_taken_and_lets_a_stuck_stream_ask_one() -> None:
    ahead = PagesAhead(lambda: 3)
    assert ahead.allowed(1, 0, stuck=False) == 3
    ahead.hold(1, 3)
    assert ahead.allowed(2, 0, stuck=False) == 0  # the others hold the bound: wait
    assert ahead.allowed(3, 2, stuck=True) == 1  # its pages wait for one not asked for
    ahead.hold(3, 0)
    ahead.hand_on(1, 2)
    assert ahead.allowed(2, 0, stuck=False) == 0  # handed on, not yet taken
    ahead.taken()
    assert ahead.allowed(2, 0, stuck=False) == 1


async def test_a_stream_waiting_on_the_bound_wakes_when_another_hands_a_page_on() -> None:
    ahead = PagesAhead(lambda: 1)
    ahead.hold(1, 1)
    waiter = asyncio.ensure_future(ahead.freed())
    await asyncio.sleep(0)
    assert not waiter.done()
    ahead.hold(1, 0)
    await asyncio.wait_for(waiter, 1)

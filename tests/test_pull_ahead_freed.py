"""A stream waiting on the pull's bound wakes as soon as another stream lets a page go, however
it lets it go: handed on, or dropped (failed, or past the end) while it waits for others."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing

import attrs

from douyin_async.api.pagination import PagePlan, PagesAhead, stream_pages


@attrs.frozen
class Page:
    page: int
    records: list[int]
    page_count: int | None = None


def test_a_stream_holding_fewer_pages_when_it_asks_again_wakes_the_waiting_ones() -> None:
    async def run() -> None:
        ahead = PagesAhead(lambda: 2)
        assert ahead.allowed(1, 0, stuck=False) == 2
        ahead.hold(1, 2)
        waiter = asyncio.ensure_future(ahead.freed())
        await asyncio.sleep(0)
        assert ahead.allowed(1, 1, stuck=False) == 1  # one of its pages failed: one free
        await asyncio.wait_for(waiter, 0.1)

    asyncio.run(run())


async def test_pages_dropped_past_the_end_let_a_waiting_stream_ask_at_once() -> None:
    """Stream a asks pages 2-5 (page 1 tells 10 pages); page 3 comes back short, before page
    2: pages 4 and 5 are dropped as past the end, and stream b may ask for two pages while
    page 2 is still on its way."""
    ahead = PagesAhead(lambda: 4)
    slow = asyncio.Event()
    asked: list[int] = []

    async def fetch_a(page: int, needed: Callable[[], bool]) -> Page | None:
        if page == 1:
            return Page(1, list(range(10)), 10)
        if page == 3:
            await asyncio.sleep(0.01)
            return Page(3, [1, 2], None)  # short: the last
        await slow.wait()
        return Page(page, list(range(10)), None)

    async def fetch_b(page: int, needed: Callable[[], bool]) -> Page | None:
        asked.append(page)
        return Page(page, [1], None)

    async def take(fetch: Callable[..., object], got: list[int]) -> None:
        pages = stream_pages(fetch, PagePlan(10, 4), ahead=ahead,  # type: ignore[arg-type]
                             page_count_of=lambda p: p.page_count)
        async with aclosing(pages) as stream:
            async for page in stream:
                ahead.taken()
                got.append(page.page)

    got_a: list[int] = []
    got_b: list[int] = []
    a = asyncio.ensure_future(take(fetch_a, got_a))
    for _ in range(20):
        await asyncio.sleep(0)
    assert got_a == [1]  # pages 2-5 asked for: the bound is full
    b = asyncio.ensure_future(take(fetch_b, got_b))
    await asyncio.sleep(0.05)  # page 3 answered, pages 4 and 5 dropped
    try:
        assert asked == [1], "the waiting stream was not told pages were let go"
    finally:
        slow.set()
        await asyncio.wait_for(asyncio.gather(a, b), 2)
    assert got_a == [1, 2, 3] and got_b == [1]


async def test_a_page_lost_by_its_fetch_raises_rather_than_waiting_on_the_bound() -> None:
    """A fetch that answers None for a page still needed breaks the stream's contract: the
    stream says it stalled, as it does without the bound, rather than wait for pages the
    pull's other streams might let go."""
    ahead = PagesAhead(lambda: 2)

    async def fetch(page: int, needed: Callable[[], bool]) -> Page | None:
        return Page(1, list(range(10))) if page == 1 else None

    async def drain() -> list[int]:
        pages = stream_pages(fetch, PagePlan(10, 4, 1, 3), ahead=ahead)
        async with aclosing(pages) as stream:
            return [page.page async for page in stream]

    try:
        await asyncio.wait_for(drain(), 1)
    except RuntimeError as error:
        assert "stalled before page 2" in str(error)
    else:
        raise AssertionError("the stream ended quietly")

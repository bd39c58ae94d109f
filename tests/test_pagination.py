"""Page plans (pure) and the ordered streaming driver, with a scripted fetch."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

import attrs
import pytest

from douyin_async.pagination import PagePlan, stream_pages


@attrs.frozen
class FakePage:
    page: int
    records: list[int]
    page_count: int | None = None


def drain(plan: PagePlan, total: int | None, records: int, size: int) -> tuple[list[int], int]:
    """Run a plan synchronously answering in request order; return requests and waste."""
    sent: list[int] = []
    pending: list[int] = []
    while True:
        for p in plan.next_pages(len(pending)):
            sent.append(p)
            pending.append(p)
        if not pending:
            break
        page = pending.pop(0)
        if not plan.needed(page):
            continue
        n = max(0, min(size, records - (page - 1) * size))
        plan.on_page(page, n, total)
    last = plan.last_page or 0
    return sent, sum(1 for p in sent if p > last)


def test_one_short_page_costs_one_request() -> None:
    sent, wasted = drain(PagePlan(100, 8), None, records=42, size=100)
    assert sent == [1] and wasted == 0


def test_empty_answer_costs_one_request() -> None:
    sent, wasted = drain(PagePlan(100, 8), None, records=0, size=100)
    assert sent == [1] and wasted == 0


@pytest.mark.parametrize("pages", [2, 3, 10, 50])
def test_speculative_window_grows_and_waste_is_bounded(pages: int) -> None:
    size = 10
    sent, wasted = drain(PagePlan(size, 4), None, records=pages * size - 1, size=size)
    assert set(range(1, pages + 1)) <= set(sent)
    assert len(sent) == len(set(sent))
    assert wasted <= 4 - 1
    assert sent[:3] == [1, 2, 3][: len(sent[:3])]


def test_full_last_page_needs_one_empty_page() -> None:
    sent, _ = drain(PagePlan(10, 1), None, records=30, size=10)
    assert sent == [1, 2, 3, 4]


def test_known_total_fetches_exactly_page_count() -> None:
    plan = PagePlan(100, 5)
    assert plan.next_pages(0) == [1]
    assert plan.next_pages(1) == []
    plan.on_page(1, 100, page_count=7)
    assert plan.next_pages(0) == [2, 3, 4, 5, 6]
    assert plan.next_pages(5) == []
    sent, wasted = drain(PagePlan(100, 5), 7, records=650, size=100)
    assert sent == list(range(1, 8)) and wasted == 0


def test_zero_page_count_stops_after_page_one() -> None:
    plan = PagePlan(100, 5)
    plan.next_pages(0)
    plan.on_page(1, 0, page_count=0)
    assert plan.last_page == 1 and plan.finished


def test_start_page() -> None:
    plan = PagePlan(10, 4, first_page=5)
    assert plan.next_pages(0) == [5]


def make_fetch(records: int, size: int, *, total: bool, log: list[int],
               delays: Callable[[int], float] = lambda p: 0.0,
               fail: int | None = None):  # type: ignore[no-untyped-def]
    async def fetch(page: int, needed: Callable[[], bool]) -> FakePage | None:
        await asyncio.sleep(delays(page))
        if not needed():
            return None
        log.append(page)
        if page == fail:
            raise RuntimeError(f"page {page} failed")
        start = (page - 1) * size
        recs = list(range(start, min(records, start + size)))
        return FakePage(page, recs, -(-records // size) if total else None)

    return fetch


@pytest.mark.parametrize("seed", range(5))
async def test_pages_come_out_in_order_whatever_the_answer_order(seed: int) -> None:
    rng = random.Random(seed)
    log: list[int] = []
    wasted: list[int] = []
    fetch = make_fetch(1234, 50, total=False, log=log, delays=lambda p: rng.random() / 200)
    out: list[int] = []
    async for page in stream_pages(fetch, PagePlan(50, 6), on_wasted=wasted.append):
        out.extend(page.records)
    assert out == list(range(1234))
    last = 1234 // 50 + 1
    assert sum(wasted) == sum(1 for p in log if p > last)


async def test_known_total_stream() -> None:
    log: list[int] = []
    pages = [p async for p in stream_pages(make_fetch(95, 10, total=True, log=log),
                                           PagePlan(10, 4), page_count_of=lambda p: p.page_count)]
    assert [p.page for p in pages] == list(range(1, 11))
    assert sorted(log) == list(range(1, 11))


async def test_error_cancels_the_rest_and_is_raised() -> None:
    log: list[int] = []
    fetch = make_fetch(10_000, 10, total=True, log=log, fail=3,
                       delays=lambda p: 0.0 if p == 3 else 0.05)
    with pytest.raises(RuntimeError, match="page 3"):
        async for _ in stream_pages(fetch, PagePlan(10, 8), page_count_of=lambda p: p.page_count):
            pass
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_leaving_early_cancels_in_flight_fetches() -> None:
    log: list[int] = []
    started: list[int] = []

    async def fetch(page: int, needed: Callable[[], bool]) -> FakePage | None:
        started.append(page)
        await asyncio.sleep(0 if page == 1 else 10)
        log.append(page)
        return FakePage(page, list(range(10)), 100)

    async with aclosing(stream_pages(fetch, PagePlan(10, 5),
                                     page_count_of=lambda p: p.page_count)) as pages:
        async for page in pages:
            assert page.page == 1
            break
    assert started[0] == 1
    assert log == [1]
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_merge_interleaves_producers_and_raises_the_first_error() -> None:
    from douyin_async.pagination import merge

    def producer(name: str, n: int, fail_at: int | None = None):  # type: ignore[no-untyped-def]
        async def produce(put: Callable[[str], Any]) -> None:
            for i in range(n):
                if i == fail_at:
                    raise RuntimeError(f"{name} failed")
                await put(f"{name}{i}")
                await asyncio.sleep(0)

        return produce

    got = [x async for x in merge([producer("a", 3), producer("b", 3)], buffer=1)]
    assert sorted(got) == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert got.index("a2") > got.index("b0")  # interleaved
    with pytest.raises(RuntimeError, match="b failed"):
        async for _ in merge([producer("a", 1000), producer("b", 5, fail_at=2)], buffer=2):
            pass
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

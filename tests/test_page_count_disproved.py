"""A page count that a full page has disproved is not believed again when a page answered
later repeats it: a wrong page count costs requests, never ends a query quietly short."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import attrs

from douyin_async.api.pagination import PagePlan, stream_pages


def test_a_late_page_repeating_a_disproved_count_does_not_close_the_query_again() -> None:
    plan = PagePlan(10, 8)
    assert plan.next_pages(0) == [1]
    plan.on_page(1, 10, page_count=3)
    assert plan.next_pages(0) == [2, 3]
    plan.on_page(3, 10, page_count=3)  # the announced last page is full: more follow
    assert plan.needed(4) and plan.next_pages(1)[:1] == [4]
    plan.on_page(2, 10, page_count=3)  # answered late, with the count page 3 disproved
    assert plan.needed(4) and plan.last_page is None


@attrs.frozen
class Page:
    page: int
    records: list[int]
    page_count: int


async def test_a_stream_whose_pages_all_claim_too_few_pages_yields_every_record() -> None:
    """Every page says 3 pages (there are 6); page 2 answers after page 3."""
    slow = {2: 0.02}

    async def fetch(page: int, needed: Callable[[], bool]) -> Page | None:
        await asyncio.sleep(slow.get(page, 0.001))
        if not needed():
            return None
        return Page(page, list(range((page - 1) * 10, min(55, page * 10))), 3)

    out = [r async for p in stream_pages(fetch, PagePlan(10, 8),
                                          page_count_of=lambda p: p.page_count)
           for r in p.records]
    assert out == list(range(55))

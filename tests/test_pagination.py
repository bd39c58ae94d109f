"""Page plans (pure) and the ordered streaming driver, with a scripted fetch."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

import attrs
import pytest

from douyin_async.api.pagination import PagePlan, stream_pages


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


# -- the last page: one definition ---------------------------------------------------------


@pytest.mark.parametrize(("page", "raw", "count", "last"), [
    (1, 99, None, True),   # short: last
    (1, 100, None, False),  # full, no total: keep going
    (1, 0, 0, True),       # empty answer
    (3, 40, 7, False),     # short, but the page count says more pages follow
    (7, 40, 7, True),      # short at the page count
    (8, 0, 7, True),       # short past the page count
    (1, 40, 0, True),      # short, page count unknown
    (1, 40, 2.0, True),    # a float page count is unknown
    (7, 100, 7, False),    # full page claiming to be the last: not trusted, ask the next
    (5, 100, 3, False),    # full page claiming an end before it: not trusted
    (1, 100, 0, False),    # page_count 0 on a full page means unknown
    (1, 100, 3.0, False),  # a float page_count is unknown
    (1, 100, True, False),  # so is a bool
    (2, 100, 5, False),
])
def test_is_last_page_rules(page: int, raw: int, count: object, last: bool) -> None:
    from douyin_async.api.pagination import is_last_page

    assert is_last_page(page, raw, 100, count) is last


@pytest.mark.parametrize(("value", "known"), [
    (None, None), (0, None), (-2, None), (3.0, None), (True, None), ("3", None), (3, 3)])
def test_known_page_count(value: object, known: int | None) -> None:
    from douyin_async.api.pagination import known_page_count

    assert known_page_count(value) == known


def talent_page(page: int, records: int, page_count: int, size: int = 100) -> Any:
    from douyin_async.models import TalentMediaPage, TalentMediaQuery

    query = TalentMediaQuery(plan_id=1, douyin_id="dy", page_size=size)
    return TalentMediaPage(query=query, page=page, records=[object()] * records,  # type: ignore[list-item]
                           log_id="L", total=None, page_count=page_count)


@pytest.mark.parametrize(("page", "records", "count"), [
    (1, 100, 0), (1, 100, 1), (2, 100, 2), (3, 100, 2), (1, 30, 5), (2, 100, 5), (1, 0, 0),
    (5, 30, 5), (6, 0, 5), (3, 0, 5),
])
def test_talent_media_is_last_agrees_with_the_plan(page: int, records: int, count: int) -> None:
    """The page's is_last and the plan's end are the same decision."""
    plan = PagePlan(100, 4, first_page=page)
    plan.next_pages(0)
    plan.on_page(page, records, count)
    assert talent_page(page, records, count).is_last is (not plan.needed(page + 1))


def test_full_page_with_zero_page_count_is_not_last() -> None:
    assert talent_page(1, 100, 0).is_last is False  # was True: the query ended after page 1


def test_plan_keeps_fetching_after_a_full_page_that_claims_the_end() -> None:
    plan = PagePlan(100, 4)
    assert plan.next_pages(0) == [1]
    plan.on_page(1, 100, page_count=1)
    assert plan.needed(2) and not plan.finished
    assert plan.next_pages(0)[:1] == [2]


def test_short_page_before_the_page_count_does_not_end_the_query() -> None:
    plan = PagePlan(10, 8)
    plan.next_pages(0)
    plan.on_page(1, 10, page_count=4)
    assert plan.next_pages(0) == [2, 3, 4]
    plan.on_page(2, 7, page_count=4)  # a short page inside the count: more follow
    assert plan.needed(3) and plan.needed(4) and not plan.needed(5)
    plan.on_page(4, 3, page_count=4)
    assert plan.last_page == 4


def test_a_page_at_the_announced_end_claiming_more_reopens_the_query() -> None:
    plan = PagePlan(10, 8)
    plan.next_pages(0)
    plan.on_page(1, 10, page_count=3)
    assert plan.next_pages(0) == [2, 3]
    plan.on_page(3, 4, page_count=5)  # short, but now the count says 5
    assert plan.needed(4) and plan.needed(5) and plan.next_pages(0) == [4, 5]


def test_plan_falls_back_to_short_pages_when_the_announced_end_is_full() -> None:
    plan = PagePlan(10, 8)
    plan.next_pages(0)
    plan.on_page(1, 10, page_count=3)
    assert plan.next_pages(0) == [2, 3] and plan.last_page == 3
    plan.on_page(3, 10, page_count=3)  # the announced last page is full: more may follow
    assert plan.last_page is None and plan.next_pages(1) != []
    sent, _ = drain(PagePlan(10, 8), 3, records=47, size=10)  # page_count says 3, data has 5
    assert set(range(1, 6)) <= set(sent)


async def test_stream_with_a_page_count_too_small_yields_every_record() -> None:
    log: list[int] = []

    async def fetch(page: int, needed: Callable[[], bool]) -> FakePage | None:
        await asyncio.sleep(0)
        if not needed():
            return None
        log.append(page)
        recs = list(range((page - 1) * 10, min(47, page * 10)))
        return FakePage(page, recs, 2)  # the server claims 2 pages; there are 5

    out = [r async for p in stream_pages(fetch, PagePlan(10, 4),
                                          page_count_of=lambda p: p.page_count)
           for r in p.records]
    assert out == list(range(47))


# -- stream_pages: pages past the end --------------------------------------------------------


class Gated:
    """A fetch whose pages answer when the test opens their gate."""

    def __init__(self, size: int, pages: dict[int, int | Exception], page_count: int,
                 counts: dict[int, int] | None = None) -> None:
        self.size, self.pages, self.page_count = size, pages, page_count
        self.counts = counts or {}
        self.gates: dict[int, asyncio.Event] = {}
        self.sent: list[int] = []
        self.cancelled: list[int] = []

    def gate(self, page: int) -> asyncio.Event:
        return self.gates.setdefault(page, asyncio.Event())

    async def __call__(self, page: int, needed: Callable[[], bool]) -> FakePage | None:
        if not needed():
            return None
        self.sent.append(page)
        try:
            await self.gate(page).wait()
        except asyncio.CancelledError:
            self.cancelled.append(page)
            raise
        answer = self.pages[page]
        if isinstance(answer, Exception):
            raise answer
        start = (page - 1) * self.size
        return FakePage(page, list(range(start, start + answer)),
                        self.counts.get(page, self.page_count))


async def turns(n: int = 20) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_error_of_a_page_past_the_end_is_ignored_and_counted_as_wasted() -> None:
    # page 1 counts 5 pages; page 3 is short and counts 3: the data shrank meanwhile
    fetch = Gated(10, {1: 10, 2: 10, 3: 5, 4: ValueError("page 4 refused"), 5: 10}, 5, {3: 3})
    wasted: list[int] = []
    stream = stream_pages(fetch, PagePlan(10, 8), page_count_of=lambda p: p.page_count,
                          on_wasted=wasted.append)
    async with aclosing(stream) as pages:
        fetch.gate(1).set()
        assert (await pages.__anext__()).page == 1
        second = asyncio.ensure_future(pages.__anext__())
        await turns()
        assert sorted(fetch.sent) == [1, 2, 3, 4, 5]
        fetch.gate(4).set()  # page 4 fails while pages 2 and 3 are unanswered
        await turns()
        fetch.gate(3).set()  # page 3 is short: page 4 lies past the end
        await turns()
        assert not second.done()
        fetch.gate(2).set()
        assert (await second).page == 2
        rest = [p.page async for p in pages]
    assert rest == [3]
    assert wasted == [2]  # pages 4 and 5 were sent


async def test_fetches_past_a_known_end_are_cancelled_at_once() -> None:
    fetch = Gated(10, {1: 10, 2: 10, 3: 5, 4: 10, 5: 10}, 5, {3: 3})
    async with aclosing(stream_pages(fetch, PagePlan(10, 8),
                                     page_count_of=lambda p: p.page_count)) as pages:
        fetch.gate(1).set()
        await pages.__anext__()
        second = asyncio.ensure_future(pages.__anext__())
        await turns()
        fetch.gate(3).set()  # the end is known (page 3 is short) while page 2 is in flight
        await turns()
        assert sorted(fetch.cancelled) == [4, 5]
        fetch.gate(2).set()
        assert (await second).page == 2
        assert [p.page async for p in pages] == [3]


async def test_error_of_a_needed_page_is_raised_once_it_is_known_needed() -> None:
    fetch = Gated(10, {1: 10, 2: 10, 3: ValueError("page 3 refused"), 4: 10}, 4)
    async with aclosing(stream_pages(fetch, PagePlan(10, 8),
                                     page_count_of=lambda p: p.page_count)) as pages:
        fetch.gate(1).set()
        await pages.__anext__()
        second = asyncio.ensure_future(pages.__anext__())
        fetch.gate(3).set()
        await turns()
        fetch.gate(2).set()
        assert (await second).page == 2
        with pytest.raises(ValueError, match="page 3"):
            await pages.__anext__()
    assert sorted(fetch.cancelled) == [4]

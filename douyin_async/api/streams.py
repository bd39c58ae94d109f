"""Streams of pages: one query's pages in page order, and many queries at once (a pull).

A query is first cut into unit queries (task-video windows of at most 30 days). Each unit's
pages come from [`stream_pages`][douyin_async.api.pagination.stream_pages], fetched ahead as far as
its endpoint allows: a talent-media answer says how many pages there are, so all may be asked
at once; a task-video answer does not, so a stream asks as many pages ahead as fill the pipe
at the rate limit (rate x latency) and counts the ones past the end as wasted. A pull runs
several units at once and interleaves their pages
([`merge`][douyin_async.api.pagination.merge]); its memory is bounded by the pages in flight.

A stream is admitted for all the pages it will need, or refused at once before it sends its
first ([`StreamAdmission`][douyin_async.api.streams.StreamAdmission]): a view that cannot have
its last page in time should not spend the cap on, and decode, the ones before it.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from contextlib import aclosing
from typing import Any, Protocol

import attrs

from ..errors import QueueTimeoutError
from ..models import Page, Query, TaskVideoQuery
from ..webapp.admission import INTERACTIVE, CallOptions
from .endpoints import endpoint_for
from .executor import Executor
from .pagination import PagePlan, merge, stream_pages


class PageFetch(Protocol):
    """Fetches one page of a unit query (None when the page is no longer needed)."""

    def __call__(self, query: Query, page: int, needed: Callable[[], bool] | None,
                 options: CallOptions, cached: bool) -> Awaitable[Page | None]: ...


def unit_queries(queries: Iterable[Query], now: float) -> list[Query]:
    """The API-sized queries of `queries`: task-video queries cut into windows of at most 30
    days, each checked for its age at `now` (unix seconds)."""
    units: list[Query] = []
    for query in queries:
        endpoint_for(query)
        if isinstance(query, TaskVideoQuery):
            query.check_age(now)
            units.extend(query.windows())
        else:
            units.append(query)
    return units


class PageCounts:
    """How many pages each query had when last streamed (the last ``size`` queries): what a
    stream of the same query will need again."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._counts: OrderedDict[Query, int] = OrderedDict()

    def get(self, query: Query) -> int | None:
        """The pages ``query`` had last time, or None."""
        return self._counts.get(query)

    def learn(self, query: Query, page: Any) -> None:
        """Learn from an answered page: its ``page_count``, or its being the last."""
        count = _page_count(page)
        if count is None and getattr(page, "is_last", False):
            count = page.page
        if isinstance(count, int) and count >= 1:
            self._counts[query] = count
            self._counts.move_to_end(query)
            while len(self._counts) > self.size:
                self._counts.popitem(last=False)


@attrs.define
class StreamAdmission:
    """Admits the pages of one unit stream by groups: the first launch for every page the
    stream is ``expected`` to need (its count from last time, or a bound when unknown), each
    later launch for the pages beyond those already admitted. A refused group raises
    [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError] before any of its pages
    is sent."""

    admit: Callable[[int], None]
    first_page: int
    expected: int
    admitted: int = 0

    def __call__(self, pages: list[int]) -> None:
        last = max(pages)
        upto = self.first_page - 1 + self.admitted
        if last <= upto:
            return
        want = last - upto
        if not self.admitted:
            want = max(want, self.expected)
        self.admit(want)
        self.admitted += want


@attrs.define
class PageStreams:
    """The page streams of one client: `fetch` gets a page, `executor` tells the rate and
    latency that size the fetch-ahead, and wasted pages are counted in its stats."""

    fetch: PageFetch
    executor: Executor
    max_concurrency: int
    counts: PageCounts = attrs.field(factory=PageCounts)

    def depth(self, query: Query) -> int:
        """Pages worth asking ahead: the page count is known, or enough to fill the pipe."""
        endpoint = endpoint_for(query)
        if endpoint.counts_pages:
            return self.max_concurrency
        rate = getattr(self.executor.limiter(endpoint.path), "rate", 10.0)
        return min(self.max_concurrency,
                   max(2, math.ceil(rate * self.executor.latency) + 1))

    def unit_pages(self, query: Query, first_page: int,
                   options: CallOptions) -> AsyncGenerator[Page, None]:
        """Pages of one unit query, in page order, from `first_page` on. Interactive streams
        use the page cache; a background pull never fills it."""
        depth = self.depth(query)
        plan = PagePlan(query.page_size, depth, first_page)
        cached = options.priority == INTERACTIVE

        async def fetch(page: int, needed: Callable[[], bool]) -> Page | None:
            answer = await self.fetch(query, page, needed, options, cached)
            if answer is not None:
                self.counts.learn(query, answer)
            return answer

        return stream_pages(fetch, plan, page_count_of=_page_count, on_wasted=self._wasted,
                            admit=self.admission(query, first_page, options, depth),
                            fatal=_refused)

    def admission(self, query: Query, first_page: int, options: CallOptions,
                  depth: int) -> StreamAdmission:
        """The group admission of a unit stream: expected to need as many pages as last
        time; unknown, a talent-media stream first needs page 1 (which tells the count) and
        a task-video stream its first fetch-ahead window (``depth`` pages)."""
        endpoint = endpoint_for(query)
        known = self.counts.get(query)
        if known is not None:
            expected = max(1, known - first_page + 1)
        else:
            expected = 1 if endpoint.counts_pages else depth
        limiter = self.executor.limiter(endpoint.path)

        def admit(pages: int) -> None:
            self.executor.admissions.admit(limiter, options, pages, endpoint=endpoint.path,
                                           service=self.executor.latency)

        return StreamAdmission(admit, first_page, expected)

    def _wasted(self, count: int) -> None:
        self.executor.stats.wasted_requests += count

    async def ordered(self, units: list[Query],
                      options: CallOptions) -> AsyncGenerator[Any, None]:
        """The pages of `units`, one unit after the other, each in page order."""
        for unit in units:
            async with aclosing(self.unit_pages(unit, 1, options)) as pages:
                async for page in pages:
                    yield page
                    del page  # held by the consumer alone while the next one comes

    async def pull(self, units: list[tuple[Query, int]], active: int,
                   options: CallOptions) -> AsyncGenerator[Page, None]:
        """The pages of `(unit, first page)` pairs, `active` units at once, interleaved."""
        todo = iter(units)

        async def worker(put: Callable[[Page], Awaitable[None]]) -> None:
            for unit, first_page in todo:
                async with aclosing(self.unit_pages(unit, first_page, options)) as pages:
                    async for page in pages:
                        await put(page)
                        del page

        async with aclosing(merge([worker] * min(active, len(units)), buffer=active)) as pages:
            async for page in pages:
                yield page
                del page


def _refused(error: BaseException) -> bool:
    """A page refused by admission dooms its stream: the caller cannot have it in time."""
    return isinstance(error, QueueTimeoutError)


def _page_count(page: Any) -> int | None:
    return getattr(page, "page_count", None)


async def records_of(pages: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    """The records of a page stream, one by one (the stream is closed with the generator)."""
    async with aclosing(pages) as stream:
        async for page in stream:
            for record in page.records:
                yield record
            del page


__all__ = ["PageCounts", "PageFetch", "PageStreams", "StreamAdmission", "records_of",
           "unit_queries"]

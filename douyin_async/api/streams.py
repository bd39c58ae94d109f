"""Streams of pages: one query's pages in page order, and many queries at once (a pull).

A query is first cut into unit queries (task-video windows of at most 30 days). Each unit's
pages come from [`stream_pages`][douyin_async.api.pagination.stream_pages], fetched ahead as far as
its endpoint allows: a talent-media answer says how many pages there are, so all may be asked
at once; a task-video answer does not, so a stream asks as many pages ahead as fill the pipe
at the rate limit (rate x latency) and counts the ones past the end as wasted. A pull runs
several units at once and interleaves their pages
([`merge`][douyin_async.api.pagination.merge]); its memory is bounded by the pages in flight.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from contextlib import aclosing
from typing import Any, Protocol

import attrs

from ..models import Page, Query, TaskVideoQuery
from ..webapp.admission import INTERACTIVE, CallOptions
from .endpoints import endpoint_for
from .executor import Executor
from .pagination import PagePlan, merge, stream_pages


class PageFetch(Protocol):
    """Fetches one page of a unit query (None when the page is no longer needed)."""

    def __call__(self, query: Query, page: int, needed: Callable[[], bool] | None,
                 options: CallOptions, cached: bool) -> Awaitable[Page | None]: ...


def unit_queries(queries: Iterable[Query], now: float | None = None) -> list[Query]:
    """The API-sized queries of `queries`: task-video queries cut into windows of at most 30
    days, each checked for its age at `now` (unix seconds; None checks no age, as a resumed
    pull that checks only the units it has left)."""
    units: list[Query] = []
    for query in queries:
        endpoint_for(query)
        if isinstance(query, TaskVideoQuery):
            if now is not None:
                query.check_age(now)
            units.extend(query.windows())
        else:
            units.append(query)
    return units


@attrs.define
class PageStreams:
    """The page streams of one client: `fetch` gets a page, `executor` tells the rate and
    latency that size the fetch-ahead, and wasted pages are counted in its stats."""

    fetch: PageFetch
    executor: Executor
    max_concurrency: int

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
        plan = PagePlan(query.page_size, self.depth(query), first_page)
        cached = options.priority == INTERACTIVE

        async def fetch(page: int, needed: Callable[[], bool]) -> Page | None:
            return await self.fetch(query, page, needed, options, cached)

        return stream_pages(fetch, plan, page_count_of=_page_count, on_wasted=self._wasted)

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


def _page_count(page: Any) -> int | None:
    return getattr(page, "page_count", None)


async def records_of(pages: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    """The records of a page stream, one by one (the stream is closed with the generator)."""
    async with aclosing(pages) as stream:
        async for page in stream:
            for record in page.records:
                yield record
            del page


__all__ = ["PageFetch", "PageStreams", "records_of", "unit_queries"]

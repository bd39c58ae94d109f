"""Streams of pages: one query's pages in page order, and many queries at once (a pull).

Each unit query's pages come from
[`stream_pages`][douyin_async.api.pagination.stream_pages], asked ahead as far as the endpoint
allows: all at once when page 1 tells the page count, else as many as fill the pipe at the
rate limit (rate x latency). A pull interleaves several units
([`merge`][douyin_async.api.pagination.merge]); memory is bounded by the pages in flight.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from contextlib import aclosing
from typing import Any

import attrs

from ..models import Page, Query
from ..webapp.admission import DEFAULT_CALL, INTERACTIVE, CallOptions
from .endpoints import endpoint_for
from .executor import Executor
from .pagecheck import PageCheck, checked_pages
from .pagination import PagePlan, merge, stream_pages


def unit_queries(queries: Iterable[Query], now: float | None = None) -> list[Query]:
    """The API-sized queries of `queries` (see the endpoint row's `windows`), each checked
    for its age at `now` (unix seconds; None checks no age, as a resumed pull that checks
    only the units it has left)."""
    units: list[Query] = []
    for query in queries:
        endpoint = endpoint_for(query)
        if now is not None:
            endpoint.check_age(query, now)
        units.extend(endpoint.windows(query))
    return units


@attrs.define
class PageStreams:
    """The page streams of one client: pages come from `executor`, whose limiters and
    latency size the fetch-ahead and whose stats count pages, records and wasted requests."""

    executor: Executor
    max_concurrency: int

    async def page(self, query: Query, page: int, needed: Callable[[], bool] | None = None,
                   options: CallOptions = DEFAULT_CALL, cached: bool = False) -> Page | None:
        """One page of a unit query (None when `needed` said it no longer was)."""
        endpoint = endpoint_for(query)
        decoded = await self.executor.call(endpoint, query.body(page), needed=needed,
                                           page=page, options=options, cached=cached)
        if decoded is None:
            return None
        stats = self.executor.stats
        stats.pages += 1
        stats.records += len(decoded.records)
        result: Page = endpoint.page(query, page, decoded)
        return result

    def depth(self, query: Query) -> int:
        """Pages worth asking ahead: the page count is known, or enough to fill the pipe."""
        endpoint = endpoint_for(query)
        if endpoint.counts_pages:
            return self.max_concurrency
        rate = self.executor.limiter(endpoint.path).rate
        return min(self.max_concurrency,
                   max(2, math.ceil(rate * self.executor.latency) + 1))

    def unit_pages(self, query: Query, first_page: int,
                   options: CallOptions) -> AsyncGenerator[Page, None]:
        """Pages of one unit query, in page order, from `first_page` on, each checked (see
        [`PageCheck`][douyin_async.api.pagecheck.PageCheck]): pages past the announced total
        or the endpoint's most are never asked for. Interactive streams use the page cache;
        a background pull never fills it."""
        endpoint = endpoint_for(query)
        check = PageCheck(page_size=query.page_size, max_records=endpoint.max_records,
                          endpoint=endpoint.path, first_page=first_page)
        plan = PagePlan(query.page_size, self.depth(query), first_page, check.max_pages)
        cached = options.priority == INTERACTIVE

        async def fetch(page: int, needed: Callable[[], bool]) -> Page | None:
            return await self.page(query, page, needed, options, cached)

        return checked_pages(stream_pages(fetch, plan, page_count_of=endpoint.page_count,
                                          on_wasted=self._wasted, raw_count_of=_raw_count,
                                          total_of=endpoint.total), check)

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


def _raw_count(page: Page) -> int:
    """Records the server sent, refused ones included."""
    return page.raw_count


async def records_of(pages: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    """The records of a page stream, one by one (the stream is closed with the generator)."""
    async with aclosing(pages) as stream:
        async for page in stream:
            for record in page.records:
                yield record
            del page


__all__ = ["PageStreams", "records_of", "unit_queries"]

"""Streams of pages: one query's pages in page order, and many queries at once (a pull).

Each unit query's pages come from
[`stream_pages`][douyin_async.api.pagination.stream_pages], asked ahead as far as the endpoint
allows: all at once when page 1 tells the page count, else as many as fill the pipe at the
rate limit (rate x latency). A pull interleaves several units
([`merge`][douyin_async.api.merge.merge]), which together hold no more pages than one of
them would ask ahead ([`PagesAhead`][douyin_async.api.pagination.PagesAhead]): with a
consumer or a decoder slower than the cap, pages do not pile up as bytes per active unit.

A stream is admitted for all the pages it will need, or refused at once before it sends its
first ([`StreamAdmission`][douyin_async.api.streams.StreamAdmission]): a view that cannot have
its last page in time should not spend the cap on, and decode, the ones before it. Identical
interactive streams in flight share their pages
([`shared_page`][douyin_async.api.streams.PageStreams.shared_page]).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from contextlib import aclosing
from typing import Any

import attrs
import orjson

from ..errors import QueueTimeoutError
from ..models import Page, Query
from ..webapp.admission import DEFAULT_CALL, INTERACTIVE, CallOptions
from ..webapp.single_flight import SingleFlight, shared
from .endpoints import endpoint_for
from .executor import Executor
from .merge import merge
from .pagecheck import PageCheck, checked_pages
from .pagination import PagePlan, PagesAhead, stream_pages, turn_of


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


class PageCounts:
    """How many pages each query had when last streamed (the last ``size`` queries): what a
    stream of the same query will need again."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._counts: OrderedDict[Query, int] = OrderedDict()

    def get(self, query: Query) -> int | None:
        """The pages ``query`` had last time, or None."""
        return self._counts.get(query)

    def learn(self, query: Query, count: int | None) -> None:
        """Learn a query's page count (None: not known yet)."""
        if count is not None and count >= 1:
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
    """The page streams of one client: pages come from `executor`, whose limiters and
    latency size the fetch-ahead and whose stats count pages, records and wasted requests."""

    executor: Executor
    max_concurrency: int
    counts: PageCounts = attrs.field(factory=PageCounts)
    #: Identical requests in flight share one call (None: each its own).
    flights: SingleFlight[Any] | None = None

    async def page(self, query: Query, page: int, needed: Callable[[], bool] | None = None,
                   options: CallOptions = DEFAULT_CALL, cached: bool = False,
                   payload: bytes | None = None) -> Page | None:
        """One page of a unit query (None when `needed` said it no longer was); `payload`:
        its request body, if already made."""
        endpoint = endpoint_for(query)
        if payload is None:
            payload = orjson.dumps(query.body(page))
        decoded = await self.executor.call(endpoint, payload, needed=needed,
                                           page=page, options=options, cached=cached,
                                           turn=turn_of(needed))
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

    def unit_pages(self, query: Query, first_page: int, options: CallOptions,
                   ahead: PagesAhead | None = None) -> AsyncGenerator[Page, None]:
        """Pages of one unit query, in page order, from `first_page` on, each checked (see
        [`PageCheck`][douyin_async.api.pagecheck.PageCheck]): pages past the announced total
        or the endpoint's most are never asked for. Interactive streams use the page cache
        and share pages with identical streams in flight; a background pull does neither.
        ``ahead``: the bound on pages held that the streams of one pull share."""
        endpoint = endpoint_for(query)
        check = PageCheck(page_size=query.page_size, max_records=endpoint.max_records,
                          endpoint=endpoint.path, first_page=first_page,
                          total_of=endpoint.total, page_count_of=endpoint.page_count,
                          raw_count_of=_raw_count)
        depth = self.depth(query)
        plan = PagePlan(query.page_size, depth, first_page, check.max_pages)
        cached = options.priority == INTERACTIVE

        async def fetch(page: int, needed: Callable[[], bool]) -> Page | None:
            answer = await self.shared_page(query, page, needed, options, cached)
            if answer is not None:
                count = endpoint.page_count(answer)
                self.counts.learn(query, answer.page if count is None and answer.is_last
                                  else count)
            return answer

        return checked_pages(stream_pages(fetch, plan, page_count_of=endpoint.page_count,
                                          on_wasted=self._wasted, raw_count_of=_raw_count,
                                          total_of=endpoint.total,
                                          admit=self.admission(query, first_page, options,
                                                               depth),
                                          fatal=_refused, ahead=ahead), check)

    async def shared_page(self, query: Query, page: int,
                          needed: Callable[[], bool] | None = None,
                          options: CallOptions = DEFAULT_CALL,
                          cached: bool = False) -> Page | None:
        """A page shared with identical requests in flight (views and interactive streams;
        a pull's pages are its own). A page another caller's stream skipped as past its end
        is fetched again if this caller still needs it."""
        payload = orjson.dumps(query.body(page))

        def start() -> Awaitable[Page | None]:
            return self.page(query, page, needed, options, cached, payload)

        if not cached:
            return await start()
        result: Page | None = await shared(self.flights, endpoint_for(query).path,
                                           payload, start, self.executor.stats)
        if result is None and (needed is None or needed()):
            result = await start()
        return result

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
        """The pages of `(unit, first page)` pairs, `active` units at once, interleaved; the
        units hold together as many pages as one of them would ask ahead (see
        [`PagesAhead`][douyin_async.api.pagination.PagesAhead])."""
        todo = iter(units)
        kinds = list({endpoint_for(unit).path: unit for unit, _ in units}.values())
        ahead = PagesAhead(lambda: max(map(self.depth, kinds), default=1))

        async def worker(put: Callable[[Page], Awaitable[None]]) -> None:
            for unit, first_page in todo:
                async with aclosing(self.unit_pages(unit, first_page, options,
                                                    ahead)) as pages:
                    async for page in pages:
                        await put(page)
                        del page

        async with aclosing(merge([worker] * min(active, len(units)), buffer=active)) as pages:
            async for page in pages:
                ahead.taken()
                yield page
                del page


def _raw_count(page: Page) -> int:
    """Records the server sent, refused ones included."""
    return page.raw_count


def _refused(error: BaseException) -> bool:
    """A page refused by admission dooms its stream: the caller cannot have it in time."""
    return isinstance(error, QueueTimeoutError)


async def records_of(pages: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    """The records of a page stream, one by one (the stream is closed with the generator)."""
    async with aclosing(pages) as stream:
        async for page in stream:
            for record in page.records:
                yield record
            del page


__all__ = ["PageCounts", "PageStreams", "StreamAdmission", "records_of", "unit_queries"]

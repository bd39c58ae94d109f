"""DouyinClient: lifecycle and the public methods. Protocol rules live in the modules it wires:
the endpoint table, the executor, the page decoder, the page streams and the transport; the
bill-file methods are inherited from `douyin_async.bills.calls`."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from itertools import islice
from types import TracebackType
from typing import Any, Self

import aiohttp

from .api.decoding import InvalidRecords, PageDecoder
from .api.endpoints import (
    TALENT_MEDIA_ENDPOINT,
    TASK_VIDEO_ENDPOINT,
    endpoint_for,
)
from .api.executor import Executor, build_limiters
from .api.streams import PageStreams, records_of, unit_queries
from .auth import StaticToken, TokenProvider
from .bills.calls import BillCalls
from .bills.hosts import PublicResolver, allowed_hosts
from .errors import InvalidParameterError
from .http.limits import MAX_ANSWER_BYTES, MAX_BILL_FILE_BYTES
from .http.retry import RetryPolicy
from .http.transport import AiohttpTransport, Transport
from .models import (
    Page,
    Query,
    TalentMedia,
    TalentMediaQuery,
    TaskVideoQuery,
    VideoDailyData,
    positive_int,
)
from .pacing.limiter import RateLimiter
from .stats import ClientStats
from .webapp.admission import BACKGROUND, INTERACTIVE
from .webapp.admissions import Admissions
from .webapp.cache import PageCache, as_cache
from .webapp.lanes import LanePolicy, Priority
from .webapp.single_flight import SingleFlight

#: The production API. Pass it as `base_url` explicitly; the client has no default server.
DOUYIN_OPEN_API = "https://open.douyin.com"


class DouyinClient(BillCalls):
    """An asyncio client for the task-video and talent-media endpoints.

    Create one per app and share it between any number of concurrent callers; use it as an
    async context manager (or call [`close`][douyin_async.DouyinClient.close]). All requests
    of a client go through one paced limiter (or one per endpoint, when `rate_limit` is a
    mapping), so together they never exceed `rate_limit` requests in any rolling second.

    Args:
        access_token: a token string or a [`TokenProvider`][douyin_async.auth.TokenProvider].
        base_url: the server, e.g. `DOUYIN_OPEN_API` or a sandbox URL. Required.
        rate_limit: requests per second, or `{"task_video": 10, "talent_media": 5}`.
        max_concurrency: requests in flight at once (all callers together).
        timeout: seconds per request (connect, send and read the whole answer).
        max_retries: retries of a failed request (0 = none); see
            [`RetryPolicy`][douyin_async.http.retry.RetryPolicy].
        session: your own `aiohttp.ClientSession`; the client will not close it.
        limiter: your own limiter(s), e.g. a Redis-backed one; overrides `rate_limit`.
        clock: unix-time source for the 90-day check (tests inject one).
        decode_chunk: records built per event-loop step (a web app's handlers run between
            steps).
        invalid_records: `"raise"` (default) raises the first refused record as an
            [`InvalidRecordError`][douyin_async.errors.InvalidRecordError]; `"collect"` keeps
            the good records of a page and lists the refused ones in `page.rejected`.
        transport: any [`Transport`][douyin_async.http.transport.Transport] instead of aiohttp
            (a [`FakeTransport`][douyin_async.http.fake.FakeTransport] in tests).
        ssl: passed to aiohttp (an `ssl.SSLContext` for a private CA). Verification is on.
        cache: pages for `fetch_page` and the streams (not `pull()`): a TTL in seconds, or a
            [`PageCache`][douyin_async.webapp.cache.PageCache]. Off by default.
        single_flight: identical `fetch_page` calls in flight share one request (on).
        max_queue_wait: seconds a call may wait for a slot before it raises
            [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError] (None: no limit).
        lanes: the [`LanePolicy`][douyin_async.webapp.lanes.LanePolicy] of views and pulls.
        max_answer_bytes: the most bytes of an API answer read, and the most once
            decompressed ([`AnswerTooLargeError`][douyin_async.errors.AnswerTooLargeError]
            past it). 64 MiB by default.
        bill_hosts_allowed: hosts that may serve bill files from any address, port or scheme
            (a sandbox on 127.0.0.1, a private mirror). Other bill links must be https to a
            public host; see [`check_link`][douyin_async.bills.hosts.check_link].
    """

    def __init__(
        self,
        access_token: str | TokenProvider,
        *,
        base_url: str,
        rate_limit: float | Mapping[str, float] = 10.0,
        max_concurrency: int = 10,
        timeout: float = 30.0,
        max_retries: int = 5,
        session: aiohttp.ClientSession | None = None,
        limiter: RateLimiter | Mapping[str, RateLimiter] | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        decode_chunk: int = 250,
        invalid_records: InvalidRecords = "raise",
        transport: Transport | None = None,
        ssl: Any = True,
        cache: PageCache | float | None = None,
        single_flight: bool = True,
        max_queue_wait: float | None = None,
        lanes: LanePolicy | None = None,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        bill_hosts_allowed: Iterable[str] = (),
    ) -> None:
        if isinstance(access_token, str):
            access_token = StaticToken(access_token)
        if not isinstance(access_token, TokenProvider):
            raise InvalidParameterError("access_token must be a string or a TokenProvider "
                                        "(renewable, get(), current(), invalidate())")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise InvalidParameterError(f"base_url must be an http(s) URL, got {base_url!r}")
        positive_int("max_concurrency", max_concurrency)
        positive_int("max_retries", max_retries, 0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise InvalidParameterError("timeout must be a positive number of seconds")
        self.base_url = base_url.rstrip("/")
        self.tokens: TokenProvider = access_token
        self.max_concurrency = max_concurrency
        self.timeout = float(timeout)
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.stats = ClientStats()
        self._clock = clock
        self.transport: Transport = transport or AiohttpTransport(
            session, limit=max_concurrency * 2, ssl=ssl,
            max_answer_bytes=positive_int("max_answer_bytes", max_answer_bytes))
        self.bill_hosts_allowed = allowed_hosts(bill_hosts_allowed)
        self.file_transport: Transport = transport or AiohttpTransport(
            limit=4, ssl=ssl, max_answer_bytes=MAX_BILL_FILE_BYTES,
            resolver=PublicResolver(self.bill_hosts_allowed))
        self._executor = Executor(
            base_url=self.base_url, transport=self.transport, tokens=access_token,
            limiters=build_limiters(rate_limit, limiter), retry_policy=self.retry_policy,
            stats=self.stats, timeout=self.timeout, max_concurrency=max_concurrency,
            decoder=PageDecoder(chunk=decode_chunk, invalid_records=invalid_records),
            admissions=Admissions(self.stats, policy=lanes, max_queue_wait=max_queue_wait,
                                  depth=max_concurrency),
            cache=as_cache(cache))
        self._flights: SingleFlight[Any] | None = SingleFlight() if single_flight else None
        self._streams = PageStreams(self._executor, max_concurrency, flights=self._flights)

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the client: calls in flight and later calls raise
        [`ClientClosedError`][douyin_async.errors.ClientClosedError] (a session passed in is
        left open)."""
        self._executor.closed = True
        await self.transport.aclose()
        if self.file_transport is not self.transport:
            await self.file_transport.aclose()

    @property
    def closed(self) -> bool:
        """True once [`close`][douyin_async.DouyinClient.close] was called."""
        return self._executor.closed

    def __repr__(self) -> str:
        return (f"DouyinClient(base_url={self.base_url!r}, "
                f"max_concurrency={self.max_concurrency}, timeout={self.timeout})")

    # -- pages ----------------------------------------------------------------------------

    async def fetch_page(self, query: Query, page: int = 1, *, deadline: float | None = None,
                         priority: Priority = INTERACTIVE) -> Page:
        """Fetch one page of a query (a task-video query must span at most 30 days);
        `deadline` in seconds, else [`QueueTimeoutError`][douyin_async.QueueTimeoutError] now."""
        positive_int("page", page)
        options = self._executor.admissions.options(deadline, priority)
        endpoint = endpoint_for(query)
        if next(islice(endpoint.windows(query), 1, None), None) is not None:
            raise InvalidParameterError("fetch_page needs a window of at most 30 days; "
                                        "use task_video_pages() or pull() for longer ones")
        endpoint.check_age(query, self._clock())
        result = await self._streams.shared_page(query, page, None, options, True)
        assert result is not None
        return result

    # -- streams --------------------------------------------------------------------------

    def units(self, queries: Iterable[Query]) -> list[Query]:
        """The API-sized queries [`pull`][douyin_async.DouyinClient.pull] runs: task-video
        queries cut into windows of at most 30 days (`page.query` is always one of these).
        Checks every query, ages included."""
        return unit_queries(queries, self._clock())

    def task_video_pages(self, query: TaskVideoQuery, *, deadline: float | None = None,
                         priority: Priority = INTERACTIVE) -> AsyncGenerator[Any, None]:
        """Pages of a task-video query in order (windows over 30 days are split);
        `deadline`: seconds the whole stream may take (see `fetch_page`)."""
        return self._query_pages(query, deadline, priority)

    def talent_media_pages(self, query: TalentMediaQuery, *, deadline: float | None = None,
                           priority: Priority = INTERACTIVE) -> AsyncGenerator[Any, None]:
        """Pages of a talent-media query in order, pages after the first fetched at once."""
        return self._query_pages(query, deadline, priority)

    def _query_pages(self, query: Query, deadline: float | None,
                     priority: Priority) -> AsyncGenerator[Any, None]:
        options = self._executor.admissions.options(deadline, priority)
        return self._streams.ordered(self.units([query]), options)

    def task_video_daily_data(
        self, billing_date: Any, video_publish_start_time: Any, video_publish_end_time: Any,
        *, douyin_id: str | None = None, agency_client_key: str | None = None,
        page_size: int = 10_000, deadline: float | None = None,
    ) -> AsyncGenerator[VideoDailyData, None]:
        """Stream task-video records of one billing date and publish window, in page order.

        Arguments are checked now (an `InvalidParameterError` before any request).
        """
        query = TaskVideoQuery(
            billing_date=billing_date, video_publish_start_time=video_publish_start_time,
            video_publish_end_time=video_publish_end_time, douyin_id=douyin_id,
            agency_client_key=agency_client_key, page_size=page_size)
        return records_of(self.task_video_pages(query, deadline=deadline))

    def talent_media(
        self, plan_id: int, douyin_id: str, content_type: int = 3, *, page_size: int = 100,
        deadline: float | None = None,
    ) -> AsyncGenerator[TalentMedia, None]:
        """Stream a talent's videos / live rooms under a commission plan, in page order."""
        query = TalentMediaQuery(plan_id=plan_id, douyin_id=douyin_id,
                                 content_type=content_type, page_size=page_size)
        return records_of(self.talent_media_pages(query, deadline=deadline))

    def pull(
        self, queries: Iterable[Query], *, max_active_queries: int | None = None,
        start_pages: Mapping[Query, int] | None = None, priority: Priority = BACKGROUND,
    ) -> AsyncGenerator[Page, None]:
        """Fetch many queries of both endpoints at once; yield pages as they are ready.

        Pages of one query come in page order; pages of different queries interleave.
        All queries are checked before the first request. Memory is bounded by the pages in
        flight: at most `max_active_queries` queries (default `max_concurrency`) run at
        once. The first error stops the pull and is raised.

        `start_pages` maps a unit query (see [`units`][douyin_async.DouyinClient.units]) to
        the page to start from, to resume an interrupted pull; units mapped to 0 or less are
        skipped as complete.
        A pull runs in the `"background"` lane: views go first; it keeps its share of slots.
        """
        options = self._executor.admissions.options(None, priority)
        units = self.units(queries)
        active = max_active_queries or self.max_concurrency
        positive_int("max_active_queries", active)
        starts = dict(start_pages or {})
        plan = [(unit, starts.get(unit, 1)) for unit in units]
        return self._streams.pull([(u, s) for u, s in plan if s >= 1], active, options)


__all__ = ["DOUYIN_OPEN_API", "TALENT_MEDIA_ENDPOINT", "TASK_VIDEO_ENDPOINT", "DouyinClient"]

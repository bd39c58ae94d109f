"""DouyinClient: lifecycle and wiring. Protocol rules live in the pure modules it calls."""

from __future__ import annotations

import asyncio
import gc
import math
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import aclosing
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
import orjson

from . import envelopes
from .admission import (
    BACKGROUND,
    DEFAULT_CALL,
    INTERACTIVE,
    Admissions,
    CallOptions,
    LanePolicy,
    Priority,
)
from .auth import StaticToken, TokenProvider
from .cache import PageCache, as_cache, cache_key
from .converters import RecordDecoder, talent_media_decoder, video_decoder
from .errors import (
    TOKEN_EXPIRED_CODES,
    ApiError,
    DouyinError,
    InvalidParameterError,
    RateLimitedError,
    ResponseDecodeError,
    TransportError,
)
from .flights import SingleFlight, flight_key
from .models import (
    Page,
    Query,
    TalentMedia,
    TalentMediaPage,
    TalentMediaQuery,
    TaskVideoPage,
    TaskVideoQuery,
    VideoDailyData,
)
from .pagination import PagePlan, merge, stream_pages
from .ratelimit import PacedLimiter, RateLimiter
from .retry import RetryPolicy
from .stats import ClientStats

TASK_VIDEO_ENDPOINT = "/api/match/v2/taskbox/query_task_video_daily_data/"
TALENT_MEDIA_ENDPOINT = "/poi/common/plan/talent/media/list/"
#: The production API. Pass it as ``base_url`` explicitly; the client has no default server.
DOUYIN_OPEN_API = "https://open.douyin.com"

_ENDPOINT_ALIASES = {
    "task_video": TASK_VIDEO_ENDPOINT,
    "talent_media": TALENT_MEDIA_ENDPOINT,
    TASK_VIDEO_ENDPOINT: TASK_VIDEO_ENDPOINT,
    TALENT_MEDIA_ENDPOINT: TALENT_MEDIA_ENDPOINT,
}

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A", envelopes.TaskVideoAnswer, envelopes.TalentMediaAnswer)


def _endpoint(name: str) -> str:
    try:
        return _ENDPOINT_ALIASES[name]
    except KeyError:
        raise InvalidParameterError(
            f"unknown endpoint {name!r}; use 'task_video', 'talent_media' or the API path"
        ) from None


class DouyinClient:
    """An asyncio client for the task-video and talent-media endpoints.

    Create one per app and share it between any number of concurrent callers; use it as an
    async context manager (or call :meth:`close`). All requests of a client go through one
    paced limiter (or one per endpoint, when ``rate_limit`` is a mapping), so together they
    never exceed ``rate_limit`` requests in any rolling second.

    Args:
        access_token: a token string or a :class:`~douyin_async.auth.TokenProvider`.
        base_url: the server, e.g. ``DOUYIN_OPEN_API`` or a sandbox URL. Required.
        rate_limit: requests per second, or ``{"task_video": 10, "talent_media": 5}``.
        max_concurrency: requests in flight at once (all callers together).
        timeout: seconds per request (connect, send and read the whole answer).
        max_retries: retries of a failed request (0 = none); see :mod:`douyin_async.retry`.
        session: your own ``aiohttp.ClientSession``; the client will not close it.
        limiter: your own limiter(s), e.g. a Redis-backed one; overrides ``rate_limit``.
        clock: unix-time source for the 90-day check (tests inject one).
        ssl: passed to aiohttp (an ``ssl.SSLContext`` for a private CA). Verification is on.
        cache: a page cache for ``fetch_page`` and the streams (not ``pull()``): a TTL in
            seconds for an in-process one, or a [`PageCache`][douyin_async.cache.PageCache]
            such as [`RedisPageCache`][douyin_async.cache.RedisPageCache]. Off by default.
        single_flight: identical ``fetch_page`` calls in flight share one request (on).
        max_queue_wait: seconds any call may wait for a request slot before it raises
            [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError] (None: no limit).
        lanes: how interactive and background calls share the slots
            ([`LanePolicy`][douyin_async.admission.LanePolicy]).
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
        decode_chunk: int = 1000,
        ssl: Any = True,
        cache: PageCache | float | None = None,
        single_flight: bool = True,
        max_queue_wait: float | None = None,
        lanes: LanePolicy | None = None,
    ) -> None:
        if isinstance(access_token, str):
            access_token = StaticToken(access_token)
        if not isinstance(access_token, TokenProvider):
            raise InvalidParameterError("access_token must be a string or a TokenProvider")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise InvalidParameterError(f"base_url must be an http(s) URL, got {base_url!r}")
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) \
                or max_concurrency < 1:
            raise InvalidParameterError("max_concurrency must be a positive integer")
        if not isinstance(timeout, int | float) or timeout <= 0:
            raise InvalidParameterError("timeout must be a positive number of seconds")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidParameterError("max_retries must be a non-negative integer")
        self.base_url = base_url.rstrip("/")
        self.tokens: TokenProvider = access_token
        self.max_concurrency = max_concurrency
        self.timeout = float(timeout)
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.stats = ClientStats()
        self._clock = clock
        self._decode_chunk = max(1, decode_chunk)
        self._ssl = ssl
        self._session = session
        self._own_session = session is None
        self._closed = False
        self._in_flight = asyncio.Semaphore(max_concurrency)
        # One page decodes at a time (binds to the running loop on first use).
        self._decoding = asyncio.Lock()
        self._latency = 0.5  # moving average of request latency, seconds
        self._limiters = self._build_limiters(rate_limit, limiter)
        self._admissions = Admissions(self.stats, policy=lanes, max_queue_wait=max_queue_wait)
        self._cache = as_cache(cache)
        self._flights: SingleFlight[Page | None] | None = \
            SingleFlight() if single_flight else None

    # -- lifecycle ------------------------------------------------------------------------

    @staticmethod
    def _build_limiters(
        rate_limit: float | Mapping[str, float],
        limiter: RateLimiter | Mapping[str, RateLimiter] | None,
    ) -> dict[str, RateLimiter]:
        if limiter is not None:
            if isinstance(limiter, Mapping):
                return {_endpoint(k): v for k, v in limiter.items()}
            return dict.fromkeys((TASK_VIDEO_ENDPOINT, TALENT_MEDIA_ENDPOINT), limiter)
        if isinstance(rate_limit, Mapping):
            limiters: dict[str, RateLimiter] = {
                _endpoint(k): PacedLimiter(v) for k, v in rate_limit.items()
            }
            missing = {TASK_VIDEO_ENDPOINT, TALENT_MEDIA_ENDPOINT} - limiters.keys()
            if missing:
                raise InvalidParameterError(f"rate_limit has no budget for {sorted(missing)}")
            return limiters
        if isinstance(rate_limit, bool) or not isinstance(rate_limit, int | float):
            raise InvalidParameterError(f"rate_limit must be a number, got {rate_limit!r}")
        shared = PacedLimiter(float(rate_limit))
        return dict.fromkeys((TASK_VIDEO_ENDPOINT, TALENT_MEDIA_ENDPOINT), shared)

    async def __aenter__(self) -> Self:
        self._get_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session the client opened (a session passed in is left open)."""
        self._closed = True
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this DouyinClient is closed")
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.max_concurrency * 2, ssl=self._ssl)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    def __repr__(self) -> str:
        return (
            f"DouyinClient(base_url={self.base_url!r}, max_concurrency={self.max_concurrency}, "
            f"timeout={self.timeout})"
        )

    # -- transport (bytes only) -----------------------------------------------------------

    async def _post(self, endpoint: str, body: bytes, token: str) -> tuple[int, bytes, str]:
        session = self._get_session()
        headers = {"access-token": token, "content-type": "application/json"}
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        started = time.monotonic()
        try:
            async with session.post(
                self.base_url + endpoint, data=body, headers=headers, timeout=timeout
            ) as response:
                data = await response.read()
                status = response.status
                header_log_id = response.headers.get("X-Tt-Logid", "")
        except TimeoutError:
            raise TransportError(f"no answer within {self.timeout:g} s",
                                 endpoint=endpoint) from None
        except aiohttp.ClientPayloadError as exc:
            raise ResponseDecodeError(f"answer cut short ({type(exc).__name__})",
                                      http_status=0, snippet="", endpoint=endpoint,
                                      retryable=True) from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", endpoint=endpoint) from None
        self._latency += 0.2 * (time.monotonic() - started - self._latency)
        return status, data, header_log_id

    # -- one request, with pacing and retries -----------------------------------------------

    async def _call(
        self,
        endpoint: str,
        body: Mapping[str, Any],
        decode: Callable[..., Awaitable[T]],
        needed: Callable[[], bool] | None = None,
        options: CallOptions = DEFAULT_CALL,
        cached: bool = False,
    ) -> T | None:
        payload = orjson.dumps(body)
        limiter = self._limiters[endpoint]
        key = cache_key(self._cache.app, self.base_url + endpoint, payload) \
            if cached and self._cache is not None else ""
        if key:
            hit = await self._cached(key, decode, endpoint)
            if hit is not None:
                return hit
        attempt = 0
        renewed = False
        while True:
            error: DouyinError | None = None
            await self._admissions.acquire(limiter, options, endpoint=endpoint,
                                           service=self._latency)
            async with self._in_flight:
                if needed is not None and not needed():
                    return None
                token = ""
                try:
                    # A failed token renewal is retried like a failed request.
                    token = await self.tokens.get()
                    self.stats.requests += 1
                    self.stats.in_flight += 1
                    try:
                        status, data, header_log_id = await self._post(endpoint, payload, token)
                    finally:
                        self.stats.in_flight -= 1
                except DouyinError as exc:
                    error = exc
            if error is None:
                # Decoded outside the in-flight slot: a page waiting for its turn to decode
                # does not hold back other requests.
                try:
                    result = await decode(data, http_status=status, endpoint=endpoint,
                                          header_log_id=header_log_id)
                except DouyinError as exc:
                    error = exc
                else:
                    limiter.on_success()
                    if key and self._cache is not None:
                        await self._cache.set(key, data)
                    return result
            if isinstance(error, RateLimitedError):
                self.stats.rate_limited += 1
                limiter.on_rate_limited()
            if (isinstance(error, ApiError) and error.code in TOKEN_EXPIRED_CODES
                    and token and not renewed and getattr(self.tokens, "renewable", True)):
                renewed = True
                await self.tokens.invalidate(token)
                self.stats.retries += 1
                attempt += 1
                continue
            delay = self.retry_policy.delay(error, attempt - renewed)
            attempt += 1
            if delay is None:
                error.attempts = attempt
                self.stats.errors += 1
                raise error
            self.stats.retries += 1
            await asyncio.sleep(delay)

    async def _cached(self, key: str, decode: Callable[..., Awaitable[T]],
                      endpoint: str) -> T | None:
        """A page from the cache, or None (a miss, or an entry that no longer decodes)."""
        assert self._cache is not None
        body = await self._cache.get(key)
        if body is not None:
            try:
                result = await decode(body, http_status=200, endpoint=endpoint)
            except DouyinError:
                body = None
            else:
                self.stats.cache_hits += 1
                return result
        self.stats.cache_misses += 1
        return None

    async def _decode_answer(
        self,
        parse: Callable[..., A],
        decoder_of: Callable[[list[dict[str, Any]]], RecordDecoder[R]],
        body: bytes,
        *,
        http_status: int,
        endpoint: str,
        header_log_id: str = "",
    ) -> tuple[A, list[R]]:
        """Parse an answer (``parse``: a pure function of :mod:`envelopes`) and structure its
        records, one page at a time and one heavy step per event-loop turn.

        A 10,000-record page takes tens of milliseconds to parse and structure. The client
        decodes one page at a time (other pages wait their turn), and yields to the event loop
        before the JSON parse and before each chunk of ``decode_chunk`` records, so other tasks
        (a web app's handlers) never wait for more than one of these steps. The cyclic garbage
        collector is paused for the page: the parsed dicts are acyclic, and collections started
        in the middle would only rescan the objects the page is building.
        """
        async with self._decoding:
            collecting = gc.isenabled()
            gc.disable()
            try:
                await asyncio.sleep(0)
                answer = parse(body, http_status=http_status, endpoint=endpoint,
                               header_log_id=header_log_id)
                raw = answer.records
                records = await self._decode_records(raw, decoder_of(raw), endpoint) \
                    if raw else []
            finally:
                if collecting:
                    gc.enable()
        return answer, records

    async def _decode_records(
        self, raw: list[dict[str, Any]], decoder: RecordDecoder[R], endpoint: str
    ) -> list[R]:
        """Structure a page's raw records in chunks of ``decode_chunk``, yielding before each."""
        chunk = self._decode_chunk
        out: list[R] = []
        for start in range(0, len(raw), chunk):
            await asyncio.sleep(0)
            part = raw[start:start + chunk] if len(raw) > chunk else raw
            try:
                out += decoder.many(part)
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                bad = next((r for r in part if not _decodes(decoder, r)), part[0])
                raise ResponseDecodeError(
                    f"unexpected record shape ({type(exc).__name__}: {exc})",
                    http_status=200, snippet=envelopes.snippet(orjson.dumps(bad)),
                    endpoint=endpoint,
                ) from None
        return out

    async def _decode_task_video(
        self, body: bytes, **kw: Any
    ) -> tuple[envelopes.TaskVideoAnswer, list[VideoDailyData]]:
        return await self._decode_answer(envelopes.decode_task_video, _video_decoder, body, **kw)

    async def _decode_talent_media(
        self, body: bytes, **kw: Any
    ) -> tuple[envelopes.TalentMediaAnswer, list[TalentMedia]]:
        return await self._decode_answer(envelopes.decode_talent_media, _talent_decoder, body,
                                         **kw)

    # -- single pages -----------------------------------------------------------------------

    async def _task_video_page(
        self, query: TaskVideoQuery, page: int, needed: Callable[[], bool] | None = None,
        options: CallOptions = DEFAULT_CALL, cached: bool = False,
    ) -> TaskVideoPage | None:
        decoded = await self._call(TASK_VIDEO_ENDPOINT, query.body(page),
                                   self._decode_task_video, needed, options, cached)
        if decoded is None:
            return None
        answer, records = decoded
        self.stats.pages += 1
        self.stats.records += len(records)
        return TaskVideoPage(query=query, page=page, records=records, log_id=answer.log_id)

    async def _talent_media_page(
        self, query: TalentMediaQuery, page: int, needed: Callable[[], bool] | None = None,
        options: CallOptions = DEFAULT_CALL, cached: bool = False,
    ) -> TalentMediaPage | None:
        decoded = await self._call(TALENT_MEDIA_ENDPOINT, query.body(page),
                                   self._decode_talent_media, needed, options, cached)
        if decoded is None:
            return None
        answer, records = decoded
        self.stats.pages += 1
        self.stats.records += len(records)
        return TalentMediaPage(query=query, page=page, records=records, log_id=answer.log_id,
                               total=answer.total, page_count=answer.page_count,
                               date=answer.date)

    async def fetch_page(self, query: Query, page: int = 1, *, deadline: float | None = None,
                         priority: Priority = INTERACTIVE) -> Page:
        """Fetch one page of a query (a task-video query must span at most 30 days).

        ``deadline``: seconds the call may take; when its request cannot get a slot early
        enough, [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError] is raised at
        once. Identical calls in flight share one request (``single_flight``); the page may
        come from the ``cache``.
        """
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise InvalidParameterError(f"page must be a positive integer, got {page!r}")
        options = self._admissions.options(deadline, priority)
        fetch: Callable[[], Awaitable[Page | None]]
        if isinstance(query, TaskVideoQuery):
            windows = list(query.windows())
            if len(windows) > 1:
                raise InvalidParameterError("fetch_page needs a window of at most 30 days; "
                                            "use task_video_pages() or pull() for longer ones")
            query.check_age(self._clock())
            endpoint = TASK_VIDEO_ENDPOINT
            fetch = lambda: self._task_video_page(query, page, None, options, True)  # noqa: E731
        elif isinstance(query, TalentMediaQuery):
            endpoint = TALENT_MEDIA_ENDPOINT
            fetch = lambda: self._talent_media_page(query, page, None, options, True)  # noqa: E731
        else:
            raise InvalidParameterError(f"not a query: {query!r}")
        if self._flights is None:
            result = await fetch()
        else:
            key = flight_key(endpoint, orjson.dumps(query.body(page)))
            result = await self._flights.run(key, fetch)
            self.stats.shared_flights = self._flights.shared
        assert result is not None
        return result

    # -- streams ------------------------------------------------------------------------------

    def _speculative_depth(self, endpoint: str) -> int:
        """Pages worth fetching ahead: enough to keep the pipe full at the paced rate."""
        rate = getattr(self._limiters[endpoint], "rate", 10.0)
        return min(self.max_concurrency, max(2, math.ceil(rate * self._latency) + 1))

    def _unit_pages(self, query: Query, first_page: int = 1,
                    options: CallOptions = DEFAULT_CALL) -> AsyncGenerator[Page, None]:
        """Pages of one API-sized query (a task-video window of at most 30 days)."""
        cached = options.priority == INTERACTIVE
        if isinstance(query, TaskVideoQuery):
            depth = self._speculative_depth(TASK_VIDEO_ENDPOINT)
            plan = PagePlan(query.page_size, depth, first_page)
            return stream_pages(
                lambda p, needed: self._task_video_page(query, p, needed, options, cached),
                plan, on_wasted=self._count_wasted)
        plan = PagePlan(query.page_size, self.max_concurrency, first_page)
        return stream_pages(
            lambda p, needed: self._talent_media_page(query, p, needed, options, cached),
            plan, page_count_of=_page_count, on_wasted=self._count_wasted)

    def _count_wasted(self, count: int) -> None:
        self.stats.wasted_requests += count

    def _units(self, queries: Iterable[Query]) -> list[Query]:
        """Validate queries (ages included) and cut task-video queries into 30-day windows."""
        now = self._clock()
        units: list[Query] = []
        for query in queries:
            if isinstance(query, TaskVideoQuery):
                query.check_age(now)
                units.extend(query.windows())
            elif isinstance(query, TalentMediaQuery):
                units.append(query)
            else:
                raise InvalidParameterError(f"not a query: {query!r}")
        return units

    def task_video_pages(
        self, query: TaskVideoQuery, *, deadline: float | None = None,
        priority: Priority = INTERACTIVE,
    ) -> AsyncGenerator[TaskVideoPage, None]:
        """Pages of a task-video query in order (windows over 30 days are split).

        ``deadline``: seconds the whole stream may take (see ``fetch_page``).
        """
        options = self._admissions.options(deadline, priority)
        return self._ordered_pages(self._units([query]), options)  # type: ignore[return-value]

    def talent_media_pages(
        self, query: TalentMediaQuery, *, deadline: float | None = None,
        priority: Priority = INTERACTIVE,
    ) -> AsyncGenerator[TalentMediaPage, None]:
        """Pages of a talent-media query in order, pages after the first fetched at once."""
        options = self._admissions.options(deadline, priority)
        return self._ordered_pages(self._units([query]), options)  # type: ignore[return-value]

    async def _ordered_pages(self, units: list[Query],
                             options: CallOptions) -> AsyncGenerator[Page, None]:
        for unit in units:
            async with aclosing(self._unit_pages(unit, 1, options)) as pages:
                async for page in pages:
                    yield page

    def task_video_daily_data(
        self,
        billing_date: Any,
        video_publish_start_time: Any,
        video_publish_end_time: Any,
        *,
        douyin_id: str | None = None,
        agency_client_key: str | None = None,
        page_size: int = 10_000,
        deadline: float | None = None,
        priority: Priority = INTERACTIVE,
    ) -> AsyncGenerator[VideoDailyData, None]:
        """Stream task-video records of one billing date and publish window, in page order.

        Arguments are checked now (an :class:`InvalidParameterError` before any request).
        """
        query = TaskVideoQuery(
            billing_date=billing_date,
            video_publish_start_time=video_publish_start_time,
            video_publish_end_time=video_publish_end_time,
            douyin_id=douyin_id,
            agency_client_key=agency_client_key,
            page_size=page_size,
        )
        return _records(self.task_video_pages(query, deadline=deadline, priority=priority))

    def talent_media(
        self, plan_id: int, douyin_id: str, content_type: int = 3, *, page_size: int = 100,
        deadline: float | None = None, priority: Priority = INTERACTIVE,
    ) -> AsyncGenerator[TalentMedia, None]:
        """Stream a talent's videos / live rooms under a commission plan, in page order."""
        query = TalentMediaQuery(plan_id=plan_id, douyin_id=douyin_id,
                                 content_type=content_type, page_size=page_size)
        return _records(self.talent_media_pages(query, deadline=deadline, priority=priority))

    def units(self, queries: Iterable[Query]) -> list[Query]:
        """The API-sized queries ``pull()`` will run: task-video queries cut into windows of
        at most 30 days (``page.query`` is always one of these). Checks every query."""
        return self._units(queries)

    def pull(
        self,
        queries: Iterable[Query],
        *,
        max_active_queries: int | None = None,
        start_pages: Mapping[Query, int] | None = None,
        priority: Priority = BACKGROUND,
    ) -> AsyncGenerator[Page, None]:
        """Fetch many queries of both endpoints at once; yield pages as they are ready.

        Pages of one query come in page order; pages of different queries interleave.
        All queries are checked before the first request. Memory is bounded by the pages in
        flight: at most ``max_active_queries`` queries (default ``max_concurrency``) run at
        once. The first error stops the pull and is raised.

        ``start_pages`` maps a unit query (see :meth:`units`) to the page to start from, to
        resume an interrupted pull; units mapped to 0 or less are skipped as complete.

        A pull runs in the ``"background"`` lane: views (``fetch_page``) go first, and the
        pull keeps its share of the slots (see [`LanePolicy`][douyin_async.admission.LanePolicy]).
        """
        options = self._admissions.options(None, priority)
        units = self._units(queries)
        active = max_active_queries or self.max_concurrency
        if active < 1:
            raise InvalidParameterError("max_active_queries must be positive")
        starts = dict(start_pages or {})
        plan = [(unit, starts.get(unit, 1)) for unit in units]
        return self._pull([(u, s) for u, s in plan if s >= 1], active, options)

    async def _pull(
        self, units: list[tuple[Query, int]], active: int, options: CallOptions
    ) -> AsyncGenerator[Page, None]:
        todo = iter(units)

        async def worker(put: Callable[[Page], Awaitable[None]]) -> None:
            for unit, first_page in todo:
                async with aclosing(self._unit_pages(unit, first_page, options)) as pages:
                    async for page in pages:
                        await put(page)

        workers = [worker] * min(active, len(units))
        async with aclosing(merge(workers, buffer=active)) as pages:
            async for page in pages:
                yield page


def _video_decoder(raw: Sequence[Mapping[str, Any]]) -> RecordDecoder[VideoDailyData]:
    return video_decoder(raw[0])


def _talent_decoder(raw: Sequence[Mapping[str, Any]]) -> RecordDecoder[TalentMedia]:
    return talent_media_decoder


def _page_count(page: Any) -> int | None:
    return page.page_count if isinstance(page, TalentMediaPage) else None


def _decodes(decode: Callable[[Any], Any], raw: Any) -> bool:
    try:
        decode(raw)
    except Exception:
        return False
    return True


async def _records(pages: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    async with aclosing(pages) as stream:
        async for page in stream:
            for record in page.records:
                yield record


__all__ = [
    "DOUYIN_OPEN_API",
    "TALENT_MEDIA_ENDPOINT",
    "TASK_VIDEO_ENDPOINT",
    "DouyinClient",
]


"""One request, start to end: token, limiter slot, transport, envelope, retry decision, stats.

The order matters. The token comes first: a renewing provider may take a while, and a slot
taken before it would be spent late, bunched up with the slots after it. Once the slot is
granted the request goes out at once, so the time between slot and send is the transport's
alone. Retries and token renewals each wait for a new slot, so nothing ever goes out over the
cap. The decision of what to retry and how long to wait is
[`RetryPolicy`][douyin_async.http.retry.RetryPolicy]'s (pure).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import orjson

from ..auth import TokenProvider
from ..auth.base import token_after_slot
from ..errors import (
    TOKEN_EXPIRED_CODES,
    ApiError,
    AuthenticationError,
    ClientClosedError,
    DouyinError,
    InvalidParameterError,
    RateLimitedError,
)
from ..http.retry import RetryPolicy
from ..http.transport import Request, Response, Transport
from ..pacing.limiter import PacedLimiter, RateLimiter
from ..stats import ClientStats
from ..webapp.admission import DEFAULT_CALL, CallOptions
from ..webapp.admissions import Admissions
from ..webapp.cache import PageCache, cache_key
from .decoding import Decoded, PageDecoder
from .endpoints import AGENCY_BILL_LINKS, BILL_LINKS, PAGED, TASK_VIDEOS, Endpoint, path_of


def build_limiters(
    rate_limit: float | Mapping[str, float],
    limiter: RateLimiter | Mapping[str, RateLimiter] | None,
) -> dict[str, RateLimiter]:
    """One limiter per endpoint path: shared by all, or one each from a mapping of names.
    The bill-link endpoints share the task-video endpoint's limiter."""
    limiters = _paged_limiters(rate_limit, limiter)
    shared = limiters.get(TASK_VIDEOS.path) or next(iter(limiters.values()), None)
    for row in (BILL_LINKS, AGENCY_BILL_LINKS):
        if shared is not None:
            limiters.setdefault(row.path, shared)
    return limiters


def _paged_limiters(
    rate_limit: float | Mapping[str, float],
    limiter: RateLimiter | Mapping[str, RateLimiter] | None,
) -> dict[str, RateLimiter]:
    paths = [e.path for e in PAGED]
    if limiter is not None:
        if isinstance(limiter, Mapping):
            return {path_of(k): v for k, v in limiter.items()}
        return dict.fromkeys(paths, limiter)
    if isinstance(rate_limit, Mapping):
        limiters: dict[str, RateLimiter] = {
            path_of(k): PacedLimiter(v) for k, v in rate_limit.items()}
        missing = set(paths) - limiters.keys()
        if missing:
            raise InvalidParameterError(f"rate_limit has no budget for {sorted(missing)}")
        return limiters
    if isinstance(rate_limit, bool) or not isinstance(rate_limit, int | float):
        raise InvalidParameterError(f"rate_limit must be a number, got {rate_limit!r}")
    return dict.fromkeys(paths, PacedLimiter(float(rate_limit)))


def _renews(error: DouyinError) -> bool:
    """The server called the token expired or invalid (or answered HTTP 401)."""
    if not isinstance(error, ApiError):
        return False
    return error.code in TOKEN_EXPIRED_CODES or (
        isinstance(error, AuthenticationError) and error.http_status == 401)


#: What `_send` answers when it gave its slot up (no valid token after the wait).
_SLOT_GIVEN_UP: Any = object()


@attrs.define(kw_only=True, eq=False)
class Executor:
    """Sends requests for one client; shared by all its callers."""

    base_url: str
    transport: Transport
    tokens: TokenProvider
    limiters: dict[str, RateLimiter]
    retry_policy: RetryPolicy
    stats: ClientStats
    timeout: float
    max_concurrency: int
    decoder: PageDecoder
    #: The page cache (None: off).
    cache: PageCache | None = None
    #: Lanes and fail-fast admission in front of the limiters.
    admissions: Admissions = attrs.field()
    #: Set by the client's `close()`: calls in flight and later calls raise.
    closed: bool = attrs.field(default=False, init=False)
    #: Moving average of request latency, seconds (sizes speculative fetching).
    latency: float = attrs.field(default=0.5, init=False)
    _in_flight: asyncio.Semaphore = attrs.field(init=False)

    @admissions.default
    def _admissions(self) -> Admissions:
        return Admissions(self.stats, depth=self.max_concurrency)

    @_in_flight.default
    def _slots_in_flight(self) -> asyncio.Semaphore:
        return asyncio.Semaphore(self.max_concurrency)

    def limiter(self, path: str) -> RateLimiter:
        """The limiter of an endpoint path."""
        return self.limiters[path]

    def _check_open(self) -> None:
        if self.closed:
            raise ClientClosedError("the client is closed")

    async def _send(self, endpoint: Endpoint[Any], payload: bytes, token: str,
                    needed: Callable[[], bool] | None, options: CallOptions,
                    may_give_up: bool = False) -> Any:
        limiter = self.limiters[endpoint.path]
        # Lanes and fail-fast admission in front of the limiter; the in-flight unit is taken
        # at the gate, right before the slot.
        # The gate is handed on once the request has left: `sent` (see AdmissionQueue).
        async with self.admissions.slot(limiter, options, endpoint=endpoint.path,
                                        service=self.latency, concurrency=self._in_flight,
                                        ) as sent:
            self._check_open()
            if needed is not None and not needed():
                return None
            # A token renewed while this request waited for its slot is the one to send; if
            # none is valid any more, the slot is given up rather than held across a renewal.
            fresh = token_after_slot(self.tokens, token)
            if fresh is None and may_give_up:
                return _SLOT_GIVEN_UP
            token = fresh or token
            self.stats.requests += 1
            started = time.monotonic()
            request = Request("POST", self.base_url + endpoint.path, body=payload,
                              headers={"access-token": token,
                                       "content-type": "application/json"},
                              timeout=self.timeout, on_sent=sent)
            if not getattr(self.transport, "reports_sent", False):
                sent()  # no word from the transport: count from now
            self.stats.in_flight += 1
            try:
                response = await self.transport.send(request)
            except asyncio.CancelledError:
                self.stats.saved_decodes += 1  # the caller left: its answer is not decoded
                raise
            finally:
                self.stats.in_flight -= 1
            self.latency += 0.2 * (time.monotonic() - started - self.latency)
            return token, response

    async def _cached(self, endpoint: Endpoint[Any], key: str,
                      page: int | None) -> Decoded | None:
        """A page from the cache, or None (a miss, or an entry that no longer decodes)."""
        assert self.cache is not None
        body = await self.cache.get(key)
        if body is not None:
            try:
                decoded = await self.decoder.decode(endpoint, Response(200, {}, body), page)
            except DouyinError:
                pass
            else:
                self.stats.cache_hits += 1
                return decoded
        self.stats.cache_misses += 1
        return None

    async def _decode(self, endpoint: Endpoint[Any], response: Response,
                      page: int | None) -> Decoded:
        try:
            return await self.decoder.decode(endpoint, response, page)
        except asyncio.CancelledError:
            self.stats.saved_decodes += 1  # the caller left while its page was decoded
            raise

    async def call(self, endpoint: Endpoint[Any], body: Mapping[str, Any], *,
                   needed: Callable[[], bool] | None = None,
                   page: int | None = None, options: CallOptions = DEFAULT_CALL,
                   cached: bool = False) -> Decoded | None:
        """Send one request of `endpoint` until it succeeds or the retry policy gives up.

        `needed` is asked right before sending (after the slot): a false answer skips the
        request and returns None. `options` place the request in its lane with its deadline;
        `cached` lets the answer come from, and go to, the page cache. Raises the last error,
        with its `attempts`.
        """
        self._check_open()
        payload = orjson.dumps(body)
        key = cache_key(self.cache.app, self.base_url + endpoint.path, payload) \
            if cached and self.cache is not None else ""
        if key:
            hit = await self._cached(endpoint, key, page)
            if hit is not None:
                return hit
        limiter = self.limiters[endpoint.path]
        attempt = 0
        renewed = False
        given_up = 0
        while True:
            token = ""
            try:
                token = await self.tokens.get()
                sent = await self._send(endpoint, payload, token, needed, options,
                                        given_up < 3)
                if sent is None:
                    return None
                if sent is _SLOT_GIVEN_UP:
                    given_up += 1  # the token expired while waiting for the slot: get one
                    continue
                token, response = sent
                decoded = await self._decode(endpoint, response, page)
            except DouyinError as exc:
                error = exc
            else:
                limiter.on_success()
                if key and self.cache is not None:  # only answers that decoded as pages
                    await self.cache.set(key, response.body)
                return decoded
            if self.closed:
                raise ClientClosedError("the client is closed") from None
            if isinstance(error, RateLimitedError):
                self.stats.rate_limited += 1
                limiter.on_rate_limited()
            if (_renews(error) and token and not renewed
                    and getattr(self.tokens, "renewable", True)):
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


__all__ = ["Executor", "build_limiters"]

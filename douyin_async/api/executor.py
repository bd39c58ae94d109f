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
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import attrs

from ..auth import TokenProvider
from ..auth.base import token_after_slot
from ..bills.links import AGENCY_BILL_LINK_ENDPOINT, BILL_LINK_ENDPOINT
from ..errors import (
    ClientClosedError,
    DouyinError,
    InvalidParameterError,
    RateLimitedError,
)
from ..http.redact import register_secret
from ..http.retry import RetryPolicy, note_retry_after
from ..http.transport import Request, Response, Transport
from ..pacing.limiter import PacedLimiter, RateLimiter
from ..stats import ClientStats
from ..webapp.admission import DEFAULT_CALL, CallOptions
from ..webapp.admissions import Admissions
from ..webapp.cache import PageCache, cache_key
from .decoding import PageDecoder, Turn
from .endpoints import PAGED, TASK_VIDEOS, Decoded, Endpoint, path_of
from .outcomes import (
    Answered,
    Attempts,
    GiveUp,
    Outcome,
    Renew,
    Retry,
    Sent,
    Skipped,
    SlotGivenUp,
)

T = TypeVar("T")


def build_limiters(
    rate_limit: float | Mapping[str, float],
    limiter: RateLimiter | Mapping[str, RateLimiter] | None,
) -> dict[str, RateLimiter]:
    """One limiter per endpoint path: shared by all, or one each from a mapping of names.
    The bill-link endpoints share the task-video endpoint's limiter."""
    limiters = _paged_limiters(rate_limit, limiter)
    shared = limiters.get(TASK_VIDEOS.path) or next(iter(limiters.values()), None)
    for path in (BILL_LINK_ENDPOINT, AGENCY_BILL_LINK_ENDPOINT):
        if shared is not None:
            limiters.setdefault(path, shared)
    return limiters


def _paged_limiters(
    rate_limit: float | Mapping[str, float],
    limiter: RateLimiter | Mapping[str, RateLimiter] | None,
) -> dict[str, RateLimiter]:
    paths = [e.path for e in PAGED]
    if limiter is not None:
        if isinstance(limiter, Mapping):
            return {path_of(k): _checked(v) for k, v in limiter.items()}
        return dict.fromkeys(paths, _checked(limiter))
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


def _checked(limiter: RateLimiter) -> RateLimiter:
    if not isinstance(limiter, RateLimiter):
        raise InvalidParameterError(
            "limiter must be a RateLimiter: rate, in_process, pacing(), acquire(), "
            f"on_rate_limited() and on_success() (got {type(limiter).__name__})")
    return limiter


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

    async def _send(self, path: str, payload: bytes, token: str,
                    needed: Callable[[], bool] | None, options: CallOptions,
                    may_give_up: bool) -> Sent | Skipped | SlotGivenUp:
        # Lanes and fail-fast admission in front of the limiter; the in-flight unit is taken
        # at the gate, right before the slot.
        # The gate is handed on once the request has left: `sent` (see AdmissionQueue); a
        # block left without a request gives its slot back.
        async with self.admissions.slot(self.limiters[path], options, endpoint=path,
                                        service=self.latency, concurrency=self._in_flight,
                                        ) as sent:
            self._check_open()
            if needed is not None and not needed():
                return Skipped()
            fresh = token_after_slot(self.tokens, token)
            if fresh is None and may_give_up:
                return SlotGivenUp()
            token = fresh or token
            register_secret(token)  # an answer that echoes it cannot show it in an error
            self.stats.requests += 1
            started = time.monotonic()
            request = Request("POST", self.base_url + path, body=payload,
                              headers={"access-token": token,
                                       "content-type": "application/json"},
                              timeout=self.timeout, on_sent=sent)
            if not self.transport.reports_sent:
                sent()  # no word from the transport: count from now
            self.stats.in_flight += 1
            try:
                response = await self.transport.send(request)
            except asyncio.CancelledError:
                self.stats.saved_decodes += 1  # the caller left: its answer is not decoded
                raise
            finally:
                self.stats.in_flight -= 1
                sent()  # handed to the transport: it may have left unreported; count it now
            self.latency += 0.2 * (time.monotonic() - started - self.latency)
            return Sent(token, response)

    async def _attempt(self, path: str, payload: bytes,
                       read: Callable[[Response], Awaitable[T]],
                       needed: Callable[[], bool] | None, options: CallOptions,
                       attempts: Attempts) -> Outcome[T]:
        token = ""
        response: Response | None = None
        try:
            token = await self.tokens.get()
            sent = await self._send(path, payload, token, needed, options,
                                    attempts.may_give_up_slot())
            if not isinstance(sent, Sent):
                return sent
            token, response = sent.token, sent.response
            return Answered(await read(response), response)
        except DouyinError as error:
            if response is not None:  # a Retry-After of the answer bounds the wait
                error = note_retry_after(error, response.status, response.headers, time.time())
            return self._after(path, error, token, attempts)

    def _after(self, path: str, error: DouyinError, token: str,
               attempts: Attempts) -> Renew | Retry | GiveUp:
        """What follows a failed attempt: renew the token, retry after a delay, or give up."""
        if self.closed:
            raise ClientClosedError("the client is closed") from None
        if isinstance(error, RateLimitedError):
            self.stats.rate_limited += 1
            self.limiters[path].on_rate_limited()
        if attempts.may_renew(error, token, self.tokens):
            return Renew(token)
        delay = self.retry_policy.delay(error, attempts.retries())
        return GiveUp(error) if delay is None else Retry(delay)

    async def exchange(self, path: str, payload: bytes,
                       read: Callable[[Response], Awaitable[T]], *,
                       needed: Callable[[], bool] | None = None,
                       options: CallOptions = DEFAULT_CALL) -> Answered[T] | None:
        """Send `payload` to `path` until `read` takes the answer or the retry policy gives
        up (raising the last error, with its `attempts`). `needed` is asked after the slot:
        false skips the request and answers None."""
        self._check_open()
        attempts = Attempts()
        while True:
            outcome = await self._attempt(path, payload, read, needed, options, attempts)
            match outcome:
                case Answered():
                    self.limiters[path].on_success()
                    return outcome
                case Skipped():
                    return None
                case SlotGivenUp():
                    attempts.slots_given_up += 1
                case Renew(token):
                    attempts.renewed = True
                    await self.tokens.invalidate(token)
                    self.stats.retries += 1
                    attempts.failed += 1
                case Retry(delay):
                    attempts.failed += 1
                    self.stats.retries += 1
                    await self.retry_policy.sleep(delay)
                case GiveUp(error):
                    attempts.failed += 1
                    error.attempts = attempts.failed
                    self.stats.errors += 1
                    raise error

    async def _cached(self, endpoint: Endpoint[Any], key: str, page: int | None,
                      turn: Turn | None) -> Decoded | None:
        """A page from the cache, or None (a miss, or an entry that no longer decodes)."""
        assert self.cache is not None
        body = await self.cache.get(key)
        if body is not None:
            try:
                decoded = await self.decoder.decode(endpoint, Response(200, {}, body), page,
                                                    turn)
            except DouyinError:
                pass
            else:
                self.stats.cache_hits += 1
                return decoded
        self.stats.cache_misses += 1
        return None

    async def _decode(self, endpoint: Endpoint[Any], response: Response,
                      page: int | None, turn: Turn | None) -> Decoded:
        try:
            return await self.decoder.decode(endpoint, response, page, turn)
        except asyncio.CancelledError:
            self.stats.saved_decodes += 1  # the caller left while its page was decoded
            raise

    async def call(self, endpoint: Endpoint[Any], payload: bytes, *,
                   needed: Callable[[], bool] | None = None,
                   page: int | None = None, options: CallOptions = DEFAULT_CALL,
                   cached: bool = False, turn: Turn | None = None) -> Decoded | None:
        """One page request of `endpoint` (`payload`: its JSON body), decoded (see
        [`exchange`][douyin_async.api.executor.Executor.exchange]); `cached` lets the answer
        come from, and go to, the page cache; a large answer waits for `turn` (its page is
        next in its stream) before it is decoded."""
        self._check_open()
        key = cache_key(self.cache.app, self.base_url + endpoint.path, payload) \
            if cached and self.cache is not None else ""
        if key:
            hit = await self._cached(endpoint, key, page, turn)
            if hit is not None:
                return hit

        async def read(response: Response) -> Decoded:
            return await self._decode(endpoint, response, page, turn)

        answered = await self.exchange(endpoint.path, payload, read, needed=needed,
                                       options=options)
        if answered is None:
            return None
        if key and self.cache is not None:  # only answers that decoded as pages
            await self.cache.set(key, answered.response.body)
        return answered.value


__all__ = ["Executor", "build_limiters"]

"""Request pacing under the server's QPS cap.

The server counts requests in a rolling second, where a token bucket of capacity N would let
2N through; so [`PacedLimiter`][douyin_async.PacedLimiter] spaces requests `(1 + margin) / rate`
apart instead. After a rate-limit answer every caller pauses and the spacing widens
([`Slowdown`][douyin_async.pacing.limiter.Slowdown], pure), then recovers as requests succeed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

import attrs
from aiolimiter import AsyncLimiter

from ..errors import InvalidParameterError

#: Extra spacing over ``1 / rate``; absorbs network jitter between client and server.
DEFAULT_MARGIN = 0.04


@attrs.frozen
class Pacing:
    """Where a limiter stands now: seconds between slots (widened after a rate-limit
    answer) and seconds left of a shared pause."""

    spacing: float
    pause: float = 0.0


@runtime_checkable
class RateLimiter(Protocol):
    """Everything the package reads from a limiter (in-process, Redis-backed, or your own).

    Subclass it to inherit `pacing()` and `in_process`; a duck-typed limiter must have
    every member.
    """

    #: Requests per second it lets through (sizes how far a stream asks ahead).
    rate: float
    #: True when slots are granted in this process in arrival order, so admission lets one
    #: waiter at a time in and knows every position; False when slots are booked remotely.
    in_process: bool = False

    def pacing(self) -> Pacing:
        """The spacing and pause in force now (admission's wait estimate)."""
        return Pacing(1.0 / self.rate)

    async def acquire(self) -> None:
        """Wait for the next request slot."""

    def on_rate_limited(self) -> None:
        """The server answered "too many requests": slow every caller down."""

    def on_success(self) -> None:
        """A request went through: let a slowed rate recover."""


class Turn(Protocol):
    """A limiter's send turn, held from the slot until the request has left."""

    def __call__(self) -> None:
        """The request left now: hand the turn on."""

    def unused(self) -> None:
        """No request left: hand the turn on and give the slot back."""


@runtime_checkable
class SendPaced(Protocol):
    """A limiter that paces by when each request left, not by when its slot fell due (the
    Redis limiter: no other process sees this one's event loop). Admission calls `take()`
    instead of `acquire()` and reports the departure to the turn it answers."""

    async def take(self) -> Turn:
        """Wait for the next slot and the turn to send in it."""


def widen(factor: float, paused_at: float | None, now: float, pause: float,
          max_factor: float) -> float | None:
    """The doubled spacing factor after a rate-limit answer at `now`, or None when the answer
    falls in the pause in force (begun at `paused_at`): concurrent rejections widen once. The
    rule of [`Slowdown`][douyin_async.pacing.limiter.Slowdown] and the Redis pause script."""
    if paused_at is not None and now < paused_at + pause:
        return None
    return min(factor * 2.0, max_factor)


@attrs.frozen
class Place:
    """A caller's place in the widened schedule: wait `wait` seconds; its slot runs from
    `start` to `end` on the limiter's clock."""

    wait: float
    start: float
    end: float


@attrs.define(eq=False)
class Slowdown:
    """Shared pause and widened spacing after rate-limit answers (pure; clock injected)."""

    spacing: float
    clock: Callable[[], float] = attrs.field(default=time.monotonic, kw_only=True)
    pause: float = attrs.field(default=1.0, kw_only=True)
    max_factor: float = attrs.field(default=8.0, kw_only=True)
    recovery: float = attrs.field(default=0.9, kw_only=True)
    factor: float = attrs.field(default=1.0, init=False)
    paused_until: float = attrs.field(default=0.0, init=False)
    #: When the pause window in force began (None: never paused).
    paused_at: float | None = attrs.field(default=None, init=False)
    _next: float = attrs.field(default=0.0, init=False)

    def on_rate_limited(self) -> None:
        """Pause everybody for ``pause`` seconds and double the spacing (up to
        ``max_factor``), once per pause window (see `widen`)."""
        now = self.clock()
        factor = widen(self.factor, self.paused_at, now, self.pause, self.max_factor)
        if factor is None:
            return
        self.factor = factor
        self.paused_at = now
        self.paused_until = max(self.paused_until, now + self.pause)

    def on_success(self) -> None:
        """Shrink the spacing factor a step back towards 1."""
        if self.factor > 1.0:
            self.factor = max(1.0, self.factor * self.recovery)

    def take_place(self) -> Place:
        """The caller's place, reserved while a pause or a widened spacing is in force."""
        now = self.clock()
        if self.factor == 1.0 and now >= self.paused_until:
            return Place(0.0, now, now)
        start = max(now, self.paused_until, self._next)
        self._next = start + self.spacing * self.factor
        return Place(start - now, start, self._next)

    def reserve(self) -> float:
        """Seconds the caller must wait; reserves its place when the spacing is widened."""
        return self.take_place().wait

    def give_back(self, place: Place) -> None:
        """A cancelled caller hands its place back: the last place taken is undone, an earlier
        one leaves a gap (less throughput, never more requests)."""
        if place.end > place.start and self._next == place.end:
            self._next = place.start

    def paused(self) -> bool:
        """True while a pause is in force."""
        return self.clock() < self.paused_until


class PacedLimiter(RateLimiter):
    """Paces requests at most `rate` per rolling second, shared by all callers of a client
    (aiolimiter binds it to the event loop that first uses it)."""

    def __init__(
        self,
        rate: float,
        *,
        margin: float = DEFAULT_MARGIN,
        pause: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate > 0:
            raise InvalidParameterError(f"rate_limit must be positive, got {rate!r}")
        if not 0 <= margin < 1:
            raise InvalidParameterError(f"margin must be in [0, 1), got {margin!r}")
        self.rate = rate
        self.spacing = (1.0 + margin) / rate
        self._bucket = AsyncLimiter(1, self.spacing)
        self._sleep = sleep
        self.slowdown = Slowdown(self.spacing, clock=clock, pause=pause)

    in_process = True

    def pacing(self) -> Pacing:
        """The spacing widened by the slowdown factor, and what is left of a pause."""
        slow = self.slowdown
        return Pacing(self.spacing * slow.factor, max(0.0, slow.paused_until - slow.clock()))

    async def acquire(self) -> None:
        """Wait for the next slot (after any shared pause)."""
        while True:
            place = self.slowdown.take_place()
            if place.wait > 0:
                try:
                    await self._sleep(place.wait)
                except asyncio.CancelledError:
                    self.slowdown.give_back(place)
                    raise
            await self._bucket.acquire()
            if not self.slowdown.paused():
                return

    def on_rate_limited(self) -> None:
        """Start a shared pause and widen the spacing."""
        self.slowdown.on_rate_limited()

    def on_success(self) -> None:
        """Let the spacing recover."""
        self.slowdown.on_success()

    def __repr__(self) -> str:
        return f"PacedLimiter(rate={self.rate}, spacing={self.spacing:.4f}s)"

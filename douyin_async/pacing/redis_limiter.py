"""One request quota shared by many processes and machines, kept in Redis.

[`RedisRateLimiter`][douyin_async.pacing.redis_limiter.RedisRateLimiter] books slots in a GCRA
reservation book: one Lua script, run atomically on Redis's own clock, hands out the next slot
`spacing = (1 + margin) / rate` after the last, so no rolling second holds more than `rate`
requests whatever the machines' clocks. Rate-limit answers pause and widen the shared spacing
once per pause window. Redis down fails closed: no request goes out unpaced. The design and
its measurements are in [Scaling out](../scaling.md).

The client paces by the time each request *left*, as it does in one process: after its slot
a request takes the app's send turn, which is free one spacing after the last departure of
any process ([`douyin_async.pacing.redis_turn`][]). A request held back after its slot (a
busy event loop, a new connection) therefore never leaves close behind another, and a slot
that goes unused is given back.

A step of Redis's clock (an NTP step, a VM resumed) never reaches the schedule: each process
books on one continuous timeline (its offset to Redis, measured by
[`RemoteClock`][douyin_async.pacing.remote_clock.RemoteClock]), and the first process whose
answer cannot be squared with its offset re-bases the shared clock by the step (a `skew` kept
beside `tat`, changed once per step), so a step costs neither a burst nor a pause.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self

try:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "the Redis rate limiter needs redis-py: pip install 'douyin-async[redis]'"
    ) from exc

from ..errors import DouyinError, InvalidParameterError, TransportError
from .limiter import DEFAULT_MARGIN, Pacing, RateLimiter
from .redis_booking import Booking, Reservation
from .redis_scripts import (
    ACQUIRE_SCRIPT,
    PAUSE_SCRIPT,
    SCRIPTS,
    LimiterScripts,
    Script,
    connect,
    describe,
    now_arg,
    us,
)
from .redis_turn import Departure, Turns
from .remote_clock import too_late

__all__ = [
    "ACQUIRE_SCRIPT",
    "PAUSE_SCRIPT",
    "LimiterTimeoutError",
    "RedisLimiterError",
    "RedisRateLimiter",
    "Reservation",
    "connect",
    "limiter_key",
]

#: Slots one acquire may give up for waking too late, before it sends in the next one anyway.
MAX_REBOOKINGS = 4
#: The send turn lets a departure come a TOLERANCE_SHARE-th of the margin (read in seconds)
#: before it is due.
TOLERANCE_SHARE = 8
#: Default prefix of limiter keys: ``{douyin:<app>}:<bucket>``.
DEFAULT_PREFIX = "douyin"


class RedisLimiterError(TransportError):
    """The Redis behind a [`RedisRateLimiter`][douyin_async.pacing.redis_limiter.RedisRateLimiter]
    could
    not be reached or failed.

    Raised by ``acquire()`` before any request is sent: the limiter fails closed, it never
    lets requests through unpaced. A [`TransportError`][douyin_async.errors.TransportError], so code
    that handles network failures handles this one too.
    """


class LimiterTimeoutError(DouyinError):
    """``acquire()`` waited longer than ``acquire_timeout`` for a place in the shared queue."""


def limiter_key(app: str, bucket: str = "all", prefix: str = DEFAULT_PREFIX) -> str:
    """The Redis key of one app's quota: ``{<prefix>:<app>}:<bucket>``.

    The braces are a Redis Cluster hash tag: every bucket of one app lands on one slot.
    """
    for name, value in (("app", app), ("bucket", bucket), ("prefix", prefix)):
        if not isinstance(value, str) or not value or "{" in value or "}" in value:
            raise InvalidParameterError(
                f"{name} must be a non-empty string without braces, got {value!r}"
            )
    return f"{{{prefix}:{app}}}:{bucket}"


class RedisRateLimiter(RateLimiter):
    """A rate limiter whose quota lives in Redis, shared by every process that uses its key.

    Args:
        redis: a `redis.asyncio.Redis` (or `RedisCluster`) client, left open and shareable
            between apps, or a URL (`redis://host:6379/0`, `rediss://`, `unix://`) whose
            client [`aclose`][douyin_async.pacing.redis_limiter.RedisRateLimiter.aclose]
            closes.
        app: the app whose quota this is (its client key, or any stable name). Every
            limiter with the same ``prefix``, ``app`` and ``bucket`` shares one quota.
        rate: the server's cap, requests per rolling second.
        bucket: the quota's name within the app: ``"all"`` when both endpoints share one
            cap, or one bucket per endpoint (see
            [`per_endpoint`][douyin_async.pacing.redis_limiter.RedisRateLimiter.per_endpoint]).
        margin: extra spacing over `1 / rate`, for the arrival jitter of many senders.
        pause: seconds the whole fleet pauses after a rate-limit answer.
        max_factor: the most the spacing widens after repeated rate-limit answers.
        recovery: the spacing factor's multiplier per reservation while widened.
        max_wait: the longest reservation handed out, seconds (a longer queue is waited out
            in rounds).
        max_hold: seconds a request may hold the send turn before it counts as sent (its
            process may have died).
        acquire_timeout: seconds before
            [`LimiterTimeoutError`][douyin_async.pacing.redis_limiter.LimiterTimeoutError]
            (None: wait as long as it takes).
        redis_timeout: seconds per Redis round trip (and connect) before
            [`RedisLimiterError`][douyin_async.pacing.redis_limiter.RedisLimiterError].
        prefix: the key prefix (see `limiter_key`).
        sleep: the sleep function (tests inject one).
        scripts: the Lua scripts (tests pass ones on a fake clock, made by
            `redis_scripts.limiter_scripts`).

    Use it on one event loop (redis-py's connections belong to it): one per process.
    """

    def __init__(
        self,
        redis: aioredis.Redis | aioredis.RedisCluster | str,
        *,
        app: str,
        rate: float = 10.0,
        bucket: str = "all",
        margin: float = DEFAULT_MARGIN,
        pause: float = 1.0,
        max_factor: float = 8.0,
        recovery: float = 0.9,
        max_wait: float = 30.0,
        max_hold: float = 1.0,
        acquire_timeout: float | None = None,
        redis_timeout: float = 5.0,
        prefix: str = DEFAULT_PREFIX,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        scripts: LimiterScripts = SCRIPTS,
    ) -> None:
        _check_positive("rate", rate)
        _check_positive("pause", pause)
        _check_positive("max_wait", max_wait)
        _check_positive("max_hold", max_hold)
        _check_positive("redis_timeout", redis_timeout)
        if acquire_timeout is not None:
            _check_positive("acquire_timeout", acquire_timeout)
        if not 0 <= margin < 1:
            raise InvalidParameterError(f"margin must be in [0, 1), got {margin!r}")
        if not max_factor >= 1:
            raise InvalidParameterError(f"max_factor must be >= 1, got {max_factor!r}")
        if not 0 < recovery <= 1:
            raise InvalidParameterError(f"recovery must be in (0, 1], got {recovery!r}")
        self.key = limiter_key(app, bucket, prefix)
        self.app = app
        self.bucket = bucket
        self.rate = float(rate)
        self.margin = margin
        self.spacing = (1.0 + margin) / rate
        self.pause = pause
        self.max_factor = max_factor
        self.recovery = recovery
        self.max_wait = max_wait
        self.acquire_timeout = acquire_timeout
        self.redis_timeout = redis_timeout
        self._sleep = sleep
        if isinstance(redis, str):
            self.redis: Any = connect(redis, timeout=redis_timeout)
            self._owns_redis = True
        else:
            self.redis = redis
            self._owns_redis = False
        self.where = describe(self.redis)
        self._tasks: set[asyncio.Task[None]] = set()
        self._task_error: RedisLimiterError | None = None
        self._booking = Booking(scripts)
        self._turns = Turns(self._run, self._booking, spacing=self.spacing,
                            tolerance=margin / TOLERANCE_SHARE, max_hold=max_hold, sleep=sleep,
                            background=self._in_background)
        #: Slots given up because the caller woke too late to send in them (see booking).
        self.late_rebookings = 0

    @classmethod
    def per_endpoint(
        cls,
        redis: aioredis.Redis | aioredis.RedisCluster,
        *,
        app: str,
        rates: Mapping[str, float],
        **options: Any,
    ) -> dict[str, RedisRateLimiter]:
        """One limiter per endpoint, for ``DouyinClient(limiter=...)``.

        ``rates`` maps endpoint names (``"task_video"``, ``"talent_media"``) to their caps;
        each gets its own bucket of the app. Pass a shared client, not a URL.
        """
        return {name: cls(redis, app=app, rate=rate, bucket=name, **options)
                for name, rate in rates.items()}

    # -- the RateLimiter protocol ----------------------------------------------------------

    async def acquire(self) -> None:
        """Book the next shared slot and sleep until it falls due (a caller that wakes too
        late books again); raises
        [`RedisLimiterError`][douyin_async.pacing.redis_limiter.RedisLimiterError] when Redis
        cannot be reached (no request may go out then). Paces by slot time: the client uses
        [`take`][douyin_async.pacing.redis_limiter.RedisRateLimiter.take]."""
        await self._slot(late=True)

    async def take(self) -> Departure:
        """Book the next shared slot, sleep until it falls due and take the app's send turn;
        call the answer once the request has left (its `unused()` when none did). A caller
        that leaves while waiting gives its slot back."""
        try:
            await self._slot(late=False)
        except asyncio.CancelledError:
            self._turns.give_back()
            raise
        return await self._turns.take()

    async def _slot(self, *, late: bool) -> None:
        """Wait for a granted slot; ``late``: give up a slot woken for too late (without
        the turn, nothing else keeps a late request from the next one)."""
        await self._settle()
        loop = asyncio.get_running_loop()
        started = loop.time()
        rebooked = 0
        while True:
            booking = await self.reserve()
            if booking.granted:
                due = loop.time() + booking.wait if booking.due is None else booking.due
                if due > loop.time():
                    await self._sleep(due - loop.time())
                if late and rebooked < MAX_REBOOKINGS and too_late(loop.time(), due,
                                                                   self.margin):
                    rebooked += 1
                    self.late_rebookings += 1
                    continue
                return
            delay = max(booking.wait - self.max_wait, self.spacing)
            if (self.acquire_timeout is not None
                    and loop.time() + delay - started > self.acquire_timeout):
                raise LimiterTimeoutError(
                    f"no slot of {self.key} within {self.acquire_timeout:g} s "
                    f"(the shared queue is {booking.wait:.1f} s long)"
                )
            await self._sleep(delay)

    def on_rate_limited(self) -> None:
        """Pause every process sharing the key and widen the spacing, from a background task
        that the next `acquire()` waits for (and raises the failure of)."""
        self._in_background(self.start_pause(), "pausing")

    @property
    def clock_steps(self) -> int:
        """Steps of Redis's clock this limiter noticed (and re-based the shared clock for)."""
        return self._booking.steps

    @property
    def turn_waits(self) -> int:
        """Times a request found the send turn not yet free after its slot."""
        return self._turns.waits

    def on_success(self) -> None:
        """Nothing to do: the widened spacing recovers inside each reservation."""

    def pacing(self) -> Pacing:
        """The configured spacing; a widened one and a pause live in Redis, unread here."""
        return Pacing(self.spacing)

    # -- the Redis side ------------------------------------------------------------------

    async def reserve(self, *, now: float | None = None) -> Reservation:
        """One reservation (the building block of
        [`acquire`][douyin_async.pacing.redis_limiter.RedisRateLimiter.acquire]): one round
        trip, and one more when its answer shows that Redis's clock stepped.

        ``now`` replaces the shared clock (unix seconds); it exists for tests of the script.
        """
        return await self._booking.reserve(self._run, us(self.spacing), us(self.max_wait),
                                           repr(self.recovery), now)

    async def start_pause(self, *, now: float | None = None) -> bool:
        """Push the shared queue back by ``pause`` and widen the spacing; one round trip.

        Returns False when a pause started less than ``pause`` seconds ago (then nothing
        changes). ``now`` replaces Redis's clock, for tests.
        """
        reply = await self._run(self._booking.scripts.pause, us(self.pause),
                                repr(self.max_factor), now_arg(self._booking.reading(now)))
        return bool(int(reply))

    async def _run(self, script: Script, *args: str | int) -> Any:
        try:
            async with asyncio.timeout(self.redis_timeout):
                return await script(self.redis, self.key, *args)
        except TimeoutError:
            raise RedisLimiterError(
                f"rate limiter: no answer from {self.where} within {self.redis_timeout:g} s; "
                "no request was sent"
            ) from None
        except (RedisError, OSError) as exc:
            raise RedisLimiterError(
                f"rate limiter: {self.where} failed ({type(exc).__name__}: {exc}); "
                "no request was sent"
            ) from None

    def _in_background(self, work: Awaitable[Any], what: str) -> None:
        """Run ``work`` in a task; its failure is raised by the next `acquire()`."""
        async def run() -> None:
            await work

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)

        def done(task: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            error = None if task.cancelled() else task.exception()
            if isinstance(error, RedisLimiterError):
                self._task_error = error
            elif error is not None:
                self._task_error = RedisLimiterError(
                    f"rate limiter: {what} {self.key} failed ({type(error).__name__}: {error})")

        task.add_done_callback(done)

    async def _settle(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        error, self._task_error = self._task_error, None
        if error is not None:
            raise error

    # -- lifecycle -------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Wait for pauses and turns being written; close the Redis client if it was made
        from a URL."""
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        self._task_error = None
        if self._owns_redis:
            await self.redis.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"RedisRateLimiter(key={self.key!r}, rate={self.rate:g}, "
            f"spacing={self.spacing:.4f}s, {self.where})"
        )


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidParameterError(f"{name} must be a positive number, got {value!r}")

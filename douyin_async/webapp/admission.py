"""Fail-fast admission and priority lanes, in front of the paced limiter.

The limiter spends the cap (one request per ``spacing`` seconds); this module decides *who*
gets the next slot and refuses, at once, a call that cannot get one within its budget.

[`AdmissionQueue`][douyin_async.webapp.admission.AdmissionQueue] lets one waiter at a time into the
limiter's ``acquire()`` (the *gate*), so it knows every waiter's position: a new call with
``ahead`` grants before it waits about ``ahead x spacing`` seconds, plus what is left of a
shared pause after a rate-limit answer. A call whose estimate exceeds its budget raises
[`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError] with ``retry_after`` before
it queues: it never holds a connection or a slot. A queued call whose budget runs out anyway
(a pause started behind it) leaves the queue with the same error, still before any request.

Two lanes, ``"interactive"`` (views, the default) and ``"background"`` (``pull()``), share
the gate by weighted round-robin ([`LanePolicy`][douyin_async.webapp.lanes.LanePolicy]): while
both have waiters, at most ``background_burst`` background grants come between two
interactive ones, and background gets ``background_burst`` of every
``interactive_burst + background_burst`` grants. A lane alone gets every slot.

The decisions are the pure functions of [`lanes`][douyin_async.webapp.lanes]; only the gate
awaits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs

from ..errors import InvalidParameterError, QueueTimeoutError
from ..pacing.limiter import RateLimiter
from .lanes import (
    BACKGROUND,
    INTERACTIVE,
    PRIORITIES,
    LanePolicy,
    LaneTurns,
    Priority,
    grants_before,
    queue_budget,
    retry_after,
)


def pacing_of(limiter: RateLimiter) -> tuple[float, float]:
    """``(spacing, pause left)`` of a limiter, seconds."""
    pacing = limiter.pacing()
    return pacing.spacing, pacing.pause


async def _take(limiter: RateLimiter, concurrency: asyncio.Semaphore | None) -> None:
    """A unit of ``concurrency`` (if any), then the limiter's slot; all or nothing."""
    if concurrency is None:
        await limiter.acquire()
        return
    await concurrency.acquire()
    try:
        await limiter.acquire()
    except BaseException:
        concurrency.release()
        raise


class _Waiter:
    __slots__ = ("future", "lane")

    def __init__(self, future: asyncio.Future[None], lane: Priority) -> None:
        self.future = future
        self.lane = lane


class AdmissionQueue:
    """The lanes and the gate in front of a limiter (one per limiter).

    ``on_change`` is called with the queue after every change (the client refreshes its
    [`ClientStats`][douyin_async.stats.ClientStats] there). ``jitter`` is the fraction by
    which the estimate may run late: a call is admitted when its wait, its own slot
    included, times ``1 + jitter`` fits its budget (5% by default: the hand-over between
    two waiters costs an event-loop turn or two). ``depth`` is how many waiters may be
    inside the limiter's ``acquire()`` at once: 1 for the in-process limiter (exact
    positions); a limiter that reserves slots remotely (Redis) keeps its accuracy by
    reserving a few ahead, at the price of that many more grants a view may wait behind.
    """

    def __init__(
        self,
        policy: LanePolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[AdmissionQueue], None] = lambda _queue: None,
        jitter: float = 0.05,
        depth: int = 1,
    ) -> None:
        self.jitter = jitter
        self.depth = max(1, depth)
        self.holders = 0
        self.policy = policy or LanePolicy()
        self.turns = LaneTurns(self.policy)
        self.clock = clock
        self.lanes: dict[Priority, deque[_Waiter]] = {lane: deque() for lane in PRIORITIES}
        self.spacing = 0.1
        self.pause = 0.0
        #: Measured seconds between back-to-back grants (moving average; 0 until measured).
        self.interval = 0.0
        self._last_grant: float | None = None
        self.refused = 0
        self.refused_late = 0
        self._on_change = on_change

    def queued(self, lane: Priority | None = None) -> int:
        """Calls waiting for the gate (of one lane, or of both)."""
        if lane is not None:
            return len(self.lanes[lane])
        return sum(len(q) for q in self.lanes.values())

    def ahead(self, lane: Priority = INTERACTIVE) -> int:
        """Grants before a call of ``lane`` arriving now, the one at the gate included."""
        other = BACKGROUND if lane == INTERACTIVE else INTERACTIVE
        before = grants_before(self.turns, lane, len(self.lanes[lane]), len(self.lanes[other]))
        return before + self.holders

    @property
    def gate_busy(self) -> bool:
        """True when no more waiters may go into the limiter now."""
        return self.holders >= self.depth

    @property
    def per_grant(self) -> float:
        """Seconds per grant: the limiter's spacing, or the measured interval when longer
        (hand-overs on a busy event loop, a widened spacing)."""
        return max(self.spacing, self.interval)

    def estimate(self, lane: Priority = INTERACTIVE) -> float:
        """Seconds a call of ``lane`` arriving now would wait for its slot."""
        return self.ahead(lane) * self.per_grant + self.pause

    def _granted(self) -> None:
        """A slot was taken: measure the interval since the last one if calls were queued
        behind it (back-to-back service), and remember this one."""
        now = self.clock()
        if self._last_grant is not None:
            sample = now - self._last_grant
            self.interval = sample if not self.interval else \
                self.interval + 0.2 * (sample - self.interval)
        self._last_grant = now if self.queued() else None

    async def acquire(
        self,
        limiter: RateLimiter,
        *,
        priority: Priority = INTERACTIVE,
        budget: float | None = None,
        endpoint: str = "",
        concurrency: asyncio.Semaphore | None = None,
    ) -> None:
        """Wait for a slot of ``limiter`` in lane order, or raise
        [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError] when it cannot come
        within ``budget`` seconds (at once when the estimate says so). A call with nobody
        ahead of it is always admitted.

        ``concurrency`` (the client's in-flight semaphore) is taken at the gate, right before
        the limiter's slot, so a slot is never spent waiting for a connection; on success the
        caller holds one unit of it and releases it after its request.
        """
        if priority not in PRIORITIES:
            raise InvalidParameterError(f"priority must be 'interactive' or 'background', "
                                        f"got {priority!r}")
        self.spacing, self.pause = pacing_of(limiter)
        ahead = self.ahead(priority)
        wait = ahead * self.per_grant + self.pause
        # The call's own slot is one more grant away once it reaches the gate.
        needed = (wait + self.per_grant) * (1.0 + self.jitter)
        if budget is not None and wait > 0 and needed > budget:
            self.refused += 1
            self._on_change(self)
            raise self._error(wait, budget, ahead, priority, endpoint, late=False)
        # Admitted. Nobody ahead means no queue to judge: the slot is at most one spacing
        # away, whatever the budget (the request's own time is the server's).
        give_up_at = None if budget is None else self.clock() + max(budget, self.spacing)
        if not self.gate_busy and not self.queued():
            self.holders += 1
            self._on_change(self)
        else:
            await self._queue(priority, budget, wait, ahead, endpoint)
        try:
            left = None if give_up_at is None else max(0.0, give_up_at - self.clock())
            try:
                async with asyncio.timeout(left):
                    await _take(limiter, concurrency)
                self._granted()
            except TimeoutError:
                self.refused_late += 1
                raise self._error(wait, budget or 0.0, ahead, priority, endpoint,
                                  late=True) from None
        finally:
            self._release()

    @contextlib.asynccontextmanager
    async def slot(self, limiter: RateLimiter, *, priority: Priority = INTERACTIVE,
                   budget: float | None = None, endpoint: str = "",
                   concurrency: asyncio.Semaphore | None = None) -> AsyncIterator[None]:
        """``async with queue.slot(...)``:
        [`acquire`][douyin_async.webapp.admission.AdmissionQueue.acquire], then hold the
        ``concurrency`` unit until the block ends."""
        await self.acquire(limiter, priority=priority, budget=budget, endpoint=endpoint,
                           concurrency=concurrency)
        try:
            yield
        finally:
            if concurrency is not None:
                concurrency.release()

    async def _queue(self, priority: Priority, budget: float | None, wait: float, ahead: int,
                     endpoint: str) -> None:
        waiter = _Waiter(asyncio.get_running_loop().create_future(), priority)
        self.lanes[priority].append(waiter)
        self._on_change(self)
        try:
            if budget is None:
                await waiter.future
            else:
                async with asyncio.timeout(budget):
                    await waiter.future
        except BaseException as exc:
            timed_out = isinstance(exc, TimeoutError)
            self.refused_late += timed_out
            if waiter.future.done() and not waiter.future.cancelled():
                self._release()  # the gate was ours already: hand it on
            else:
                self._drop(waiter)
            if timed_out:
                raise self._error(wait, budget or 0.0, ahead, priority, endpoint,
                                  late=True) from None
            raise

    def _drop(self, waiter: _Waiter) -> None:
        with contextlib.suppress(ValueError):
            self.lanes[waiter.lane].remove(waiter)
        self._on_change(self)

    def _release(self) -> None:
        """A holder left the gate: let the next waiters in, in lane order."""
        self.holders -= 1
        while self.holders < self.depth:
            lane = self.turns.next(bool(self.lanes[INTERACTIVE]), bool(self.lanes[BACKGROUND]))
            if lane is None:
                break
            waiter = self.lanes[lane].popleft()
            if not waiter.future.done():
                waiter.future.set_result(None)
                self.holders += 1
        self._on_change(self)

    def _error(self, wait: float, budget: float, ahead: int, priority: Priority,
               endpoint: str, *, late: bool) -> QueueTimeoutError:
        after = retry_after((wait + self.per_grant) * (1.0 + self.jitter), budget,
                            self.per_grant)
        how = "its budget ran out in the queue" if late else "refused before queueing"
        return QueueTimeoutError(
            f"no {priority} request slot within {budget:.2f} s ({how}): {ahead} requests "
            f"ahead, about {wait:.2f} s; retry after {after:.2f} s",
            retry_after=after, endpoint=endpoint,
        )


@attrs.frozen
class CallOptions:
    """How one public call queues: its lane and the monotonic time it must be done by."""

    priority: Priority = INTERACTIVE
    deadline_at: float | None = None


#: The options of a call without deadline in the interactive lane.
DEFAULT_CALL = CallOptions()


class Admissions:
    """A client's admission queues (one per distinct limiter) and their figures.

    ``stats`` is the client's [`ClientStats`][douyin_async.stats.ClientStats]: its queue
    gauges and refusal counts are kept current here. ``max_queue_wait`` is the client-wide
    budget of a call's wait for a slot (None: unbounded unless the call has a deadline).

    A call with a deadline must get its slot early enough for its request to end in time:
    ``service_factor`` times the recent request latency plus ``headroom`` seconds before
    the deadline (1.5 x and 0.1 s by default: latency varies, and decoding and the caller's
    own answer take time too). ``depth``: how many calls may be inside the ``acquire()`` of a
    limiter that is not `in_process` ([`RateLimiter`][douyin_async.RateLimiter]; the client passes
    its ``max_concurrency``).
    """

    def __init__(
        self,
        stats: Any,
        *,
        policy: LanePolicy | None = None,
        max_queue_wait: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        service_factor: float = 1.5,
        headroom: float = 0.1,
        depth: int = 10,
    ) -> None:
        if max_queue_wait is not None and (isinstance(max_queue_wait, bool) or not isinstance(
                max_queue_wait, int | float) or not max_queue_wait > 0):
            raise InvalidParameterError("max_queue_wait must be a positive number of seconds")
        self.stats = stats
        self.policy = policy or LanePolicy()
        self.max_queue_wait = max_queue_wait
        self.clock = clock
        self.service_factor = service_factor
        self.headroom = headroom
        self.depth = depth
        # (limiter, its queue) pairs, found by identity: a limiter need not be hashable.
        self._queues: list[tuple[RateLimiter, AdmissionQueue]] = []

    def options(self, deadline: float | None = None,
                priority: Priority = INTERACTIVE) -> CallOptions:
        """The options of a call starting now with ``deadline`` seconds (checked)."""
        if priority not in PRIORITIES:
            raise InvalidParameterError(f"priority must be 'interactive' or 'background', "
                                        f"got {priority!r}")
        if deadline is None:
            return CallOptions(priority)
        if isinstance(deadline, bool) or not isinstance(deadline, int | float) \
                or not deadline > 0:
            raise InvalidParameterError(f"deadline must be a positive number of seconds, "
                                        f"got {deadline!r}")
        return CallOptions(priority, self.clock() + deadline)

    def queue(self, limiter: RateLimiter) -> AdmissionQueue:
        """The queue in front of ``limiter``."""
        for known, queue in self._queues:
            if known is limiter:
                return queue
        # An in-process limiter takes one waiter at a time; others reserve ahead.
        depth = 1 if limiter.in_process else self.depth
        queue = AdmissionQueue(self.policy, clock=self.clock, on_change=self._changed,
                               depth=depth)
        self._queues.append((limiter, queue))
        return queue

    def slot(self, limiter: RateLimiter, options: CallOptions, *, endpoint: str = "",
             service: float = 0.0, concurrency: asyncio.Semaphore | None = None,
             ) -> contextlib.AbstractAsyncContextManager[None]:
        """``async with``: a slot of ``limiter`` for a call with ``options`` whose request
        takes about ``service`` seconds, holding a ``concurrency`` unit for the block; or
        [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError]."""
        budget = queue_budget(self.clock(), deadline_at=options.deadline_at,
                              service=service * self.service_factor + self.headroom,
                              max_queue_wait=self.max_queue_wait)
        return self.queue(limiter).slot(limiter, priority=options.priority, budget=budget,
                                        endpoint=endpoint, concurrency=concurrency)

    def _changed(self, _queue: AdmissionQueue) -> None:
        queues = [queue for _, queue in self._queues]
        self.stats.queued = sum(q.queued() for q in queues)
        self.stats.queued_background = sum(q.queued(BACKGROUND) for q in queues)
        self.stats.estimated_wait = round(max((q.estimate() for q in queues), default=0.0), 3)
        self.stats.queue_timeouts = sum(q.refused + q.refused_late for q in queues)
        self.stats.queue_timeouts_late = sum(q.refused_late for q in queues)


__all__ = [
    "BACKGROUND",
    "INTERACTIVE",
    "AdmissionQueue",
    "Admissions",
    "CallOptions",
    "DEFAULT_CALL",
    "LanePolicy",
    "LaneTurns",
    "Priority",
    "grants_before",
    "pacing_of",
    "queue_budget",
    "retry_after",
]

"""Fail-fast admission and priority lanes, in front of the paced limiter.

The limiter spends the cap (one request per ``spacing`` seconds); this module decides *who*
gets the next slot and refuses, at once, a call that cannot get one within its budget.

[`AdmissionQueue`][douyin_async.webapp.admission.AdmissionQueue] lets one waiter at a time into the
limiter's ``acquire()`` (the *gate*), so it knows every waiter's position: a new call with
``ahead`` grants before it waits about ``ahead x spacing`` seconds, plus what is left of a
shared pause after a rate-limit answer (the gate's own measured cost per grant, a median, is
[`GatePace`][douyin_async.webapp.pace.GatePace]'s). A call whose estimate exceeds its budget raises
[`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError] with ``retry_after`` before
it queues: it never holds a connection or a slot. A queued call whose budget runs out anyway
(a pause started behind it) leaves the queue with the same error, still before any request.
A stream asks for all its pages at once
([`Admissions.admit`][douyin_async.webapp.admissions.Admissions.admit]).

With the in-process limiter the gate is handed on when the holder's request has *left*, and
the next one starts one spacing after that: a slot taken just before the event loop stalled
must not leave together with the next one. A limiter shared by processes does the same across
them ([`SendPaced`][douyin_async.pacing.limiter.SendPaced]): the call's
[`Departure`][douyin_async.webapp.admission.Departure] hands its turn on.

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
import functools
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import cast

import attrs

from ..errors import InvalidParameterError, QueueTimeoutError
from ..pacing.limiter import RateLimiter, SendPaced, Turn
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
from .pace import GatePace, loop_time


def pacing_of(limiter: RateLimiter) -> tuple[float, float]:
    """``(spacing, pause left)`` of a limiter, seconds."""
    pacing = limiter.pacing()
    return pacing.spacing, pacing.pause


@functools.cache
def _send_paced(kind: type) -> bool:
    """True when limiters of ``kind`` pace by departures (`SendPaced`): asked once per class,
    a runtime protocol check taking microseconds on every request otherwise."""
    return issubclass(kind, SendPaced)


async def _take(limiter: RateLimiter, concurrency: asyncio.Semaphore | None) -> Turn | None:
    """A unit of ``concurrency`` (if any), then the limiter's slot, and its send turn when it
    paces by departures; all or nothing."""
    if concurrency is not None:
        await concurrency.acquire()
    try:
        if _send_paced(type(limiter)):
            return await cast(SendPaced, limiter).take()
        await limiter.acquire()
        return None
    except BaseException:
        if concurrency is not None:
            concurrency.release()
        raise


class Departure:
    """A granted call's word on its request: call it once the request has left, `unused()`
    when the call ends without one. Either hands the gate on (if the call still holds it)
    and the limiter's turn (if any); later calls do nothing."""

    def __init__(self, queue: AdmissionQueue, tracked: bool, turn: Turn | None) -> None:
        self._queue = queue
        self._tracked = tracked
        self._turn = turn
        self._holding = True
        self.timer: asyncio.TimerHandle | None = None

    def hand_on(self) -> None:
        """Hand the gate on (noting the departure, if tracked)."""
        if self._holding:
            self._holding = False
            if self.timer is not None:
                self.timer.cancel()
            if self._tracked:
                self._queue.pace.sent(self._queue.clock())
            self._queue.release()

    def _turn_over(self) -> Turn | None:
        """Hand the gate on and give up the turn: the caller reports to it, once."""
        self.hand_on()
        turn, self._turn = self._turn, None
        return turn

    def __call__(self) -> None:
        if (turn := self._turn_over()) is not None:
            turn()

    def unused(self) -> None:
        """No request left: the gate and the turn are handed on, the slot given back."""
        if (turn := self._turn_over()) is not None:
            turn.unused()


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
    ``max_hold``: seconds a holder may keep the gate waiting for its request to leave.
    """

    def __init__(
        self,
        policy: LanePolicy | None = None,
        *,
        clock: Callable[[], float] = loop_time,
        on_change: Callable[[AdmissionQueue], None] = lambda _queue: None,
        jitter: float = 0.05,
        depth: int = 1,
        max_hold: float = 1.0,
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
        self.pace = GatePace()
        self.max_hold = max_hold
        self.refused = 0
        self.refused_late = 0
        #: Requests not sent: refused (with a stream's other pages), or left while waiting.
        self.saved = 0
        self._on_change = on_change

    def queued(self, lane: Priority | None = None) -> int:
        """Calls waiting for the gate (of one lane, or of both)."""
        lanes = self.lanes
        if lane is not None:
            return len(lanes[lane])
        return len(lanes[INTERACTIVE]) + len(lanes[BACKGROUND])

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
        """Seconds per grant: the limiter's (widened) spacing, or the gate's measured median
        interval when longer (hand-overs on a busy event loop)."""
        return self.pace.interval(self.spacing)

    def estimate(self, lane: Priority = INTERACTIVE) -> float:
        """Seconds a call of ``lane`` arriving now would wait for its slot."""
        return self.ahead(lane) * self.per_grant + self.pause

    def check(self, budget: float | None, priority: Priority, endpoint: str,
              pages: int = 1) -> None:
        """Refuse at once (raise [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError])
        a call of ``pages`` requests whose honest wait does not fit ``budget``: its requests
        one grant after another behind those ahead, 5% to spare. Nobody ahead: admitted."""
        self._checked(budget, priority, endpoint, pages)

    def _checked(self, budget: float | None, priority: Priority, endpoint: str,
                 pages: int = 1) -> tuple[int, float]:
        """[`check`][douyin_async.webapp.admission.AdmissionQueue.check]; the grants ahead
        and the estimated wait when admitted."""
        ahead = self.ahead(priority)
        wait = ahead * self.per_grant + self.pause
        needed = (wait + pages * self.per_grant) * (1.0 + self.jitter)
        if budget is not None and (wait > 0 or pages > 1) and needed > budget:
            self.refused += 1
            self.saved += pages
            self._on_change(self)
            raise self._error(wait + (pages - 1) * self.per_grant, budget, ahead, priority,
                              endpoint, late=False)
        return ahead, wait

    async def acquire(
        self,
        limiter: RateLimiter,
        *,
        priority: Priority = INTERACTIVE,
        budget: float | None = None,
        endpoint: str = "",
        concurrency: asyncio.Semaphore | None = None,
        until_sent: bool = False,
    ) -> Departure:
        """Wait for a slot of ``limiter`` in lane order, or raise
        [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError] when it cannot come
        within ``budget`` seconds (at once when the estimate says so). A call with nobody
        ahead of it is always admitted.

        ``concurrency`` (the client's in-flight semaphore) is taken at the gate, right before
        the limiter's slot, so a slot is never spent waiting for a connection; on success the
        caller holds one unit of it and releases it after its request.

        Returns the call's [`Departure`][douyin_async.webapp.admission.Departure]: with
        ``until_sent`` (and a gate of one) the gate stays the caller's until it reports its
        request left (or ``max_hold`` seconds), and the next request starts one spacing after
        that; otherwise the gate is handed on at once. A limiter's send turn is handed on
        when the departure is reported, whatever the gate.
        """
        if priority not in PRIORITIES:
            raise InvalidParameterError(f"priority must be 'interactive' or 'background', "
                                        f"got {priority!r}")
        self.spacing, self.pause = pacing_of(limiter)
        ahead, wait = self._checked(budget, priority, endpoint)
        # Admitted. Nobody ahead means no queue to judge: the slot is at most one spacing
        # away, whatever the budget (the request's own time is the server's).
        give_up_at = None if budget is None else self.clock() + max(budget, self.spacing)
        if not self.gate_busy and not self.queued():
            self.holders += 1
            self._on_change(self)
        else:
            await self._queue(priority, budget, wait, ahead, endpoint)
        tracked = until_sent and self.depth == 1
        turn = None
        try:
            if give_up_at is None:  # no deadline: no timeout to arm
                turn = await self._spaced_take(limiter, concurrency, tracked)
            else:
                async with asyncio.timeout(max(0.0, give_up_at - self.clock())):
                    turn = await self._spaced_take(limiter, concurrency, tracked)
            self.pace.granted(self.clock(), bool(self.queued()))
        except BaseException as exc:
            self.pace.idle()
            self.saved += 1
            self.release()  # nothing left: hand the gate on
            if not isinstance(exc, TimeoutError):
                raise
            self.refused_late += 1
            raise self._error(wait, budget or 0.0, ahead, priority, endpoint,
                              late=True) from None
        departure = Departure(self, tracked, turn)
        if not tracked:
            departure.hand_on()
        else:  # a request that has not left after max_hold seconds (a slow connect) lets
            # the next one go rather than stall the queue
            departure.timer = asyncio.get_running_loop().call_later(self.max_hold,
                                                                    departure.hand_on)
        return departure

    async def _spaced_take(self, limiter: RateLimiter, concurrency: asyncio.Semaphore | None,
                           tracked: bool) -> Turn | None:
        """`_take`, a tracked call first waiting one spacing after the last request left."""
        if tracked:  # one spacing after the last request left
            gap = self.pace.send_wait(self.clock(), self.spacing)
            if gap > 0:
                await asyncio.sleep(gap)
        return await _take(limiter, concurrency)

    @contextlib.asynccontextmanager
    async def slot(self, limiter: RateLimiter, *, priority: Priority = INTERACTIVE,
                   budget: float | None = None, endpoint: str = "",
                   concurrency: asyncio.Semaphore | None = None,
                   ) -> AsyncIterator[Departure]:
        """``async with queue.slot(...) as sent``:
        [`acquire`][douyin_async.webapp.admission.AdmissionQueue.acquire] until the request
        has left (call ``sent()`` then; a block that ends without calling it sent nothing),
        and hold the ``concurrency`` unit until the block ends."""
        sent = await self.acquire(limiter, priority=priority, budget=budget,
                                  endpoint=endpoint, concurrency=concurrency, until_sent=True)
        try:
            yield sent
        finally:
            sent.unused()
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
            self.saved += 1
            if waiter.future.done() and not waiter.future.cancelled():
                self.release()  # the gate was ours already: hand it on
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

    def release(self) -> None:
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
        if not self.holders:
            self.pace.idle()
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


__all__ = [
    "BACKGROUND",
    "INTERACTIVE",
    "AdmissionQueue",
    "CallOptions",
    "Departure",
    "DEFAULT_CALL",
    "LanePolicy",
    "LaneTurns",
    "Priority",
    "grants_before",
    "pacing_of",
    "queue_budget",
    "retry_after",
]

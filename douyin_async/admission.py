"""Fail-fast admission and priority lanes, in front of the paced limiter.

The limiter spends the cap (one request per ``spacing`` seconds); this module decides *who*
gets the next slot and refuses, at once, a call that cannot get one within its budget.

[`AdmissionQueue`][douyin_async.admission.AdmissionQueue] lets one waiter at a time into the
limiter's ``acquire()`` (the *gate*), so it knows every waiter's position: a new call with
``ahead`` grants before it waits about ``ahead x spacing`` seconds, plus what is left of a
shared pause after a rate-limit answer. A call whose estimate exceeds its budget raises
[`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError] with ``retry_after`` before
it queues: it never holds a connection or a slot. A queued call whose budget runs out anyway
(a pause started behind it) leaves the queue with the same error, still before any request.

Two lanes, ``"interactive"`` (views, the default) and ``"background"`` (``pull()``), share
the gate by weighted round-robin ([`LanePolicy`][douyin_async.admission.LanePolicy]): while
both have waiters, at most ``background_burst`` background grants come between two
interactive ones, and background gets ``background_burst`` of every
``interactive_burst + background_burst`` grants. A lane alone gets every slot.

The decisions are pure functions ([`LaneTurns`][douyin_async.admission.LaneTurns],
[`grants_before`][douyin_async.admission.grants_before],
[`queue_budget`][douyin_async.admission.queue_budget]); only the gate awaits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

import attrs

from .errors import InvalidParameterError, QueueTimeoutError
from .ratelimit import RateLimiter

Priority = Literal["interactive", "background"]
INTERACTIVE: Priority = "interactive"
BACKGROUND: Priority = "background"
PRIORITIES: tuple[Priority, ...] = (INTERACTIVE, BACKGROUND)


def _positive_int(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(f"{attribute.name} must be a positive integer, got {value!r}")


@attrs.frozen
class LanePolicy:
    """How the two lanes share the gate while both have waiters.

    ``interactive_burst`` interactive grants, then ``background_burst`` background grants,
    and so on. A view therefore waits behind at most ``background_burst`` background
    requests between two interactive grants, and background work keeps
    [`background_share`][douyin_async.admission.LanePolicy.background_share] of the slots
    however many views arrive. The defaults (4 and 1) give views 80% and a pull 20% of a
    contended cap, all of it when the other lane is empty.
    """

    interactive_burst: int = attrs.field(default=4, validator=_positive_int)
    background_burst: int = attrs.field(default=1, validator=_positive_int)

    @property
    def background_share(self) -> float:
        """The least share of the slots background work gets while views queue."""
        return self.background_burst / (self.interactive_burst + self.background_burst)

    def burst(self, lane: Priority) -> int:
        """Grants in a row for ``lane`` while the other lane waits."""
        return self.interactive_burst if lane == INTERACTIVE else self.background_burst


class LaneTurns:
    """Whose turn the next grant is (weighted round-robin; pure)."""

    def __init__(self, policy: LanePolicy, lane: Priority = INTERACTIVE, run: int = 0) -> None:
        self.policy = policy
        self.lane: Priority = lane
        self.run = run

    def copy(self) -> LaneTurns:
        """An independent copy, for what-if counting."""
        return LaneTurns(self.policy, self.lane, self.run)

    def next(self, interactive_waiting: bool, background_waiting: bool) -> Priority | None:
        """The lane of the next grant given which lanes have waiters (None: nobody waits)."""
        if interactive_waiting and background_waiting:
            chosen = self.lane
            if self.run >= self.policy.burst(self.lane):
                chosen = BACKGROUND if self.lane == INTERACTIVE else INTERACTIVE
        elif interactive_waiting:
            chosen = INTERACTIVE
        elif background_waiting:
            chosen = BACKGROUND
        else:
            return None
        if chosen == self.lane:
            self.run += 1
        else:
            self.lane, self.run = chosen, 1
        return chosen


def grants_before(turns: LaneTurns, lane: Priority, same_ahead: int, other: int) -> int:
    """Grants before a new waiter of ``lane`` whose lane holds ``same_ahead`` waiters and the
    other lane ``other``, counting only the waiters queued now (pure)."""
    sim = turns.copy()
    same, count = same_ahead, 0
    while True:
        interactive, background = (same + 1, other) if lane == INTERACTIVE else (other, same + 1)
        chosen = sim.next(interactive > 0, background > 0)
        if chosen == lane:
            if same == 0:
                return count
            same -= 1
        else:
            other -= 1
        count += 1


def queue_budget(
    now: float,
    *,
    deadline_at: float | None = None,
    service: float = 0.0,
    max_queue_wait: float | None = None,
) -> float | None:
    """Seconds a call may wait for its slot (None: no limit; pure).

    With a deadline the slot must come early enough for the request itself (``service``:
    the recent request latency) to end by ``deadline_at``; ``max_queue_wait`` caps the wait
    on its own. Both given: the smaller.
    """
    budgets = []
    if deadline_at is not None:
        budgets.append(deadline_at - now - service)
    if max_queue_wait is not None:
        budgets.append(max_queue_wait)
    return min(budgets) if budgets else None


def retry_after(wait: float, budget: float, spacing: float) -> float:
    """When a refused call would fit, were nobody else to arrive (at least one spacing)."""
    return round(max(spacing, wait - budget), 3)


def pacing_of(limiter: RateLimiter) -> tuple[float, float]:
    """``(spacing, pause left)`` of a limiter, seconds; 0.1 s and no pause when it cannot say."""
    spacing = float(getattr(limiter, "spacing", 0.1))
    slowdown = getattr(limiter, "slowdown", None)
    pause = 0.0
    if slowdown is not None:
        spacing *= float(getattr(slowdown, "factor", 1.0))
        clock = getattr(slowdown, "clock", time.monotonic)
        pause = max(0.0, float(getattr(slowdown, "paused_until", 0.0)) - float(clock()))
    return spacing, pause


class _Waiter:
    __slots__ = ("future", "lane")

    def __init__(self, future: asyncio.Future[None], lane: Priority) -> None:
        self.future = future
        self.lane = lane


class AdmissionQueue:
    """The lanes and the gate in front of a limiter (one per limiter).

    ``on_change`` is called with the queue after every change (the client refreshes its
    [`ClientStats`][douyin_async.stats.ClientStats] there).
    """

    def __init__(
        self,
        policy: LanePolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[AdmissionQueue], None] = lambda _queue: None,
    ) -> None:
        self.policy = policy or LanePolicy()
        self.turns = LaneTurns(self.policy)
        self.clock = clock
        self.lanes: dict[Priority, deque[_Waiter]] = {lane: deque() for lane in PRIORITIES}
        self.gate_busy = False
        self.spacing = 0.1
        self.pause = 0.0
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
        return before + (1 if self.gate_busy else 0)

    def estimate(self, lane: Priority = INTERACTIVE) -> float:
        """Seconds a call of ``lane`` arriving now would wait for its slot."""
        return self.ahead(lane) * self.spacing + self.pause

    async def acquire(
        self,
        limiter: RateLimiter,
        *,
        priority: Priority = INTERACTIVE,
        budget: float | None = None,
        endpoint: str = "",
    ) -> None:
        """Wait for a slot of ``limiter`` in lane order, or raise
        [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError] when it cannot come
        within ``budget`` seconds (at once when the estimate says so)."""
        if priority not in PRIORITIES:
            raise InvalidParameterError(f"priority must be 'interactive' or 'background', "
                                        f"got {priority!r}")
        self.spacing, self.pause = pacing_of(limiter)
        ahead = self.ahead(priority)
        wait = ahead * self.spacing + self.pause
        if budget is not None and wait > budget:
            self.refused += 1
            self._on_change(self)
            raise self._error(wait, budget, ahead, priority, endpoint, late=False)
        give_up_at = None if budget is None else self.clock() + budget
        if not self.gate_busy and not self.queued():
            self.gate_busy = True
            self._on_change(self)
        else:
            await self._queue(priority, budget, wait, ahead, endpoint)
        try:
            if give_up_at is None:
                await limiter.acquire()
            else:
                try:
                    async with asyncio.timeout(max(0.0, give_up_at - self.clock())):
                        await limiter.acquire()
                except TimeoutError:
                    self.refused_late += 1
                    raise self._error(wait, budget or 0.0, ahead, priority, endpoint,
                                      late=True) from None
        finally:
            self._release()

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
        """Hand the gate to the next waiter in lane order, or open it."""
        while True:
            lane = self.turns.next(bool(self.lanes[INTERACTIVE]), bool(self.lanes[BACKGROUND]))
            if lane is None:
                self.gate_busy = False
                break
            waiter = self.lanes[lane].popleft()
            if not waiter.future.done():
                waiter.future.set_result(None)
                break
        self._on_change(self)

    def _error(self, wait: float, budget: float, ahead: int, priority: Priority,
               endpoint: str, *, late: bool) -> QueueTimeoutError:
        after = retry_after(wait, budget, self.spacing)
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
    """

    def __init__(
        self,
        stats: Any,
        *,
        policy: LanePolicy | None = None,
        max_queue_wait: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_queue_wait is not None and (isinstance(max_queue_wait, bool) or not isinstance(
                max_queue_wait, int | float) or not max_queue_wait > 0):
            raise InvalidParameterError("max_queue_wait must be a positive number of seconds")
        self.stats = stats
        self.policy = policy or LanePolicy()
        self.max_queue_wait = max_queue_wait
        self.clock = clock
        self._queues: dict[int, AdmissionQueue] = {}

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
        queue = self._queues.get(id(limiter))
        if queue is None:
            queue = AdmissionQueue(self.policy, clock=self.clock, on_change=self._changed)
            self._queues[id(limiter)] = queue
        return queue

    async def acquire(self, limiter: RateLimiter, options: CallOptions, *, endpoint: str = "",
                      service: float = 0.0) -> None:
        """A slot of ``limiter`` for a call with ``options`` whose request takes about
        ``service`` seconds, or [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError]."""
        budget = queue_budget(self.clock(), deadline_at=options.deadline_at, service=service,
                              max_queue_wait=self.max_queue_wait)
        await self.queue(limiter).acquire(limiter, priority=options.priority, budget=budget,
                                          endpoint=endpoint)

    def _changed(self, _queue: AdmissionQueue) -> None:
        queues = self._queues.values()
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

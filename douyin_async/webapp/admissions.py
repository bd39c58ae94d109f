"""A client's admission queues, one per limiter, and the stats they keep current.

[`Admissions`][douyin_async.webapp.admissions.Admissions] turns a call's deadline into the
budget of its wait for a slot and hands it to the
[`AdmissionQueue`][douyin_async.webapp.admission.AdmissionQueue] of the endpoint's limiter; a
stream asks once for all the pages it needs
([`admit`][douyin_async.webapp.admissions.Admissions.admit]).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from ..errors import InvalidParameterError
from ..pacing.limiter import RateLimiter
from .admission import AdmissionQueue, CallOptions, pacing_of
from .lanes import BACKGROUND, INTERACTIVE, PRIORITIES, LanePolicy, Priority, queue_budget
from .pace import loop_time


class Admissions:
    """A client's admission queues (one per distinct limiter) and their figures.

    ``stats`` is the client's [`ClientStats`][douyin_async.stats.ClientStats]: its queue
    gauges and refusal counts are kept current here. ``max_queue_wait`` is the client-wide
    budget of a call's wait for a slot (None: unbounded unless the call has a deadline).

    A call with a deadline must get its slot early enough for its request to end in time:
    ``service_factor`` times the recent request latency plus ``headroom`` seconds before
    the deadline (1.5 x and 0.1 s by default: latency varies, and decoding and the caller's
    own answer take time too). ``depth``: how many calls may be inside the ``acquire()`` of a
    limiter that is not `in_process` ([`RateLimiter`][douyin_async.RateLimiter]; the client
    passes its ``max_concurrency``).
    """

    def __init__(
        self,
        stats: Any,
        *,
        policy: LanePolicy | None = None,
        max_queue_wait: float | None = None,
        clock: Callable[[], float] = loop_time,
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

    def budget(self, options: CallOptions, service: float) -> float | None:
        """Seconds a call with ``options`` may wait for its slot when its request takes
        about ``service`` seconds."""
        return queue_budget(self.clock(), deadline_at=options.deadline_at,
                            service=service * self.service_factor + self.headroom,
                            max_queue_wait=self.max_queue_wait)

    def slot(self, limiter: RateLimiter, options: CallOptions, *, endpoint: str = "",
             service: float = 0.0, concurrency: asyncio.Semaphore | None = None,
             ) -> contextlib.AbstractAsyncContextManager[Callable[[], None]]:
        """``async with ... as sent``: a slot of ``limiter`` for a call with ``options`` whose
        request takes about ``service`` seconds, holding a ``concurrency`` unit for the
        block (call ``sent()`` when the request has left); or
        [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError]."""
        return self.queue(limiter).slot(limiter, priority=options.priority,
                                        budget=self.budget(options, service),
                                        endpoint=endpoint, concurrency=concurrency)

    def admit(self, limiter: RateLimiter, options: CallOptions, pages: int, *,
              endpoint: str = "", service: float = 0.0) -> None:
        """Admit ``pages`` requests of one call together, or refuse them all at once with
        [`QueueTimeoutError`][douyin_async.errors.QueueTimeoutError] before any is sent:
        a stream that cannot have its last page in time should not send its first."""
        queue = self.queue(limiter)
        queue.spacing, queue.pause = pacing_of(limiter)
        queue.check(self.budget(options, service), options.priority, endpoint, pages)

    def _changed(self, _queue: AdmissionQueue) -> None:
        if len(self._queues) == 1:  # one limiter (the common case): no sums to make
            self._one_changed(self._queues[0][1])
            return
        queues = [queue for _, queue in self._queues]
        self.stats.queued = sum(q.queued() for q in queues)
        self.stats.queued_background = sum(q.queued(BACKGROUND) for q in queues)
        self.stats.estimated_wait = round(max((q.estimate() for q in queues), default=0.0), 3)
        self.stats.queue_timeouts = sum(q.refused + q.refused_late for q in queues)
        self.stats.queue_timeouts_late = sum(q.refused_late for q in queues)
        self.stats.saved_requests = sum(q.saved for q in queues)

    def _one_changed(self, queue: AdmissionQueue) -> None:
        stats = self.stats
        stats.queued = queue.queued()
        stats.queued_background = queue.queued(BACKGROUND)
        stats.estimated_wait = round(queue.estimate(), 3)
        stats.queue_timeouts = queue.refused + queue.refused_late
        stats.queue_timeouts_late = queue.refused_late
        stats.saved_requests = queue.saved


__all__ = ["Admissions"]

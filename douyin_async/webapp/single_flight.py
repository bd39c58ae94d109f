"""Single flight: identical requests in flight share one API call.

Fifty viewers of the same page at the same moment need one answer, not fifty requests of a
budget of ten per second. [`SingleFlight`][douyin_async.webapp.single_flight.SingleFlight] runs the
first
call for a key as a task of its own; every identical call that arrives while it is in flight
waits for that task and gets the same answer, or the same error.

Keys name what the request asks for (the endpoint and the exact request body, see
[`flight_key`][douyin_async.webapp.single_flight.flight_key]); one client serves one app, so a
client's
table never mixes apps. Keys never contain the access token.

Cancellation: each waiter may leave (its own deadline, a closed browser) without affecting
the others; the shared call goes on while at least one waiter is left. When the *last*
waiter leaves, the call is cancelled: nobody is left to read its answer, and a request that
is still queued for a slot is not worth sending.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


def flight_key(endpoint: str, body: bytes) -> str:
    """The identity of a request: its endpoint and a digest of its exact body (no token)."""
    return endpoint + "#" + hashlib.sha256(body).hexdigest()


class _Flight(Generic[V]):
    __slots__ = ("task", "waiters")

    def __init__(self, task: asyncio.Task[V]) -> None:
        self.task = task
        self.waiters = 0


class SingleFlight(Generic[V]):
    """Identical calls in flight share one run (one table per client).

    ``shared`` counts the calls that joined a flight instead of starting one;
    ``in_flight`` is the number of distinct calls running now.
    """

    def __init__(self) -> None:
        self._flights: dict[Hashable, _Flight[V]] = {}
        self.shared = 0

    @property
    def in_flight(self) -> int:
        """Distinct calls running now."""
        return len(self._flights)

    async def run(self, key: Hashable, start: Callable[[], Awaitable[V]]) -> V:
        """The answer of ``start()``, shared with every call of the same ``key`` in flight.

        ``start`` is called only when no flight of ``key`` is running. Its result (or its
        exception) goes to every waiter. A waiter that is cancelled leaves alone; the run is
        cancelled when its last waiter leaves.
        """
        flight = self._flights.get(key)
        if flight is None:
            flight = _Flight(asyncio.ensure_future(start()))
            self._flights[key] = flight
            flight.task.add_done_callback(functools.partial(self._done, key, flight))
        else:
            self.shared += 1
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                # The last waiter left: nobody wants the answer any more.
                self._forget(key, flight)
                flight.task.cancel()
                await asyncio.wait([flight.task])
                if not flight.task.cancelled():
                    flight.task.exception()  # retrieved: it has no reader left

    def _done(self, key: Hashable, flight: _Flight[V], _task: asyncio.Task[V]) -> None:
        self._forget(key, flight)

    def _forget(self, key: Hashable, flight: _Flight[V]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]


async def shared(flights: SingleFlight[Any] | None, endpoint: str, body: bytes,
                 start: Callable[[], Awaitable[V]], stats: Any = None) -> V:
    """``start()``, shared with identical calls (``body``: the request's exact bytes) in
    flight when ``flights`` is on; the count of shared calls goes to
    ``stats.shared_flights``."""
    if flights is None:
        return await start()
    try:
        result: V = await flights.run(flight_key(endpoint, body), start)
    finally:
        if stats is not None:
            stats.shared_flights = flights.shared
    return result


__all__ = ["SingleFlight", "flight_key", "shared"]

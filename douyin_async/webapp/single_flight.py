"""Single flight: identical requests in flight share one API call.

Fifty viewers of the same page at the same moment need one answer, not fifty requests of a
budget of ten per second. [`SingleFlight`][douyin_async.webapp.single_flight.SingleFlight]
runs the first call for a key as a task of its own; every identical call that arrives while
it is in flight waits for that task and gets the same answer, or the same error.

Keys name what the request asks for (the endpoint and the exact request body, see
[`flight_key`][douyin_async.webapp.single_flight.flight_key]); one client serves one app, so
a client's table never mixes apps. Keys never contain the access token.

Cancellation: each waiter may leave (its own deadline, a closed browser) without affecting
the others; the shared call goes on while at least one waiter is left. When the *last*
waiter leaves, the call is cancelled: nobody is left to read its answer, and a request that
is still queued for a slot is not worth sending.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


def flight_key(endpoint: str, body: bytes) -> str:
    """The identity of a request: its endpoint and a digest of its exact body (no token)."""
    return endpoint + "#" + hashlib.sha256(body).hexdigest()


class _Flight(Generic[V]):
    __slots__ = ("task", "waiters")

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        #: One future per caller waiting for the answer (a caller that leaves cancels its
        #: own, never the call).
        self.waiters: list[asyncio.Future[V]] = []


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
        loop = asyncio.get_running_loop()
        flight = self._flights.get(key)
        waiter: asyncio.Future[V] = loop.create_future()
        if flight is None:
            flight = self._flights[key] = _Flight()
            flight.waiters.append(waiter)  # before the task: an eager one may end at once
            flight.task = loop.create_task(self._lead(key, flight, start))
        else:
            self.shared += 1
            flight.waiters.append(waiter)
        try:
            return await waiter
        finally:
            if waiter.cancelled() or not waiter.done():  # left before the answer
                flight.waiters.remove(waiter)
                task = flight.task
                if not flight.waiters and task is not None and not task.done():
                    # The last waiter left: nobody wants the answer any more.
                    self._forget(key, flight)
                    task.cancel()
                    await asyncio.wait([task])

    async def _lead(self, key: Hashable, flight: _Flight[V],
                    start: Callable[[], Awaitable[V]]) -> None:
        """The shared call, run as a task of its own: it hands its answer (or its error) to
        each waiter itself, so that they resume in the same turn of the loop."""
        error: BaseException | None = None
        try:
            result = await start()
        except BaseException as exc:
            error = exc
        self._forget(key, flight)
        for waiter in flight.waiters:
            if waiter.done():
                continue
            if error is None:
                waiter.set_result(result)
            elif isinstance(error, asyncio.CancelledError):
                waiter.cancel()
            else:
                waiter.set_exception(error)
        if error is not None and not isinstance(error, Exception):
            raise error  # cancelled, or the process stopping: the task ends as told

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

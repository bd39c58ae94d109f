"""Single flight: identical calls share one run, its answer and its error; cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from douyin_async.errors import ServerError
from douyin_async.webapp.single_flight import SingleFlight, flight_key


class Call:
    """A controllable call: counts starts, finishes when told."""

    def __init__(self) -> None:
        self.starts = 0
        self.cancelled = 0
        self.release = asyncio.Event()
        self.result: object = "page"

    async def __call__(self) -> object:
        self.starts += 1
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_key_is_endpoint_and_body_only() -> None:
    assert flight_key("/a/", b'{"page":1}') == flight_key("/a/", b'{"page":1}')
    assert flight_key("/a/", b'{"page":1}') != flight_key("/a/", b'{"page":2}')
    assert flight_key("/a/", b"{}") != flight_key("/b/", b"{}")


async def test_identical_calls_share_one_run_and_its_answer() -> None:
    flights: SingleFlight[object] = SingleFlight()
    call = Call()
    waiters = [asyncio.ensure_future(flights.run("k", call)) for _ in range(50)]
    await settle()
    assert flights.in_flight == 1
    call.release.set()
    results = await asyncio.gather(*waiters)
    assert call.starts == 1
    assert all(r is results[0] for r in results)
    assert flights.shared == 49
    assert flights.in_flight == 0


async def test_different_keys_run_separately() -> None:
    flights: SingleFlight[object] = SingleFlight()
    call = Call()
    call.release.set()
    await asyncio.gather(flights.run("a", call), flights.run("b", call))
    assert call.starts == 2
    assert flights.shared == 0


async def test_the_error_goes_to_every_waiter_and_is_not_remembered() -> None:
    flights: SingleFlight[object] = SingleFlight()
    call = Call()
    call.result = ServerError(28001005, "busy", endpoint="/a/")
    waiters = [asyncio.ensure_future(flights.run("k", call)) for _ in range(3)]
    await settle()
    call.release.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, ServerError) for r in results)
    assert call.starts == 1
    # The next call after the flight ended starts afresh (errors are not kept).
    call.result = "page"
    assert await flights.run("k", call) == "page"
    assert call.starts == 2


async def test_cancelling_one_waiter_leaves_the_call_to_the_others() -> None:
    flights: SingleFlight[object] = SingleFlight()
    call = Call()
    first = asyncio.ensure_future(flights.run("k", call))
    second = asyncio.ensure_future(flights.run("k", call))
    await settle()
    first.cancel()
    await settle()
    assert first.cancelled()
    assert call.cancelled == 0
    call.release.set()
    assert await second == "page"
    assert call.starts == 1


async def test_the_call_is_cancelled_when_its_last_waiter_leaves() -> None:
    flights: SingleFlight[object] = SingleFlight()
    call = Call()
    waiters = [asyncio.ensure_future(flights.run("k", call)) for _ in range(2)]
    await settle()
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    assert call.cancelled == 1
    assert flights.in_flight == 0
    # A later call does not join the cancelled run.
    call.release.set()
    assert await flights.run("k", call) == "page"
    assert call.starts == 2


async def test_a_waiter_cancelled_by_its_deadline_does_not_cancel_the_shared_call() -> None:
    flights: SingleFlight[object] = SingleFlight()
    call = Call()
    patient = asyncio.ensure_future(flights.run("k", call))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await flights.run("k", call)
    call.release.set()
    assert await patient == "page"
    assert call.cancelled == 0


def _eager(loop: asyncio.AbstractEventLoop, coro: Any, **_: Any) -> asyncio.Task[Any]:
    """A task factory that runs a coroutine at once, as Python 3.12's eager tasks do (enough
    for coroutines that end without pausing, which is all this test starts)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        value = stop.value

        async def done() -> Any:
            return value

        return asyncio.Task(done(), loop=loop)
    raise AssertionError("the coroutine paused")


async def test_a_call_that_ends_at_once_under_eager_tasks_answers_its_caller() -> None:
    """With an eager task factory the shared call may end inside ``create_task``; its
    caller, already waiting, still gets the answer, or the error."""
    flights: SingleFlight[object] = SingleFlight()
    loop = asyncio.get_running_loop()

    async def page() -> object:
        return "page"

    async def refused() -> object:
        raise ServerError(28001005, "busy", endpoint="/a/")

    loop.set_task_factory(_eager)
    try:
        async with asyncio.timeout(1):  # a caller left waiting for ever fails here
            assert await flights.run("k", page) == "page"
            with pytest.raises(ServerError):
                await flights.run("k", refused)
    finally:
        loop.set_task_factory(None)
    assert flights.in_flight == 0

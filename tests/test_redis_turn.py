"""The send turn of the Redis limiter, against a real redis-server: two limiters with their own
connections share one app's quota as two processes would, and a request held back between its
slot and its departure (a busy event loop, a new connection) still leaves one spacing after
the last departure, counted from the recorded departures and by the sandbox. Slots that go
unused are given back."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from douyin_async import DouyinClient, TalentMediaQuery
from douyin_async.http.transport import AiohttpTransport, Request, Response
from douyin_async.pacing.redis_limiter import RedisRateLimiter, connect
from douyin_async.sandbox import ManualClock, Sandbox, max_in_window
from douyin_async.sync import TaskVideoSource

if TYPE_CHECKING:
    from redis_server import RedisServer

pytest_plugins = ["redis_server"]
pytestmark = pytest.mark.timing

#: How long the held-back request stays between its slot and its departure, seconds.
HELD = 0.3


async def test_a_late_departure_is_not_followed_closely_by_another_process(
        redis_server: RedisServer) -> None:
    connections = [connect(redis_server.url) for _ in range(2)]
    limiters = [RedisRateLimiter(c, app="late-departure", rate=10) for c in connections]
    departures: list[float] = []
    loop = asyncio.get_running_loop()

    async def send(limiter: RedisRateLimiter, count: int, late: int | None) -> None:
        for n in range(count):
            sent = await limiter.take()
            if n == late:  # held back between its slot and its departure
                await asyncio.sleep(HELD)
            departures.append(loop.time())
            sent()

    try:
        await asyncio.gather(send(limiters[0], 15, late=4), send(limiters[1], 15, late=None),
                             send(limiters[1], 15, late=None))
        for limiter in limiters:
            await limiter.aclose()
    finally:
        for connection in connections:
            await connection.aclose()
    departures.sort()
    assert len(departures) == 45
    assert max_in_window(departures, 1.0) <= 10
    assert sum(limiter.turn_waits for limiter in limiters) >= 1  # the late one held the turn


class HeldBack(AiohttpTransport):
    """The real transport, holding its `late`-th request back before it is written."""

    def __init__(self, late: int) -> None:
        super().__init__()
        self.late = late
        self.count = 0

    async def send(self, request: Request) -> Response:
        self.count += 1
        if self.count == self.late:
            await asyncio.sleep(HELD)
        return await super().send(request)


async def test_a_held_back_request_draws_no_refusal(
        redis_server: RedisServer, douyin_sandbox: Sandbox) -> None:
    """Two clients of one app, each with its own Redis connection; one of the first's
    requests is held back after its slot. The sandbox refuses every request over 10 in a
    rolling second."""
    connections = [connect(redis_server.url) for _ in range(2)]
    limiters = [RedisRateLimiter(c, app="held-back", rate=10) for c in connections]
    clients = [DouyinClient(douyin_sandbox.token, base_url=douyin_sandbox.url, limiter=limiter,
                            transport=HeldBack(late), max_retries=0)
               for limiter, late in zip(limiters, (6, 0), strict=True)]

    async def pull(client: DouyinClient, first: int) -> None:
        for n in range(first, first + 14):
            await client.fetch_page(TalentMediaQuery(plan_id=1000 + n, douyin_id="t",
                                                     page_size=5))

    try:
        await asyncio.gather(*(pull(c, 100 * i + t * 20) for i, c in enumerate(clients)
                               for t in range(2)))
    finally:
        for client in clients:
            await client.close()
        for limiter in limiters:
            await limiter.aclose()
        for connection in connections:
            await connection.aclose()
    log = douyin_sandbox.log
    assert log.counts() == {"ok": 56}
    assert log.max_in_rolling_window(1.0) <= 10


async def test_a_slot_left_while_waiting_is_given_back(redis_client: Any) -> None:
    crowd = RedisRateLimiter(redis_client, app="given-back")
    for _ in range(5):  # half a second of queue
        await crowd.reserve()
    before = float(await redis_client.hget(crowd.key, "tat"))
    limiter = RedisRateLimiter(redis_client, app="given-back")
    waiting = asyncio.ensure_future(limiter.take())
    while float(await redis_client.hget(crowd.key, "tat")) == before:
        await asyncio.sleep(0.001)  # booked: asleep until its slot
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await limiter.aclose()  # the give-back is written
    assert float(await redis_client.hget(crowd.key, "tat")) == before


async def test_an_unused_turn_is_handed_on_and_its_slot_given_back(redis_client: Any) -> None:
    limiter = RedisRateLimiter(redis_client, app="unused")
    turn = await limiter.take()
    assert await redis_client.hget(limiter.key, "holder") is not None
    for _ in range(3):  # others queue behind it
        await limiter.reserve()
    before = float(await redis_client.hget(limiter.key, "tat"))
    turn.unused()
    turn()  # once only: nothing more
    await limiter.aclose()
    assert await redis_client.hget(limiter.key, "holder") is None
    assert await redis_client.hget(limiter.key, "sent") is None  # nothing left
    spacing = round(limiter.spacing * 1_000_000)
    assert float(await redis_client.hget(limiter.key, "tat")) == before - spacing


async def test_a_holder_that_never_reports_frees_the_turn_after_max_hold(
        redis_client: Any) -> None:
    dead = RedisRateLimiter(redis_client, app="dead-holder", max_hold=0.2)
    await dead.take()  # its process dies: never reported
    dead_since = float(await redis_client.hget(dead.key, "held"))
    alive = RedisRateLimiter(redis_client, app="dead-holder", max_hold=0.2)
    sent = await alive.take()
    sent()
    await alive.aclose()
    assert alive.turn_waits >= 1
    held = float(await redis_client.hget(alive.key, "held"))
    due = float(await redis_client.hget(alive.key, "sent"))
    hold, spacing = 200_000, round(alive.spacing * 1_000_000)
    assert held >= dead_since + hold  # taken once the dead holder's hold ran out
    assert due >= held + spacing  # the next departure: a spacing after this one left


NOW = 1_760_000_000.0


@pytest.mark.douyin_sandbox(seed=7, videos_per_hour=1, authors=40, clock=ManualClock(NOW))
async def test_slots_of_pages_past_the_end_go_back_to_the_queue(
        redis_server: RedisServer, douyin_sandbox: Sandbox) -> None:
    """A task-video unit asks pages ahead of the end it does not know yet; those still
    waiting for their slots when the end turns up are left, and their slots, booked in Redis,
    go back to the queue: right after the unit, the queue holds no slot of it."""
    connections = [connect(redis_server.url) for _ in range(2)]
    limiter = RedisRateLimiter(connections[0], app="units")
    other = RedisRateLimiter(connections[1], app="units")  # another process of the app
    source = TaskVideoSource(page_size=100)
    queued = []
    try:
        for day in (dt.date(2025, 10, 8), dt.date(2025, 10, 7)):
            async with DouyinClient(douyin_sandbox.token, base_url=douyin_sandbox.url,
                                    limiter=limiter, clock=lambda: NOW) as client:
                async for _ in client.pull(source.windows(client, day, NOW)):
                    pass
                assert client.stats.requests >= 15  # pages ahead were asked for
            await limiter.aclose()  # what was given back is written
            queued.append((await other.reserve()).wait)
    finally:
        for connection in connections:
            await connection.aclose()
    assert douyin_sandbox.log.counts() == {"ok": len(douyin_sandbox.log)}
    assert max(queued) <= 2 * limiter.spacing  # its next slot at most, not those it left

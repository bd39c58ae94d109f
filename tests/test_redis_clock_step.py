"""A step of Redis's clock, on a fake clock inside the scripts (Redis's ``TIME`` plus a number
of seconds kept at a key the test sets): three limiters with their own connections and clocks
share one app's quota over the sandbox, which counts every request in a rolling second.

Before the shared clock, slots booked either side of a step overlapped (up to twice the cap in
a rolling second) or fell a whole step away (a minute with no request after a +60 s step)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from douyin_async import DouyinClient, TalentMediaQuery
from douyin_async.pacing.redis_limiter import RedisRateLimiter, connect
from douyin_async.pacing.redis_scripts import REDIS_TIME, limiter_scripts
from douyin_async.sandbox import Sandbox

if TYPE_CHECKING:
    from redis_server import RedisServer

pytest_plugins = ["redis_server"]
pytestmark = pytest.mark.timing

STEP_KEY = "fake-clock-step"
#: Redis's TIME moved by the seconds stored at STEP_KEY: a clock a test can step.
FAKE_TIME = (f"(function() local t = {REDIS_TIME}; "
             f"local s = tonumber(redis.call('GET', '{STEP_KEY}') or '0'); "
             "return {tonumber(t[1]) + s, t[2]} end)()")
RATE = 10


async def pull_across_a_step(server: RedisServer, sandbox: Sandbox, step: float,
                             seconds: float = 3.0, step_at: float = 1.2
                             ) -> tuple[list[float], list[RedisRateLimiter]]:
    """Pull with three limiters for ``seconds``, stepping the fake clock at ``step_at``;
    the arrival times the sandbox logged, and the limiters."""
    redis = [connect(server.url) for _ in range(3)]
    await redis[0].delete(STEP_KEY)
    scripts = limiter_scripts(FAKE_TIME)
    limiters = [RedisRateLimiter(r, app=f"stepped{step}", rate=RATE, scripts=scripts)
                for r in redis]
    clients = [DouyinClient(sandbox.token, base_url=sandbox.url, limiter=limiter,
                            max_retries=0) for limiter in limiters]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def pull(client: DouyinClient, index: int) -> None:
        query = TalentMediaQuery(plan_id=1000 + index, douyin_id="t", page_size=5)
        while loop.time() < deadline:
            await client.fetch_page(query, 1)

    async def stepper() -> None:
        await asyncio.sleep(step_at)
        await redis[0].set(STEP_KEY, step)

    tasks = [asyncio.create_task(pull(c, 10 * n + i)) for n, c in enumerate(clients)
             for i in range(4)]
    tasks.append(asyncio.create_task(stepper()))
    try:
        done, pending = await asyncio.wait(tasks, timeout=seconds + 2)
        for task in pending:  # a limiter asleep a whole step away
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()
    finally:
        for client in clients:
            await client.close()
        for connection in redis:
            await connection.aclose()
    return sorted(e.monotonic for e in sandbox.log.entries()), limiters


def rolling_max(times: list[float]) -> int:
    return max((sum(1 for u in times if t <= u < t + 1.0) for t in times), default=0)


@pytest.mark.parametrize("step", [60, -60, 3, -3, 0.5, -0.5])
async def test_a_step_of_redis_clock_neither_bursts_nor_stalls(
        redis_server: RedisServer, douyin_sandbox: Sandbox, step: float) -> None:
    arrivals, limiters = await pull_across_a_step(redis_server, douyin_sandbox, step)
    assert rolling_max(arrivals) <= RATE
    assert douyin_sandbox.log.counts() == {"ok": len(arrivals)}
    first = arrivals[0]
    after = [t for t in arrivals if t >= first + 1.4]  # the step came at about 1.2 s
    assert len(after) >= 10  # paced on: no stall of a step's length
    assert sum(limiter.clock_steps for limiter in limiters) >= 1


async def test_the_step_is_absorbed_once_for_every_process(
        redis_server: RedisServer, douyin_sandbox: Sandbox) -> None:
    _, limiters = await pull_across_a_step(redis_server, douyin_sandbox, 60, seconds=2.0,
                                           step_at=0.8)
    epochs = {limiter._booking.epoch for limiter in limiters}
    assert len(epochs) == 1 and epochs != {"0"}  # every limiter is on the one new epoch
    probe = connect(redis_server.url)
    try:
        skew = float(await probe.hget(limiters[0].key, "skew") or 0)
        ttl = await probe.pttl(limiters[0].key)
    finally:
        await probe.aclose()
    assert skew == pytest.approx(60e6, abs=0.05e6)  # added once, not once per process
    assert ttl > 3_600_000  # the skew outlives an idle second: the offsets to it do


def test_the_fake_clock_is_the_real_one_plus_the_step() -> None:
    assert FAKE_TIME.count(REDIS_TIME) == 1 and STEP_KEY in FAKE_TIME


async def test_every_answer_checks_the_clock(redis_client: Any) -> None:
    limiter = RedisRateLimiter(redis_client, app="quiet", scripts=limiter_scripts(FAKE_TIME))
    for _ in range(5):
        await limiter.reserve()
    assert limiter.clock_steps == 0  # no step, none found
    await redis_client.set(STEP_KEY, -30)
    booking = await limiter.reserve()
    assert limiter.clock_steps == 1 and booking.granted
    loop = asyncio.get_running_loop()
    assert booking.due is not None and booking.due - loop.time() < 1  # not 30 s away

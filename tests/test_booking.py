"""When a slot booked on Redis's clock falls due here, and when a caller woke too late."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from douyin_async.pacing.remote_clock import MIN_TOLERANCE, RemoteClock, too_late

pytest_plugins = ["redis_server"]


def test_offset_comes_from_the_fastest_round_trip() -> None:
    clock = RemoteClock()
    # The remote clock runs 1000 s ahead; a slow exchange (its reply read 80 ms late) would
    # put the offset 40 ms off, the fast one bounds it within 1 ms.
    clock.sample(sent=10.0, received=10.08, remote=1010.0)
    clock.sample(sent=20.0, received=20.002, remote=1020.001)
    clock.sample(sent=30.0, received=30.09, remote=1030.005)
    assert clock.best_rtt == pytest.approx(0.002)
    assert clock.local(1040.0) == pytest.approx(40.0, abs=0.001)


def test_an_old_best_sample_is_replaced() -> None:
    clock = RemoteClock()
    clock.sample(0.0, 0.001, 100.0)
    for i in range(300):  # the remote clock drifts 100 ppm: within what a clock may drift
        assert clock.sample(float(i), i + 0.01, 100.0 + i * 1.0001 + 0.005) is None
    assert clock.local(400.0) == pytest.approx(400.0 - 100.0 - 299 * 1e-4, abs=0.002)


@pytest.mark.parametrize("step", [60.0, -60.0, 0.05, -0.05])
def test_a_step_of_the_remote_clock_is_answered_not_learnt(step: float) -> None:
    clock = RemoteClock()
    clock.sample(10.0, 10.002, 1010.001)
    assert clock.sample(20.0, 20.03, 1020.01) is None  # a slow exchange: no step
    found = clock.sample(30.0, 30.002, 1030.001 + step)
    assert found == pytest.approx(step, abs=0.002)
    assert clock.local(1040.0) == pytest.approx(40.0, abs=0.001)  # the offset is kept
    clock.reset(40.0, 40.002, 1040.001 + step)
    assert clock.local(1050.0 + step) == pytest.approx(50.0, abs=0.001)


def test_a_late_read_reply_is_no_step() -> None:
    clock = RemoteClock()
    clock.sample(10.0, 10.001, 1010.0005)
    # The event loop read this reply 3 s late: the interval is wide, never a step.
    assert clock.sample(20.0, 23.0, 1020.0004) is None
    assert clock.sample(30.0, 33.0, 1032.9990) is None


@pytest.mark.parametrize(("late", "margin", "refused"), [
    (0.0, 0.04, False), (0.019, 0.04, False), (0.021, 0.04, True), (0.5, 0.04, True),
    (0.001, 0.0, False), (0.003, 0.0, True),
])
def test_too_late_is_half_the_margin(late: float, margin: float, refused: bool) -> None:
    assert MIN_TOLERANCE == 0.002
    assert too_late(100.0 + late, 100.0, margin) is refused


async def test_a_caller_that_woke_too_late_books_again(redis_client: Any) -> None:
    from douyin_async.pacing.redis_limiter import RedisRateLimiter

    calls: list[float] = []

    async def oversleeping(seconds: float) -> None:
        calls.append(seconds)
        await asyncio.sleep(seconds + (0.06 if len(calls) == 1 else 0.0))

    limiter = RedisRateLimiter(redis_client, app="late", sleep=oversleeping)
    await limiter.acquire()  # the first slot is due at once: no sleep
    await limiter.acquire()  # woke 60 ms late for its slot: gives it up, books the next
    assert limiter.late_rebookings == 1
    assert len(calls) == 2


async def test_a_punctual_caller_never_books_again(redis_client: Any) -> None:
    from douyin_async.pacing.redis_limiter import RedisRateLimiter

    limiter = RedisRateLimiter(redis_client, app="punctual", rate=50)
    for _ in range(10):
        await limiter.acquire()
    assert limiter.late_rebookings == 0

"""The shared pause and widened spacing, on an injected clock."""

from __future__ import annotations

import pytest

from douyin_async import InvalidParameterError, PacedLimiter
from douyin_async.ratelimit import Slowdown


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_no_wait_without_a_rate_limit_answer() -> None:
    clock = Clock()
    slow = Slowdown(0.1, clock=clock)
    assert [slow.reserve() for _ in range(50)] == [0.0] * 50


def test_rate_limit_pauses_every_caller_then_spaces_them_wider() -> None:
    clock = Clock()
    slow = Slowdown(0.1, clock=clock, pause=1.0)
    slow.on_rate_limited()
    assert slow.paused()
    waits = [slow.reserve() for _ in range(4)]
    # all callers wait out the pause, then go at twice the spacing
    assert waits == pytest.approx([1.0, 1.2, 1.4, 1.6])
    clock.now += 5
    assert not slow.paused()
    assert slow.reserve() == 0.0  # the reservations made are in the past


def test_spacing_recovers_with_successes() -> None:
    clock = Clock()
    slow = Slowdown(0.1, clock=clock, recovery=0.5, max_factor=8)
    for _ in range(5):
        slow.on_rate_limited()
    assert slow.factor == 8
    slow.on_success()
    assert slow.factor == 4
    for _ in range(3):
        slow.on_success()
    assert slow.factor == 1.0
    clock.now += 10
    assert slow.reserve() == 0.0


def test_repeated_rate_limits_extend_not_shorten_the_pause() -> None:
    clock = Clock()
    slow = Slowdown(0.1, clock=clock, pause=2.0)
    slow.on_rate_limited()
    clock.now += 1.0
    slow.on_rate_limited()
    assert slow.paused_until == pytest.approx(103.0)


def test_paced_limiter_spacing_and_validation() -> None:
    limiter = PacedLimiter(10)
    assert limiter.spacing == pytest.approx(0.104)
    assert "10" in repr(limiter)
    with pytest.raises(InvalidParameterError):
        PacedLimiter(0)
    with pytest.raises(InvalidParameterError):
        PacedLimiter(10, margin=1.5)


async def test_paced_limiter_sleeps_through_a_pause() -> None:
    clock = Clock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    limiter = PacedLimiter(1000, clock=clock, sleep=sleep, pause=1.5)
    await limiter.acquire()
    assert slept == []
    limiter.on_rate_limited()
    await limiter.acquire()
    assert slept == [pytest.approx(1.5)]

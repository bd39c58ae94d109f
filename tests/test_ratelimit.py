"""The shared pause and widened spacing, on an injected clock."""

from __future__ import annotations

import pytest

from douyin_async import InvalidParameterError, PacedLimiter
from douyin_async.pacing.limiter import Slowdown

#: One table for the widening rule, run against Slowdown here and against the Redis limiter's
#: pause script in test_redis_limiter: (pause, max_factor, report times, applied, factors).
WIDEN_CASES = [
    (1.0, 8.0, [0.0] * 10, [True] + [False] * 9, [2.0] * 10),  # ten concurrent rejections
    (1.0, 8.0, [0.0, 1.0, 2.0, 3.0, 4.0], [True] * 5, [2.0, 4.0, 8.0, 8.0, 8.0]),
    (1.0, 8.0, [0.0, 0.5, 0.99, 1.0, 1.5, 2.0], [True, False, False, True, False, True],
     [2.0, 2.0, 2.0, 4.0, 4.0, 8.0]),
    (2.0, 8.0, [0.0, 1.9, 2.0], [True, False, True], [2.0, 2.0, 4.0]),
    (1.0, 3.0, [0.0, 1.0, 2.0], [True, True, True], [2.0, 3.0, 3.0]),
]


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


@pytest.mark.parametrize(("pause", "max_factor", "times", "applied", "factors"), WIDEN_CASES)
def test_slowdown_widens_once_per_pause_window(
        pause: float, max_factor: float, times: list[float], applied: list[bool],
        factors: list[float]) -> None:
    clock = Clock()
    slow = Slowdown(0.1, clock=clock, pause=pause, max_factor=max_factor)
    seen_applied, seen_factors = [], []
    for t in times:
        clock.now = 100.0 + t
        before = slow.paused_at
        slow.on_rate_limited()
        seen_applied.append(slow.paused_at != before)
        seen_factors.append(slow.factor)
    assert seen_applied == applied and seen_factors == factors


@pytest.mark.parametrize(("pause", "max_factor", "times", "applied", "factors"), WIDEN_CASES)
def test_widen_rule_table(pause: float, max_factor: float, times: list[float],
                          applied: list[bool], factors: list[float]) -> None:
    from douyin_async.pacing.limiter import widen

    factor: float = 1.0
    paused_at: float | None = None
    for t, ok, expected in zip(times, applied, factors, strict=True):
        widened = widen(factor, paused_at, t, pause, max_factor)
        assert (widened is not None) is ok
        if widened is not None:
            factor, paused_at = widened, t
        assert factor == expected


def test_ten_concurrent_rejections_double_the_spacing_once() -> None:
    clock = Clock()
    slow = Slowdown(0.1, clock=clock, pause=1.0, max_factor=8)
    for _ in range(10):
        slow.on_rate_limited()
    assert slow.factor == 2.0  # was 8: every rejection doubled it
    waits = [slow.reserve() for _ in range(3)]
    assert waits == pytest.approx([1.0, 1.2, 1.4])


def test_spacing_recovers_with_successes() -> None:
    clock = Clock()
    slow = Slowdown(0.1, clock=clock, recovery=0.5, max_factor=8)
    for _ in range(5):
        slow.on_rate_limited()
        clock.now += 1.0  # one pause window apart
    assert slow.factor == 8
    slow.on_success()
    assert slow.factor == 4
    for _ in range(3):
        slow.on_success()
    assert slow.factor == 1.0
    clock.now += 10
    assert slow.reserve() == 0.0


def test_rate_limits_inside_the_window_neither_extend_nor_widen() -> None:
    clock = Clock()
    slow = Slowdown(0.1, clock=clock, pause=2.0)
    slow.on_rate_limited()
    clock.now += 1.0
    slow.on_rate_limited()  # an answer to a request sent before the pause began
    assert slow.paused_until == pytest.approx(102.0) and slow.factor == 2.0
    clock.now += 1.0
    slow.on_rate_limited()  # the next window
    assert slow.paused_until == pytest.approx(104.0) and slow.factor == 4.0


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


def test_a_place_given_back_is_taken_by_the_next_caller() -> None:
    clock = Clock()
    slow = Slowdown(0.1, clock=clock, pause=1.0)
    slow.on_rate_limited()
    first, second, third = (slow.take_place() for _ in range(3))
    assert [p.wait for p in (first, second, third)] == pytest.approx([1.0, 1.2, 1.4])
    slow.give_back(third)  # the last place: undone
    assert slow.take_place().wait == pytest.approx(1.4)
    slow.give_back(second)  # an earlier one: a gap, the schedule stays where it was
    assert slow.take_place().wait == pytest.approx(1.6)


async def test_callers_cancelled_while_waiting_do_not_push_the_schedule_ahead() -> None:
    """Views that time out while the spacing is widened leave no places behind them."""
    import asyncio

    clock = Clock()
    never = asyncio.Event()

    async def sleep(seconds: float) -> None:
        await never.wait()

    limiter = PacedLimiter(10, clock=clock, sleep=sleep, pause=1.0)
    limiter.on_rate_limited()
    for _ in range(50):  # one at a time, as the admission gate lets them in
        waiter = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    # the next caller waits out the pause only, not fifty places of widened spacing
    assert limiter.slowdown.reserve() == pytest.approx(1.0)

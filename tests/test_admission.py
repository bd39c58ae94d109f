"""Fail-fast admission and priority lanes: pure decisions, then the gate with a fake limiter."""

from __future__ import annotations

import asyncio

import pytest

from douyin_async.errors import InvalidParameterError, QueueTimeoutError
from douyin_async.pacing.limiter import PacedLimiter, Pacing, RateLimiter
from douyin_async.sandbox import ManualClock
from douyin_async.stats import ClientStats
from douyin_async.webapp.admission import (
    BACKGROUND,
    INTERACTIVE,
    AdmissionQueue,
    LanePolicy,
    LaneTurns,
    grants_before,
    pacing_of,
    queue_budget,
    retry_after,
)
from douyin_async.webapp.admissions import Admissions


class HeldLimiter(RateLimiter):
    """A limiter that hands out a slot only when the test says so; records who got one."""

    def __init__(self, spacing: float = 0.1) -> None:
        self.spacing = spacing
        self.rate = 1.0 / spacing
        self.slots: asyncio.Queue[None] = asyncio.Queue()
        self.acquires = 0

    def pacing(self) -> Pacing:
        return Pacing(self.spacing)

    async def acquire(self) -> None:
        self.acquires += 1
        await self.slots.get()

    def on_rate_limited(self) -> None: ...

    def on_success(self) -> None: ...

    def grant(self, n: int = 1) -> None:
        for _ in range(n):
            self.slots.put_nowait(None)


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


# -- pure decisions -------------------------------------------------------------------------


def test_lanes_alternate_by_weight_while_both_wait() -> None:
    turns = LaneTurns(LanePolicy(interactive_burst=4, background_burst=1))
    order = [turns.next(True, True) for _ in range(10)]
    assert order == [INTERACTIVE] * 4 + [BACKGROUND] + [INTERACTIVE] * 4 + [BACKGROUND]


def test_a_lane_alone_gets_every_grant_and_a_long_run_yields_at_once() -> None:
    turns = LaneTurns(LanePolicy(interactive_burst=3, background_burst=2))
    assert [turns.next(False, True) for _ in range(50)] == [BACKGROUND] * 50
    # Views arrive behind a long background run: they go next, not after the run.
    assert turns.next(True, True) == INTERACTIVE
    assert turns.next(False, False) is None


def test_background_share_and_bound() -> None:
    policy = LanePolicy(interactive_burst=4, background_burst=1)
    assert policy.background_share == pytest.approx(0.2)
    turns = LaneTurns(policy)
    order = [turns.next(True, True) for _ in range(1000)]
    assert order.count(BACKGROUND) == 200
    longest_background_run = max(len(run) for run in "".join(
        "b" if lane == BACKGROUND else " " for lane in order).split())
    assert longest_background_run == policy.background_burst
    with pytest.raises(InvalidParameterError):
        LanePolicy(interactive_burst=0)


def test_grants_before_counts_the_interleaved_lane() -> None:
    policy = LanePolicy(interactive_burst=4, background_burst=1)
    # A view with 8 views and 5 background waiters ahead: 4 I, 1 B, 4 I, 1 B, then it.
    assert grants_before(LaneTurns(policy), INTERACTIVE, 8, 5) == 10
    # A background call behind 2 background and 8 views: I x4, b, I x4, b, then it.
    assert grants_before(LaneTurns(policy), BACKGROUND, 2, 8) == 10
    assert grants_before(LaneTurns(policy), INTERACTIVE, 0, 0) == 0
    assert grants_before(LaneTurns(policy), BACKGROUND, 3, 0) == 3


def test_queue_budget_leaves_time_for_the_request() -> None:
    assert queue_budget(100.0) is None
    assert queue_budget(100.0, deadline_at=102.0, service=0.25) == pytest.approx(1.75)
    assert queue_budget(100.0, max_queue_wait=0.5) == 0.5
    assert queue_budget(100.0, deadline_at=102.0, service=0.25, max_queue_wait=3) == 1.75
    assert retry_after(3.0, 1.0, 0.1) == 2.0
    assert retry_after(1.01, 1.0, 0.1) == 0.1


def test_pacing_of_reads_spacing_and_a_shared_pause() -> None:
    clock = ManualClock()
    limiter = PacedLimiter(10, clock=clock.monotonic)
    assert pacing_of(limiter) == (pytest.approx(0.104), 0.0)
    limiter.on_rate_limited()
    spacing, pause = pacing_of(limiter)
    assert spacing > 0.104 and pause == pytest.approx(1.0)
    clock.advance(0.4)
    assert pacing_of(limiter)[1] == pytest.approx(0.6)


# -- the gate -------------------------------------------------------------------------------


async def test_a_call_that_cannot_make_its_budget_is_refused_at_once() -> None:
    limiter = HeldLimiter(spacing=0.1)
    queue = AdmissionQueue()
    waiting = [asyncio.ensure_future(queue.acquire(limiter)) for _ in range(20)]
    await settle()
    assert queue.queued() == 19 and queue.gate_busy
    assert queue.estimate() == pytest.approx(2.0)
    with pytest.raises(QueueTimeoutError) as caught:
        await queue.acquire(limiter, budget=1.5)
    # 20 ahead x 0.1 s, plus its own slot one more grant away, 5% jitter, against 1.5 s.
    assert caught.value.retry_after == pytest.approx(2.1 * 1.05 - 1.5)
    assert "20 requests ahead" in str(caught.value)
    assert "refused before queueing" in str(caught.value)
    assert limiter.acquires == 1  # only the gate holder reached the limiter
    assert queue.refused == 1
    # A call that fits queues; everybody gets through in order.
    fits = asyncio.ensure_future(queue.acquire(limiter, budget=5.0))
    limiter.grant(21)
    await asyncio.gather(*waiting, fits)
    assert limiter.acquires == 21
    assert not queue.gate_busy and queue.queued() == 0


async def test_one_waiter_at_a_time_reaches_the_limiter_in_lane_order() -> None:
    limiter = HeldLimiter()
    queue = AdmissionQueue(LanePolicy(interactive_burst=2, background_burst=1))
    order: list[str] = []

    async def call(name: str, lane: str) -> None:
        await queue.acquire(limiter, priority=lane)  # type: ignore[arg-type]
        order.append(name)

    first = asyncio.ensure_future(call("b0", BACKGROUND))
    await settle()
    tasks = [asyncio.ensure_future(call(f"b{i}", BACKGROUND)) for i in range(1, 4)]
    await settle()
    tasks += [asyncio.ensure_future(call(f"i{i}", INTERACTIVE)) for i in range(4)]
    await settle()
    for _ in range(8):
        assert limiter.acquires - len(order) == 1  # one at the gate, never more
        limiter.grant()
        await settle()
    await asyncio.gather(first, *tasks)
    assert order == ["b0", "i0", "i1", "b1", "i2", "i3", "b2", "b3"]


async def test_cancelled_waiters_leave_the_queue_and_the_gate_passes_on() -> None:
    limiter = HeldLimiter()
    queue = AdmissionQueue()
    holder = asyncio.ensure_future(queue.acquire(limiter))
    queued = [asyncio.ensure_future(queue.acquire(limiter)) for _ in range(3)]
    await settle()
    queued[0].cancel()
    holder.cancel()  # cancelled inside the limiter's acquire
    await settle()
    assert queue.queued() == 1 and queue.gate_busy
    limiter.grant(2)
    await asyncio.gather(*queued[1:])
    assert holder.cancelled() and queued[0].cancelled()
    assert not queue.gate_busy


async def test_a_queued_call_whose_budget_runs_out_leaves_before_any_slot() -> None:
    limiter = HeldLimiter(spacing=0.001)
    queue = AdmissionQueue()
    holder = asyncio.ensure_future(queue.acquire(limiter))
    await settle()
    with pytest.raises(QueueTimeoutError) as caught:
        await queue.acquire(limiter, budget=0.02)  # admitted: 1 ahead x 1 ms
    assert "ran out in the queue" in str(caught.value)
    assert queue.refused_late == 1 and queue.queued() == 0
    assert limiter.acquires == 1
    limiter.grant()
    await holder


async def test_on_change_reports_the_queue() -> None:
    limiter = HeldLimiter(spacing=0.1)
    seen: list[tuple[int, int, float]] = []
    queue = AdmissionQueue(on_change=lambda q: seen.append(
        (q.queued(), q.queued(BACKGROUND), round(q.estimate(), 3))))
    tasks = [asyncio.ensure_future(queue.acquire(limiter, priority=BACKGROUND))
             for _ in range(3)]
    await settle()
    # A view arriving now goes straight after the gate holder, ahead of the background.
    assert seen[-1] == (2, 2, 0.1)
    assert queue.estimate(BACKGROUND) == pytest.approx(0.3)
    limiter.grant(3)
    await asyncio.gather(*tasks)
    assert seen[-1] == (0, 0, 0.0)


async def test_unknown_priority_is_refused() -> None:
    with pytest.raises(InvalidParameterError):
        await AdmissionQueue().acquire(HeldLimiter(), priority="urgent")  # type: ignore[arg-type]


async def test_a_call_with_nobody_ahead_is_admitted_whatever_its_budget() -> None:
    limiter = HeldLimiter(spacing=0.1)
    queue = AdmissionQueue()
    limiter.grant()
    await queue.acquire(limiter, budget=-0.3)  # the request alone would overrun: still sent
    assert limiter.acquires == 1
    holder = asyncio.ensure_future(queue.acquire(limiter))
    await settle()
    with pytest.raises(QueueTimeoutError):
        await queue.acquire(limiter, budget=-0.3)
    limiter.grant()
    await holder


async def test_the_estimate_follows_the_measured_pace_when_it_is_slower() -> None:
    clock = ManualClock()
    limiter = HeldLimiter(spacing=0.1)
    queue = AdmissionQueue(clock=clock.monotonic)
    tasks = [asyncio.ensure_future(queue.acquire(limiter)) for _ in range(10)]
    await settle()
    assert queue.estimate() == pytest.approx(1.0)  # 10 ahead at the limiter's spacing
    clock.advance(0.1)
    limiter.grant()
    await settle()
    clock.advance(2.0)  # one stall is not the pace
    limiter.grant()
    await settle()
    assert queue.per_grant == pytest.approx(0.1)
    for _ in range(5):  # then slots come every 0.3 s, not every 0.1 s
        clock.advance(0.3)
        limiter.grant()
        await settle()
    assert queue.per_grant == pytest.approx(0.3)  # the median of the last intervals
    assert queue.estimate() == pytest.approx(3 * 0.3)
    limiter.grant(3)
    await asyncio.gather(*tasks)
    # An idle queue forgets the last grant: the next interval is not measured across idling.
    samples = len(queue.pace.samples)
    clock.advance(60)
    limiter.grant()
    await queue.acquire(limiter)
    assert len(queue.pace.samples) == samples


async def test_a_deeper_gate_lets_that_many_waiters_reserve_at_once() -> None:
    limiter = HeldLimiter(spacing=0.1)
    queue = AdmissionQueue(depth=3)
    tasks = [asyncio.ensure_future(queue.acquire(limiter)) for _ in range(5)]
    await settle()
    assert limiter.acquires == 3 and queue.holders == 3 and queue.queued() == 2
    assert queue.ahead() == 5
    limiter.grant(5)
    await asyncio.gather(*tasks)
    assert queue.holders == 0 and limiter.acquires == 5


def test_the_in_process_limiter_gets_a_gate_of_one_and_others_the_client_depth() -> None:
    admissions = Admissions(ClientStats(), depth=10)
    assert admissions.queue(PacedLimiter(10)).depth == 1
    assert admissions.queue(HeldLimiter()).depth == 10  # e.g. the Redis limiter

"""The per-token rolling QPS cap and the request log that measures it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sandbox_helpers import NOW, clocked, media, videos

from douyin_async.sandbox import (
    ManualClock,
    RequestLog,
    Sandbox,
    SandboxConfig,
    SandboxServer,
    fingerprint,
    max_in_window,
)
from douyin_async.sandbox.qps import RollingCap

RATE_LIMITED = 28003018


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def test_rolling_cap_counts_every_arrival() -> None:
    cap = RollingCap(3, 1.0)
    assert [cap.arrive("t", 0.0) for _ in range(4)] == [True, True, True, False]
    assert cap.arrive("t", 0.999) is False
    assert [cap.arrive("t", 1.0) for _ in range(3)] == [True, True, False]
    assert cap.arrive("other", 1.0) is True
    assert all(RollingCap(None).arrive("t", 0.0) for _ in range(100))


async def test_burst_gets_exactly_the_overflow_refused(session: Any) -> None:
    config, clock = clocked(qps=3)
    async with Sandbox(config) as sb:

        async def code() -> int:
            answer = await videos(session, sb, page_size=1)
            return int(answer["err_no"])

        async def media_code(token: str | None = None) -> int:
            answer = await media(session, sb, token=token, page_size=1)
            return int(answer["data"]["error_code"])

        assert [await code() for _ in range(3)] == [0, 0, 0]
        assert await media_code() == RATE_LIMITED  # both endpoints share the count
        clock.advance(0.999)
        assert await code() == RATE_LIMITED
        clock.advance(0.001)
        assert [await code(), await media_code()] == [0, 0]
        assert await code() == RATE_LIMITED
        answer = await media(session, sb, page_size=1)
        assert answer["data"] == {"error_code": RATE_LIMITED, "description": "请求频率过高"}
        assert answer["extra"]["error_code"] == RATE_LIMITED
        assert await media_code(token="other-token") == 2190002  # its own bucket

        log = sb.log
        assert log.counts() == {"ok": 5, "28003018": 4, "2190002": 1}
        assert log.max_in_rolling_window(1.0) == 6
        assert log.max_in_rolling_window(1.0, ok_only=True) == 3
        assert log.max_in_rolling_window(1.0, endpoint="talent_media") == 3
        assert log.max_in_rolling_window(0.001) == 5


async def test_concurrent_burst_never_exceeds_the_cap(session: Any) -> None:
    config = SandboxConfig(qps=10, clock=ManualClock(NOW))  # real monotonic clock
    async with Sandbox(config) as sb:
        answers = await asyncio.gather(*(videos(session, sb, page_size=1) for _ in range(30)))
        # the real clock: the window is measured on the server side, whatever the timing
        ok = sum(a["err_no"] == 0 for a in answers)
        assert 10 <= ok < 30
        assert sb.log.max_in_rolling_window(1.0, ok_only=True) <= 10
        assert len(sb.log) == 30


async def test_no_cap(session: Any) -> None:
    config, _ = clocked(qps=None)
    async with Sandbox(config) as sb:
        answers = await asyncio.gather(*(videos(session, sb, page_size=1) for _ in range(25)))
    assert {a["err_no"] for a in answers} == {0}


async def test_log_entries_describe_each_request(session: Any) -> None:
    config, clock = clocked(qps=1)
    async with Sandbox(config) as sb:
        await videos(session, sb, page_num=4, page_size=7)
        clock.advance(0.25)
        await videos(session, sb, page_num=5, page_size=7)
        await media(session, sb, page_no=2, page_size=3)
    first, second, third = sb.log.entries()
    assert (first.endpoint, first.page, first.page_size, first.outcome, first.http_status) == (
        "task_video", 4, 7, "ok", 200)
    assert (second.page, second.outcome) == (5, "28003018")
    assert (third.endpoint, third.page, third.page_size) == ("talent_media", 2, 3)
    assert second.monotonic - first.monotonic == pytest.approx(0.25)
    assert first.wall == config.clock() - 0.25
    assert first.token == fingerprint("sandbox-token") != "sandbox-token"
    assert len(first.token) == 6
    assert [e.seq for e in sb.log.entries()] == [0, 1, 2]
    assert sb.log.span() == pytest.approx(0.25)
    assert sb.log.achieved_rate() == pytest.approx(2 / 0.25)


def test_max_in_window_is_half_open() -> None:
    times = [0.0, 0.0, 0.5, 0.999, 1.0, 1.5, 1.999, 2.0]
    assert max_in_window(times, 1.0) == 4
    assert max_in_window([0.0, 1.0, 2.0, 3.0], 1.0) == 1
    assert max_in_window([0.0, 0.9999, 2.0], 1.0) == 2
    assert max_in_window([], 1.0) == 0
    log = RequestLog()
    for t in times:
        log.add(t, t, "task_video", "x").outcome = "ok"
    assert log.max_in_rolling_window() == 4
    assert log.max_in_rolling_window(endpoint="talent_media") == 0
    assert log.achieved_rate() == pytest.approx(7 / 2.0)
    log.clear()
    assert len(log) == 0 and log.span() == 0.0 and log.achieved_rate() == 0.0


def test_latency_samples_stay_within_the_jitter() -> None:
    server = SandboxServer(SandboxConfig(latency=0.3, jitter=0.1))
    samples = [server.latency_sample() for _ in range(2000)]
    assert min(samples) >= 0.2 and max(samples) <= 0.4
    assert min(samples) < 0.21 and max(samples) > 0.39
    assert SandboxServer(SandboxConfig()).latency_sample() == 0.0


async def test_latency_is_applied(session: Any) -> None:
    config, _ = clocked(latency=0.02, jitter=0.01)
    async with Sandbox(config) as sb:
        assert (await videos(session, sb, page_size=1))["err_no"] == 0

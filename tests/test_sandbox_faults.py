"""Injected faults, as a client sees them."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from sandbox_helpers import clocked, media, media_body, post_raw, video_body, videos

from douyin_async.sandbox import (
    CLIENT_KEY,
    CLIENT_SECRET,
    CLIENT_TOKEN_PATH,
    FAULT_KINDS,
    TALENT_MEDIA_PATH,
    TASK_VIDEO_PATH,
    Sandbox,
    SandboxConfig,
)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def faulty(**rates: float) -> SandboxConfig:
    config, _ = clocked(qps=None, **rates)
    return config


async def test_server_error(session: Any) -> None:
    async with Sandbox(faulty(server_error_rate=1.0)) as sb:
        assert (await videos(session, sb))["err_no"] == 28001005
        answer = await media(session, sb)
        assert answer["data"]["error_code"] == answer["extra"]["error_code"] == 2100004
    assert sb.log.fault_counts() == {"server_error": 2}
    assert sb.log.counts() == {"28001005": 1, "2100004": 1}


async def test_bad_gateway_is_an_html_502(session: Any) -> None:
    async with Sandbox(faulty(bad_gateway_rate=1.0)) as sb:
        for path, body in ((TASK_VIDEO_PATH, video_body()), (TALENT_MEDIA_PATH, media_body())):
            async with session.post(sb.url + path, json=body,
                                    headers={"access-token": sb.token}) as resp:
                assert resp.status == 502
                assert resp.content_type == "text/html"
                text = await resp.text()
            assert "502 Bad Gateway" in text
            with pytest.raises(orjson.JSONDecodeError):
                orjson.loads(text)
    assert [e.http_status for e in sb.log.entries()] == [502, 502]


async def test_reset_raises_a_client_error(session: Any) -> None:
    async with Sandbox(faulty(reset_rate=1.0)) as sb:
        with pytest.raises(aiohttp.ClientError):
            await post_raw(session, sb.url + TASK_VIDEO_PATH, video_body())
        with pytest.raises(aiohttp.ClientError):
            await post_raw(session, sb.url + TALENT_MEDIA_PATH, media_body())
    assert sb.log.counts() == {"reset": 2}


async def test_cut_body_is_shorter_than_announced(session: Any) -> None:
    async with Sandbox(faulty(cut_body_rate=1.0)) as sb:
        async with session.post(sb.url + TASK_VIDEO_PATH, json=video_body(),
                                headers={"access-token": sb.token}) as resp:
            assert resp.status == 200
            announced = resp.content_length
            assert announced is not None and announced > 0
            received = b""
            with pytest.raises(aiohttp.ClientPayloadError):
                async for chunk in resp.content.iter_any():
                    received += chunk
            assert 0 < len(received) < announced
        with pytest.raises(aiohttp.ClientPayloadError):
            await post_raw(session, sb.url + TALENT_MEDIA_PATH, media_body())
    assert sb.log.counts() == {"cut_body": 2}


async def test_spurious_rate_limit(session: Any) -> None:
    async with Sandbox(faulty(rate_limit_rate=1.0)) as sb:
        assert (await videos(session, sb))["err_no"] == 28003018
        assert (await media(session, sb))["data"]["error_code"] == 28003018
    assert sb.log.fault_counts() == {"rate_limit": 2}


async def test_slow_answer_trips_a_client_timeout(session: Any) -> None:
    async with Sandbox(faulty(slow_rate=1.0, slow_seconds=30.0)) as sb:
        timeout = aiohttp.ClientTimeout(total=0.2)
        with pytest.raises(asyncio.TimeoutError):
            async with session.post(sb.url + TASK_VIDEO_PATH, json=video_body(),
                                    headers={"access-token": sb.token},
                                    timeout=timeout) as resp:
                await resp.read()
        assert sb.log.entries()[0].fault == "slow"


async def test_slow_answer_arrives_when_waited_for(session: Any) -> None:
    async with Sandbox(faulty(slow_rate=1.0, slow_seconds=0.05)) as sb:
        assert (await videos(session, sb))["err_no"] == 0
    assert sb.log.entries()[0].outcome == "ok"


async def test_token_endpoints_have_no_faults(session: Any) -> None:
    async with Sandbox(faulty(reset_rate=1.0)) as sb:
        body = {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET,
                "grant_type": "client_credential"}
        status, raw = await post_raw(session, sb.url + CLIENT_TOKEN_PATH, body, token=None)
        assert status == 200 and orjson.loads(raw)["data"]["error_code"] == 0


async def _fault_sequence(session: Any, config: SandboxConfig, n: int) -> list[str | None]:
    async with Sandbox(config) as sb:
        for _ in range(n):
            with contextlib.suppress(aiohttp.ClientError):
                await post_raw(session, sb.url + TASK_VIDEO_PATH, video_body(page_size=2))
    return [e.fault for e in sb.log.entries()]


async def test_fault_mix_is_seeded_and_proportioned(session: Any) -> None:
    config = faulty(slow_seconds=0.0).with_fault_rate(0.6)
    first = await _fault_sequence(session, config, 150)
    second = await _fault_sequence(session, config, 150)
    assert first == second
    counts = Counter(first)
    assert set(counts) == {None, *FAULT_KINDS}
    assert 45 <= counts[None] <= 75  # 40% of 150 expected
    assert sum(config.fault_rates().values()) == pytest.approx(0.6)


def test_fault_rates_are_checked() -> None:
    with pytest.raises(ValueError):
        SandboxConfig(reset_rate=0.7, cut_body_rate=0.7)
    with pytest.raises(ValueError):
        SandboxConfig(slow_rate=1.5)
    with pytest.raises(ValueError):
        SandboxConfig().with_fault_rate(2.0)

"""RedisRateLimiter against a real redis-server: the scripts' arithmetic (on a fake clock passed
to the script), the Python side (rounds, pauses, failures), and the client over the sandbox."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from redis.crc import key_slot
from test_ratelimit import WIDEN_CASES

from douyin_async import (
    DouyinClient,
    DouyinError,
    InvalidParameterError,
    RateLimitedError,
    RetryPolicy,
    TalentMediaQuery,
    TransportError,
)
from douyin_async.pacing.limiter import RateLimiter
from douyin_async.pacing.redis_limiter import (
    ACQUIRE_SCRIPT,
    LimiterTimeoutError,
    RedisLimiterError,
    RedisRateLimiter,
    Reservation,
    connect,
    limiter_key,
)
from douyin_async.sandbox import Sandbox, fingerprint, max_in_window

if TYPE_CHECKING:
    from redis_server import RedisServer

pytest_plugins = ["redis_server"]  # the redis_server and redis_client fixtures

T0 = 1_700_000_000.0  # a fake Redis clock, unix seconds
SPACING = 0.104  # (1 + 0.04) / 10
SHA = hashlib.sha1(ACQUIRE_SCRIPT.encode()).hexdigest()


def make(redis: Any, **kw: Any) -> RedisRateLimiter:
    kw.setdefault("app", "app")
    return RedisRateLimiter(redis, **kw)


async def state(redis: Any, key: str) -> dict[str, float]:
    raw = await redis.hgetall(key)
    return {k.decode(): float(v) for k, v in raw.items()}


class Sleeps:
    """A sleep that records its arguments and returns at once (or really sleeps)."""

    def __init__(self, real: bool = False) -> None:
        self.calls: list[float] = []
        self.real = real

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.real:
            await asyncio.sleep(seconds)


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- keys and options ------------------------------------------------------------------------


def test_key_is_hash_tagged_per_app() -> None:
    assert limiter_key("my-app") == "{douyin:my-app}:all"
    assert limiter_key("a", "task_video", prefix="x") == "{x:a}:task_video"
    assert key_slot(limiter_key("a", "task_video").encode()) == key_slot(
        limiter_key("a", "talent_media").encode())


@pytest.mark.parametrize("bad", ["", "a{b", "a}b"])
def test_bad_key_parts_are_refused(bad: str) -> None:
    with pytest.raises(InvalidParameterError):
        limiter_key(bad)
    with pytest.raises(InvalidParameterError):
        limiter_key("app", bad)


@pytest.mark.parametrize("kw", [
    {"rate": 0}, {"rate": -1}, {"rate": True}, {"margin": 1.0}, {"margin": -0.1},
    {"pause": 0}, {"max_wait": 0}, {"max_factor": 0.5}, {"recovery": 0},
    {"acquire_timeout": 0}, {"redis_timeout": -1},
])
def test_bad_options_are_refused(kw: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError):
        RedisRateLimiter(object(), app="a", **kw)  # type: ignore[arg-type]


def test_spacing_and_protocol() -> None:
    limiter = RedisRateLimiter(object(), app="a", rate=10)  # type: ignore[arg-type]
    assert limiter.spacing == pytest.approx(SPACING)
    assert limiter.rate == 10.0
    assert isinstance(limiter, RateLimiter)
    assert "{douyin:a}:all" in repr(limiter)
    assert RedisRateLimiter(object(), app="a", rate=5, margin=0).spacing == 0.2  # type: ignore[arg-type]


async def test_url_client_is_resp2_blocking_and_owned(redis_server: RedisServer) -> None:
    async with RedisRateLimiter(redis_server.url, app="url") as limiter:
        assert limiter.redis.connection_pool.connection_kwargs["protocol"] == 2
        assert f"127.0.0.1:{redis_server.port}" in limiter.where
        assert (await limiter.reserve()).granted


# -- the reservation script, on a fake clock -------------------------------------------------


async def test_reservations_are_spaced(redis_client: Any) -> None:
    limiter = make(redis_client)
    waits = [(await limiter.reserve(now=T0)).wait for _ in range(5)]
    assert waits == pytest.approx([0, SPACING, 2 * SPACING, 3 * SPACING, 4 * SPACING])
    assert (await state(redis_client, limiter.key))["tat"] == pytest.approx(
        (T0 + 5 * SPACING) * 1e6)


async def test_time_passing_shortens_the_wait(redis_client: Any) -> None:
    limiter = make(redis_client)
    for _ in range(3):
        await limiter.reserve(now=T0)
    booking = await limiter.reserve(now=T0 + 0.1)
    assert booking.granted
    assert booking.wait == pytest.approx(3 * SPACING - 0.1)


async def test_idle_time_earns_no_burst(redis_client: Any) -> None:
    limiter = make(redis_client)
    await limiter.reserve(now=T0)
    assert (await limiter.reserve(now=T0 + 5)).wait == 0
    assert (await limiter.reserve(now=T0 + 5)).wait == pytest.approx(SPACING)


async def test_queue_longer_than_max_wait_is_refused_and_not_booked(redis_client: Any) -> None:
    limiter = make(redis_client, max_wait=0.3)
    granted = [await limiter.reserve(now=T0) for _ in range(3)]
    assert all(b.granted for b in granted)  # waits 0, .104, .208; the 4th would wait .312
    before = await state(redis_client, limiter.key)
    refused = await limiter.reserve(now=T0)
    assert refused == Reservation(granted=False, wait=round(3 * SPACING, 6))
    assert await state(redis_client, limiter.key) == before


async def test_key_expires_after_the_queue_drains(redis_client: Any) -> None:
    limiter = make(redis_client)
    for _ in range(10):
        await limiter.reserve()
    ttl = await redis_client.pttl(limiter.key)
    assert 1000 + 10 * SPACING * 1000 - 200 < ttl <= 1000 + 10 * SPACING * 1000


async def test_limiters_of_one_key_share_the_quota(redis_server: RedisServer) -> None:
    a_client, b_client = connect(redis_server.url), connect(redis_server.url)
    try:
        a, b = make(a_client, app="shared"), make(b_client, app="shared")
        waits = [(await x.reserve(now=T0)).wait for x in (a, b, a, b)]
        assert waits == pytest.approx([0, SPACING, 2 * SPACING, 3 * SPACING])
        other = make(a_client, app="other")
        assert (await other.reserve(now=T0)).wait == 0
    finally:
        await a_client.aclose()
        await b_client.aclose()


async def test_real_redis_clock(redis_client: Any) -> None:
    limiter = make(redis_client)
    first, second = await limiter.reserve(), await limiter.reserve()
    assert first.wait == 0
    assert SPACING - 0.05 < second.wait <= SPACING


async def test_script_is_reloaded_after_a_flush(redis_client: Any) -> None:
    limiter = make(redis_client)
    await limiter.reserve(now=T0)
    await redis_client.script_flush()
    assert await redis_client.script_exists(SHA) == [False]
    assert (await limiter.reserve(now=T0)).wait == pytest.approx(SPACING)
    assert await redis_client.script_exists(SHA) == [True]


# -- the pause script ------------------------------------------------------------------------


async def test_pause_pushes_the_queue_once_per_window(redis_client: Any) -> None:
    limiter = make(redis_client)
    await limiter.reserve(now=T0)
    assert await limiter.start_pause(now=T0)
    assert not await limiter.start_pause(now=T0 + 0.5)  # same window: no second push
    saved = await state(redis_client, limiter.key)
    assert saved["tat"] == pytest.approx((T0 + SPACING + 1.0) * 1e6)
    assert saved["factor"] == 2
    assert (await limiter.reserve(now=T0 + 0.5)).wait == pytest.approx(SPACING + 0.5)


@pytest.mark.parametrize(("pause", "max_factor", "times", "applied", "factors"), WIDEN_CASES)
async def test_pause_script_follows_the_shared_widening_rule(
        redis_client: Any, pause: float, max_factor: float, times: list[float],
        applied: list[bool], factors: list[float]) -> None:
    limiter = make(redis_client, app=f"widen-{pause}-{max_factor}-{len(times)}", pause=pause,
                   max_factor=max_factor)
    seen_applied, seen_factors = [], []
    for t in times:
        seen_applied.append(await limiter.start_pause(now=T0 + t))
        seen_factors.append((await state(redis_client, limiter.key))["factor"])
    assert seen_applied == applied and seen_factors == factors


async def test_pause_on_an_idle_key(redis_client: Any) -> None:
    limiter = make(redis_client, pause=2.0)
    assert await limiter.start_pause(now=T0)
    assert (await limiter.reserve(now=T0)).wait == pytest.approx(2.0)


async def test_repeated_pauses_widen_up_to_max_factor(redis_client: Any) -> None:
    limiter = make(redis_client, max_factor=8)
    factors = []
    for i in range(5):
        assert await limiter.start_pause(now=T0 + i)
        factors.append((await state(redis_client, limiter.key))["factor"])
    assert factors == [2, 4, 8, 8, 8]


async def test_widened_spacing_recovers_per_reservation(redis_client: Any) -> None:
    limiter = make(redis_client, recovery=0.9)
    await limiter.start_pause(now=T0)
    now = T0 + 10  # the pause is over
    waits = [(await limiter.reserve(now=now)).wait for _ in range(10)]
    gaps = [b - a for a, b in zip(waits, waits[1:], strict=False)]
    assert gaps[0] == pytest.approx(SPACING * 2)
    assert gaps[1] == pytest.approx(SPACING * 2 * 0.9)
    assert gaps[2] == pytest.approx(SPACING * 2 * 0.81)
    assert gaps[-1] == pytest.approx(SPACING)  # back to normal after 7 reservations


# -- acquire: sleeping, rounds, pauses ------------------------------------------------------


async def test_acquire_sleeps_until_the_slot(redis_client: Any) -> None:
    sleeps = Sleeps()
    limiter = make(redis_client, sleep=sleeps)
    for _ in range(3):
        await limiter.acquire()
    assert sleeps.calls == [pytest.approx(SPACING, abs=0.03), pytest.approx(2 * SPACING, abs=0.03)]


async def test_acquire_waits_in_rounds_when_the_queue_is_long(redis_client: Any) -> None:
    crowd = make(redis_client, app="busy", rate=100, max_wait=10)
    for _ in range(20):  # 0.208 s of queue
        await crowd.reserve()
    sleeps = Sleeps(real=True)
    limiter = make(redis_client, app="busy", rate=100, max_wait=0.05, sleep=sleeps)
    started = time.monotonic()
    await limiter.acquire()
    elapsed = time.monotonic() - started
    assert len(sleeps.calls) >= 2  # at least one round, then the granted wait
    assert sleeps.calls[0] == pytest.approx(0.208 - 0.05, abs=0.03)
    assert 0.16 < elapsed < 0.5


async def test_acquire_timeout_is_typed(redis_client: Any) -> None:
    crowd = make(redis_client, app="jammed", max_wait=10)
    for _ in range(20):  # about 2 s of queue
        await crowd.reserve()
    limiter = make(redis_client, app="jammed", max_wait=0.2, acquire_timeout=0.5)
    with pytest.raises(LimiterTimeoutError, match="jammed") as caught:
        await limiter.acquire()
    assert isinstance(caught.value, DouyinError)


async def test_on_rate_limited_pauses_this_and_other_processes(redis_server: RedisServer) -> None:
    here, there = connect(redis_server.url), connect(redis_server.url)
    try:
        sleeps = Sleeps()
        ours = make(here, app="paused", sleep=sleeps)
        theirs = make(there, app="paused")
        await ours.acquire()
        ours.on_rate_limited()
        ours.on_rate_limited()  # a burst of rejections: one pause
        ours.on_success()
        await ours.acquire()  # waits for the pause to be written first
        assert sleeps.calls == [pytest.approx(SPACING + 1.0, abs=0.05)]
        assert (await theirs.reserve()).wait == pytest.approx(SPACING * 3 + 1.0, abs=0.05)
    finally:
        await here.aclose()
        await there.aclose()


# -- failures: fail closed -------------------------------------------------------------------


async def test_unreachable_redis_fails_closed() -> None:
    port = closed_port()
    async with RedisRateLimiter(f"redis://127.0.0.1:{port}/0", app="a",
                                redis_timeout=2) as limiter:
        started = time.monotonic()
        with pytest.raises(RedisLimiterError) as caught:
            await limiter.acquire()
        assert time.monotonic() - started < 2
    error = caught.value
    assert isinstance(error, TransportError)
    assert f"Redis at 127.0.0.1:{port}/0" in str(error)
    assert "no request was sent" in str(error)


async def test_silent_redis_times_out() -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with RedisRateLimiter(f"redis://127.0.0.1:{port}", app="a",
                                    redis_timeout=0.3) as limiter:
            with pytest.raises(RedisLimiterError, match="no answer .* within 0.3 s"):
                await limiter.acquire()
    finally:
        server.close()
        await server.wait_closed()


async def test_wrong_type_at_the_key_is_a_limiter_error(redis_client: Any) -> None:
    limiter = make(redis_client)
    await redis_client.set(limiter.key, "not a hash")
    with pytest.raises(RedisLimiterError, match="WRONGTYPE"):
        await limiter.acquire()


async def test_failed_pause_surfaces_on_the_next_acquire() -> None:
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{closed_port()}", app="a")
    try:
        limiter.on_rate_limited()
        with pytest.raises(RedisLimiterError):
            await limiter.acquire()
    finally:
        await limiter.aclose()


# -- with the client and the sandbox ---------------------------------------------------------


def tokens(count: int) -> dict[str, str]:
    return {f"app-{i}": f"token-{i}" for i in range(count)}


async def pull(client: DouyinClient, requests: int, tasks: int = 10) -> None:
    left = iter(range(requests))

    async def task() -> None:
        for i in left:
            await client.fetch_page(TalentMediaQuery(plan_id=1000 + i, douyin_id="t",
                                                     page_size=5))

    await asyncio.gather(*(task() for _ in range(tasks)))


async def test_client_paced_through_redis(redis_client: Any, douyin_sandbox: Sandbox) -> None:
    limiter = make(redis_client)
    started = time.monotonic()
    async with DouyinClient(douyin_sandbox.token, base_url=douyin_sandbox.url,
                            limiter=limiter) as client:
        await pull(client, 25)
    assert time.monotonic() - started >= 24 * SPACING - 0.05
    log = douyin_sandbox.log
    assert log.counts() == {"ok": 25}
    assert log.max_in_rolling_window(1.0) == 10


@pytest.mark.douyin_sandbox(rate_limit_rate=1.0)
async def test_rate_limit_answer_pauses_the_shared_key(
    redis_client: Any, douyin_sandbox: Sandbox
) -> None:
    limiter = make(redis_client)
    async with DouyinClient(douyin_sandbox.token, base_url=douyin_sandbox.url,
                            limiter=limiter, max_retries=0) as client:
        with pytest.raises(RateLimitedError):
            await pull(client, 1, tasks=1)
    await limiter.aclose()  # lets the pause be written
    saved = await state(redis_client, limiter.key)
    assert saved["factor"] == 2 and "paused" in saved
    assert (await make(redis_client).reserve()).wait > 0.9


async def test_redis_down_sends_nothing(douyin_sandbox: Sandbox) -> None:
    backoff = Sleeps()  # the retries' jittered backoff, recorded and not waited through
    policy = RetryPolicy(max_retries=5, random=lambda: 1.0, sleep=backoff)
    async with RedisRateLimiter(f"redis://127.0.0.1:{closed_port()}", app="a") as limiter:
        async with DouyinClient(douyin_sandbox.token, base_url=douyin_sandbox.url,
                                limiter=limiter, retry_policy=policy) as client:
            with pytest.raises(RedisLimiterError) as caught:
                await pull(client, 1, tasks=1)
    assert len(douyin_sandbox.log) == 0
    assert backoff.calls == [0.5, 1.0, 2.0, 4.0, 8.0] and caught.value.attempts == 6


@pytest.mark.douyin_sandbox(static_tokens=frozenset(tokens(3).values()))
async def test_many_apps_share_one_session(redis_client: Any, douyin_sandbox: Sandbox) -> None:
    """One aiohttp session and one Redis client, a client and a limiter key per app: each app
    gets its own full quota at the same time."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        clients = [
            DouyinClient(token, base_url=douyin_sandbox.url, session=session,
                         limiter=make(redis_client, app=app))
            for app, token in tokens(3).items()
        ]
        await asyncio.gather(*(pull(c, 15) for c in clients))
        for client in clients:
            await client.close()
        assert not session.closed  # the clients leave a shared session open
    elapsed = time.monotonic() - started
    assert elapsed < 14 * SPACING + 0.6  # in parallel: not 3 x 15 requests in one queue
    for token in tokens(3).values():
        mine = [e for e in douyin_sandbox.log.entries() if e.token == fingerprint(token)]
        assert len(mine) == 15 and all(e.outcome == "ok" for e in mine)
        assert max_in_window(sorted(e.monotonic for e in mine), 1.0) == 10
    keys = sorted(k.decode() for k in await redis_client.keys("*"))
    assert keys == ["{douyin:app-0}:all", "{douyin:app-1}:all", "{douyin:app-2}:all"]


async def test_per_endpoint_limiters(redis_client: Any, douyin_sandbox: Sandbox) -> None:
    limiters = RedisRateLimiter.per_endpoint(
        redis_client, app="app", rates={"task_video": 10, "talent_media": 5})
    assert {k: v.key for k, v in limiters.items()} == {
        "task_video": "{douyin:app}:task_video", "talent_media": "{douyin:app}:talent_media"}
    assert limiters["talent_media"].spacing == pytest.approx(1.04 / 5)
    async with DouyinClient(douyin_sandbox.token, base_url=douyin_sandbox.url,
                            limiter=limiters) as client:
        await pull(client, 3, tasks=3)
    assert await redis_client.exists("{douyin:app}:talent_media")
    assert not await redis_client.exists("{douyin:app}:task_video")


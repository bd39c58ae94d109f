"""The rate cap while tokens renew: refresh ahead in the providers (injected clock and sleep),
the token taken before the limiter slot in the client, and a pull against a strict local server
whose rolling-second cap and token endpoint are counted on the server side."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from apiserver import TALENT, media

from douyin_async import (
    AuthenticationError,
    DouyinClient,
    RateLimiter,
    RetryPolicy,
    TalentMediaQuery,
)
from douyin_async.auth import (
    CLIENT_TOKEN_ENDPOINT,
    ClientCredentials,
    MemoryTokenStore,
    RenewalRetry,
    RenewingProvider,
    SharedToken,
    StaticToken,
    Token,
)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Scripted(RenewingProvider):
    """A renewing provider whose token requests answer from a script, one at a time when
    ``gate`` is set; counts the requests and how many were in flight at once."""

    def __init__(self, clock: Clock, answers: list[Token | Exception], **kw: Any) -> None:
        super().__init__(clock=clock, **kw)
        self.answers = answers
        self.gate: asyncio.Event | None = None
        self.started = 0
        self.in_flight = 0
        self.most_in_flight = 0

    async def _obtain(self) -> Token:
        self.started += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(0)
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        finally:
            self.in_flight -= 1


class Sleeps:
    """An injected sleep: records the delays and moves the clock by them."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.now += seconds
        await asyncio.sleep(0)


def outage() -> AuthenticationError:
    return AuthenticationError(10013, "token endpoint refused", endpoint="/oauth/x/")


async def turns(n: int = 20) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def settled(provider: RenewingProvider) -> None:
    await provider.wait_renewal()


# -- refresh ahead ---------------------------------------------------------------------------


async def test_inside_the_margin_the_held_token_is_handed_out_at_once() -> None:
    clock = Clock()
    provider = Scripted(clock, [Token("tok-1", clock.now + 7200), Token("tok-2", clock.now + 9000)],
                        margin=300)
    assert await provider.get() == "tok-1"
    provider.gate = asyncio.Event()  # the next token request hangs until told
    clock.now += 6950  # inside the margin: renewal due, tok-1 valid for 250 s more
    callers = [asyncio.ensure_future(provider.get()) for _ in range(50)]
    await turns()
    assert all(c.done() for c in callers)  # was: every caller waited for the token request
    assert {c.result() for c in callers} == {"tok-1"}
    assert provider.started == 2 and provider.in_flight == 1  # one renewal, in the background
    provider.gate.set()
    await settled(provider)
    assert await provider.get() == "tok-2" and provider.started == 2


async def test_an_outage_inside_the_margin_fails_no_caller_and_is_retried_with_backoff(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="douyin_async.auth")
    clock = Clock()
    sleeps = Sleeps(clock)
    provider = Scripted(clock, [Token("tok-1", clock.now + 7200), outage(), outage(), outage(),
                                Token("tok-2", clock.now + 9000)],
                        margin=300, retry=RenewalRetry(base=1.0, random=lambda: 0.5, sleep=sleeps))
    assert await provider.get() == "tok-1"
    clock.now += 6900
    assert await provider.get() == "tok-1"  # was: AuthenticationError
    await settled(provider)
    assert sleeps.delays == pytest.approx([0.75, 1.5, 3.0])  # 2**n, jitter 0.5 -> x0.75
    assert provider.renewal_failures == 3 and provider.started == 5
    assert await provider.get() == "tok-2"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3 and all("renewal failed" in w and "10013" in w for w in warnings)
    assert not any("tok-" in w for w in warnings)


async def test_background_retries_stop_at_expiry_then_callers_see_the_failure() -> None:
    clock = Clock()
    sleeps = Sleeps(clock)
    provider = Scripted(clock, [Token("tok-1", clock.now + 10), *[outage() for _ in range(20)]],
                        margin=300, retry=RenewalRetry(base=1.0, random=lambda: 1.0, sleep=sleeps))
    assert await provider.get() == "tok-1"
    clock.now += 5  # short-lived: renewed after half of its life
    assert await provider.get() == "tok-1"
    await settled(provider)
    assert sum(sleeps.delays) == pytest.approx(5.0)  # 1 + 2 + 2 (capped at the expiry)
    assert clock.now >= 1_800_000_010.0
    with pytest.raises(AuthenticationError):  # nothing valid is held: the caller waits, and fails
        await provider.get()


async def test_invalidate_makes_callers_wait_and_they_share_the_renewal_in_flight() -> None:
    clock = Clock()
    provider = Scripted(clock, [Token("tok-1", clock.now + 7200), Token("tok-2", clock.now + 9000)],
                        margin=300)
    assert await provider.get() == "tok-1"
    provider.gate = asyncio.Event()
    clock.now += 6950
    assert await provider.get() == "tok-1"  # background renewal starts and hangs
    await provider.invalidate("tok-1")
    waiting = [asyncio.ensure_future(provider.get()) for _ in range(20)]
    await turns()
    assert not any(w.done() for w in waiting)  # no valid token held: they wait
    provider.gate.set()
    assert {await w for w in waiting} == {"tok-2"}
    await settled(provider)
    assert provider.started == 2 and provider.most_in_flight == 1


async def test_expired_token_is_never_handed_out() -> None:
    clock = Clock()
    provider = Scripted(clock, [Token("tok-1", clock.now + 100), Token("tok-2", clock.now + 900)],
                        margin=10)
    assert await provider.get() == "tok-1"
    clock.now += 100
    assert provider.current() is None
    assert await provider.get() == "tok-2"
    assert StaticToken("fixed").current() == "fixed"


async def test_shared_token_takes_a_newer_short_lived_token_from_the_store() -> None:
    clock, store = Clock(), MemoryTokenStore()

    class Source:
        count = 0

        async def fetch(self) -> Token:
            Source.count += 1
            return Token(f"tok-{Source.count}", clock.now + 2)

    a, b = SharedToken(store, Source(), clock=clock), SharedToken(store, Source(), clock=clock)
    assert await a.get() == await b.get() == "tok-1"
    clock.now += 1.0  # half of the life: renewal due for both
    assert await a.get() == "tok-1"
    await settled(a)
    assert await b.get() == "tok-1"
    await settled(b)
    assert await b.get() == "tok-2" and Source.count == 2  # b took a's renewal from the store


# -- the client: token, then slot, then send ----------------------------------------------


class Events:
    def __init__(self) -> None:
        self.log: list[str] = []


class LoggingLimiter(RateLimiter):
    rate = 10.0

    def __init__(self, events: Events) -> None:
        self.events = events

    async def acquire(self) -> None:
        self.events.log.append("slot")
        await asyncio.sleep(0)

    def on_rate_limited(self) -> None:
        pass

    def on_success(self) -> None:
        pass


class LoggingProvider:
    renewable = True

    def __init__(self, events: Events, currents: list[str | None]) -> None:
        self.events, self.currents, self.n = events, currents, 0

    async def get(self) -> str:
        self.n += 1
        self.events.log.append(f"get:{self.n}")
        await asyncio.sleep(0)
        return f"tok-{self.n}"

    def current(self) -> str | None:
        return self.currents.pop(0) if self.currents else f"tok-{self.n}"

    async def invalidate(self, token: str) -> None:
        pass


@asynccontextmanager
async def talent_echo(events: Events) -> AsyncIterator[str]:
    async def talent(request: web.Request) -> web.Response:
        events.log.append("send:" + request.headers.get("access-token", ""))
        return web.Response(body=orjson.dumps({
            "data": {"error_code": 0, "description": "", "total": 1, "page_count": 1,
                     "date": "2026-11-01", "data": [media(0)]},
            "extra": {"error_code": 0, "logid": "L", "now": 1}}),
            content_type="application/json")

    async with serve({TALENT: talent}) as url:
        yield url


async def test_client_takes_the_token_before_the_slot() -> None:
    events = Events()
    async with talent_echo(events) as url, DouyinClient(
            LoggingProvider(events, []), base_url=url, limiter=LoggingLimiter(events)) as c:
        await c.fetch_page(TalentMediaQuery(plan_id=1, douyin_id="dy"))
    assert events.log == ["get:1", "slot", "send:tok-1"]  # was: slot, get, send


async def test_a_token_that_expired_during_the_slot_wait_gives_the_slot_up() -> None:
    events = Events()
    provider = LoggingProvider(events, [None])  # nothing valid held right after the slot
    async with talent_echo(events) as url, DouyinClient(
            provider, base_url=url, limiter=LoggingLimiter(events)) as c:
        await c.fetch_page(TalentMediaQuery(plan_id=1, douyin_id="dy"))
        assert c.stats.requests == 1
    assert events.log == ["get:1", "slot", "get:2", "slot", "send:tok-2"]


# -- against a strict server -------------------------------------------------------------------


@asynccontextmanager
async def serve(routes: dict[str, Callable[[web.Request], Any]]) -> AsyncIterator[str]:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_post(path, handler)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/")


@attrs.define
class StrictServer:
    """A strict rolling-second cap over every data request, counted at arrival, and a token
    endpoint that answers in 0.3-1 s with tokens of 2 s life."""

    cap: int = 10
    lifetime: float = 2.0
    per_plan: int = 25
    rng: random.Random = attrs.Factory(lambda: random.Random(14))
    arrivals: list[float] = attrs.Factory(list)
    rejected: int = 0
    refused_tokens: int = 0
    token_requests: int = 0
    token_in_flight: int = 0
    most_token_in_flight: int = 0
    tokens: dict[str, float] = attrs.Factory(dict)  # token -> server expiry (monotonic)

    def rolling_max(self) -> int:
        best, lo = 0, 0
        for hi, t in enumerate(self.arrivals):
            while t - self.arrivals[lo] >= 1.0:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        self.token_in_flight += 1
        self.most_token_in_flight = max(self.most_token_in_flight, self.token_in_flight)
        try:
            await asyncio.sleep(self.rng.uniform(0.3, 1.0))
            value = f"tok-{self.token_requests}"
            self.tokens[value] = time.monotonic() + self.lifetime
            return json({"data": {"access_token": value, "expires_in": int(self.lifetime),
                                  "error_code": 0, "description": ""}, "message": "success"})
        finally:
            self.token_in_flight -= 1

    async def talent(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        self.arrivals.append(now)
        recent = sum(1 for t in self.arrivals if now - t < 1.0)
        if recent > self.cap:
            self.rejected += 1
            return json({"data": {"error_code": 28003018, "description": "请求频率过高"},
                         "extra": {"error_code": 28003018, "logid": "RL"}})
        token = request.headers.get("access-token", "")
        if now >= self.tokens.get(token, 0.0):
            self.refused_tokens += 1
            return json({"err_no": 28001008, "err_msg": "access_token过期", "log_id": "EXP"})
        body = await request.json()
        plan, page, size = body["plan_id"], body["page_no"], body["page_size"]
        start = (page - 1) * size
        records = [dict(media(i), content_open_id=f"@{plan}-{i}")
                   for i in range(start, min(self.per_plan, start + size))]
        return json({"data": {"error_code": 0, "description": "", "total": self.per_plan,
                              "page_count": -(-self.per_plan // size), "date": "2026-11-01",
                              "data": records},
                     "extra": {"error_code": 0, "logid": f"L{plan}-{page}", "now": 1}})


def json(obj: Any) -> web.Response:
    return web.Response(body=orjson.dumps(obj), content_type="application/json")


@pytest.mark.slow
async def test_pull_across_token_renewals_never_exceeds_the_cap() -> None:
    server = StrictServer()
    routes = {CLIENT_TOKEN_ENDPOINT: server.token, TALENT: server.talent}
    plans = range(1, 31)  # 30 queries of 3 pages: 30 concurrent callers, ~90 requests
    async with serve(routes) as url:
        provider = ClientCredentials("key", "secret", base_url=url, stable=False)
        async with DouyinClient(provider, base_url=url, rate_limit=10, max_concurrency=30,
                                retry_policy=RetryPolicy(max_retries=3)) as client:
            queries = [TalentMediaQuery(plan_id=p, douyin_id="dy", page_size=10) for p in plans]
            got = [(page.query.plan_id, r.content_open_id)
                   async for page in client.pull(queries, max_active_queries=30)
                   for r in page.records]
        await provider.aclose()
    expected = [(p, f"@{p}-{i}") for p in plans for i in range(server.per_plan)]
    figures = {"requests": len(server.arrivals), "max_per_rolling_second": server.rolling_max(),
               "rejections": server.rejected, "refused_tokens": server.refused_tokens,
               "token_requests": server.token_requests,
               "max_token_requests_in_flight": server.most_token_in_flight,
               "records": len(got),
               "seconds": round(server.arrivals[-1] - server.arrivals[0], 2)}
    print("\nrenewal cap figures:", figures)
    assert sorted(got) == sorted(expected) and len(set(got)) == len(got)
    assert server.rejected == 0, figures
    assert server.rolling_max() <= 10, figures
    assert server.most_token_in_flight == 1, figures
    assert server.refused_tokens == 0, figures
    assert server.token_requests >= 5, figures  # the pull outlived several tokens

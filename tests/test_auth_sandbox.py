"""Token providers end to end against the sandbox on 127.0.0.1: lifetimes on an injected clock,
single flight counted server-side, stable and non-stable endpoints, rotating refresh tokens,
shared tokens across clients and processes, and no secret in any log, repr or error."""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from douyin_async import (
    AuthenticationError,
    DouyinClient,
    DouyinError,
    InvalidRequestError,
    RetryPolicy,
    TalentMediaQuery,
    TransportError,
)
from douyin_async.auth import (
    AuthorizerTokens,
    ClientCredentials,
    FileTokenStore,
    MemoryTokenStore,
    SharedToken,
    TokenProvider,
)
from douyin_async.sandbox import CLIENT_KEY, CLIENT_SECRET, ManualClock, Sandbox, SandboxConfig
from douyin_async.sandbox.auth import TokenAuthority
from douyin_async.sandbox.requestlog import (
    AUTH_TOKEN,
    CLIENT_TOKEN,
    STABLE_CLIENT_TOKEN,
    TALENT_MEDIA,
    fingerprint,
)

LIFETIME = 60
#: Clock seconds per page in long pulls: small enough that a request and its one retry cannot
#: both outlive a token while the (at most three) pages before it are consumed.
STEP = 12


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_800_000_000)


@pytest.fixture
async def sandbox(clock: ManualClock) -> AsyncIterator[Sandbox]:
    config = SandboxConfig(clock=clock, token_lifetime=LIFETIME, qps=None, media_per_scene=60)
    async with Sandbox(config) as sb:
        yield sb


def creds(sb: Sandbox, clock: ManualClock, **kw: Any) -> ClientCredentials:
    kw.setdefault("margin", 10)
    return ClientCredentials(kw.pop("key", CLIENT_KEY), kw.pop("secret", CLIENT_SECRET),
                             base_url=sb.url, clock=clock, **kw)


def client(sb: Sandbox, provider: TokenProvider, **kw: Any) -> DouyinClient:
    kw.setdefault("retry_policy", RetryPolicy(max_retries=3, base=0.001, random=lambda: 1.0))
    kw.setdefault("max_concurrency", 4)
    return DouyinClient(provider, base_url=sb.url, rate_limit=1000, **kw)


def query(sb: Sandbox, page_size: int = 2) -> TalentMediaQuery:
    """A talent-media query of a few dozen records (several pages)."""
    dy = sb.data.douyin_ids[0]
    plan = next(p for p in range(1, 200)
                if sb.data.plan_allowed(p) and 40 <= sb.data.count_talent_media(p, dy, 3) <= 90)
    return TalentMediaQuery(plan_id=plan, douyin_id=dy, page_size=page_size)


def requests_to(sb: Sandbox, endpoint: str) -> int:
    return len(sb.log.entries(endpoint))


async def pull_advancing(c: DouyinClient, q: TalentMediaQuery, clock: ManualClock,
                         step: float) -> int:
    """Pull every page of ``q``, moving the clock ``step`` seconds after each page."""
    records = 0
    async for page in c.pull([q]):
        records += len(page.records)
        clock.advance(step)
    return records


@pytest.mark.parametrize("stable", [True, False])
async def test_a_pull_outlives_several_token_lifetimes(
        sandbox: Sandbox, clock: ManualClock, stable: bool) -> None:
    q = query(sandbox)
    expected = sandbox.data.count_talent_media(q.plan_id, q.douyin_id, 3)
    provider = creds(sandbox, clock, stable=stable)
    async with client(sandbox, provider) as c:
        records = await pull_advancing(c, q, clock, step=STEP)
    assert records == expected
    pages = -(-expected // q.page_size)
    assert pages * STEP >= 4 * LIFETIME  # the pull spanned at least four token lifetimes
    endpoint = STABLE_CLIENT_TOKEN if stable else CLIENT_TOKEN
    assert requests_to(sandbox, endpoint) >= 4
    assert sandbox.log.counts(endpoint) == {"ok": requests_to(sandbox, endpoint)}
    assert set(sandbox.log.counts(TALENT_MEDIA)) <= {"ok", "2190002", "2190008"}
    assert c.stats.errors == 0


async def test_two_hundred_callers_one_token_request(
        sandbox: Sandbox, clock: ManualClock) -> None:
    provider = creds(sandbox, clock, stable=False)
    first = await asyncio.gather(*(provider.get() for _ in range(200)))
    assert len(set(first)) == 1 and requests_to(sandbox, CLIENT_TOKEN) == 1
    clock.advance(LIFETIME)  # expired
    q = query(sandbox, page_size=1)
    async with client(sandbox, provider, max_concurrency=200) as c:
        pages = await asyncio.gather(*(c.fetch_page(q, page) for page in range(1, 201)))
    assert len(pages) == 200
    assert requests_to(sandbox, CLIENT_TOKEN) == 2
    assert sandbox.log.counts(TALENT_MEDIA) == {"ok": 200}


async def test_failed_renewal_reaches_every_waiter_and_the_next_call_retries(
        sandbox: Sandbox, clock: ManualClock) -> None:
    provider = creds(sandbox, clock, secret="wrong")
    results = await asyncio.gather(*(provider.get() for _ in range(200)),
                                   return_exceptions=True)
    assert all(isinstance(r, AuthenticationError) and r.code == 10013 for r in results)
    assert requests_to(sandbox, STABLE_CLIENT_TOKEN) == 1
    with pytest.raises(AuthenticationError):
        await provider.get()
    assert requests_to(sandbox, STABLE_CLIENT_TOKEN) == 2


async def test_stable_endpoint_shares_one_token_between_instances(
        sandbox: Sandbox, clock: ManualClock) -> None:
    a, b = creds(sandbox, clock), creds(sandbox, clock)
    assert await a.get() == await b.get()
    c, d = creds(sandbox, clock, stable=False), creds(sandbox, clock, stable=False)
    assert await c.get() != await d.get()


async def test_non_stable_renewal_elsewhere_is_recovered_from(clock: ManualClock) -> None:
    config = SandboxConfig(clock=clock, token_lifetime=LIFETIME, token_grace=5, qps=None,
                           media_per_scene=60)
    async with Sandbox(config) as sb:
        mine, other = creds(sb, clock, stable=False), creds(sb, clock, stable=False)
        q = query(sb)
        async with client(sb, mine) as c:
            await c.fetch_page(q)
            await other.get()  # another instance renews: ours dies after the grace period
            clock.advance(6)
            await c.fetch_page(q, 2)
        assert sb.log.counts(TALENT_MEDIA) == {"ok": 2, "2190002": 1}
        assert mine.renewals == 2


async def test_authorizer_refresh_tokens_rotate_and_are_saved(
        sandbox: Sandbox, clock: ManualClock) -> None:
    saved: list[str] = []

    async def save(token: str) -> None:
        saved.append(token)

    own = creds(sandbox, clock)
    provider = AuthorizerTokens(own, base_url=sandbox.url, authorization_code="code-1",
                                on_refresh_token=save, margin=10, clock=clock)
    q = query(sandbox)
    async with client(sandbox, provider) as c:
        await pull_advancing(c, q, clock, step=STEP)
    refreshes = requests_to(sandbox, AUTH_TOKEN)
    assert refreshes >= 4 and len(saved) == refreshes and len(set(saved)) == refreshes
    assert sandbox.log.counts(AUTH_TOKEN) == {"ok": refreshes}

    async def ignore(token: str) -> None:
        pass

    stale = AuthorizerTokens(own, base_url=sandbox.url, refresh_token=saved[-2],
                             on_refresh_token=ignore, clock=clock)
    with pytest.raises(InvalidRequestError):  # a used refresh token is dead
        await stale.get()
    fresh = AuthorizerTokens(own, base_url=sandbox.url, refresh_token=saved[-1],
                             on_refresh_token=save, clock=clock)
    assert await fresh.get()


async def test_shared_token_between_two_clients(
        sandbox: Sandbox, clock: ManualClock, tmp_path: Path) -> None:
    q = query(sandbox)
    for store in (MemoryTokenStore(), FileTokenStore(tmp_path / "token.json", poll=0.001)):
        sandbox.log.clear()
        providers = [SharedToken(store, creds(sandbox, clock, stable=False), margin=10,
                                 clock=clock) for _ in range(2)]
        async with client(sandbox, providers[0]) as one, client(sandbox, providers[1]) as two:
            await asyncio.gather(one.fetch_page(q), two.fetch_page(q, 2))
            assert requests_to(sandbox, CLIENT_TOKEN) == 1
            clock.advance(LIFETIME - 10)
            await asyncio.gather(one.fetch_page(q, 3), two.fetch_page(q, 4))
            for provider in providers:  # renewed in the background, once for both
                await provider.wait_renewal()
            assert requests_to(sandbox, CLIENT_TOKEN) == 2
        assert sandbox.log.counts(TALENT_MEDIA) == {"ok": 4}
        clock.advance(LIFETIME)


CHILD = """
import asyncio, hashlib, sys
from douyin_async.auth import ClientCredentials, FileTokenStore, SharedToken

async def main():
    url, path, key, secret = sys.argv[1:5]
    provider = SharedToken(FileTokenStore(path, poll=0.005),
                           ClientCredentials(key, secret, base_url=url, stable=False))
    tokens = set(await asyncio.gather(*(provider.get() for _ in range(20))))
    print(" ".join(hashlib.sha256(t.encode()).hexdigest()[:6] for t in tokens))

asyncio.run(main())
"""


async def test_two_processes_share_one_token_through_a_file(tmp_path: Path) -> None:
    async with Sandbox(SandboxConfig(qps=None, latency=0.05)) as sb:
        path = str(tmp_path / "token.json")
        procs = [await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, sb.url, path, CLIENT_KEY, CLIENT_SECRET,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE) for _ in range(2)]
        outputs = [await p.communicate() for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        printed = {out.decode().strip() for out, _ in outputs}
        assert len(printed) == 1
        assert requests_to(sb, CLIENT_TOKEN) == 1
        token, _ = await FileTokenStore(path).load() or ("", 0)
        assert printed == {fingerprint(token)}


# -- secrets -------------------------------------------------------------------------------


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every token and refresh token any sandbox hands out during the test."""
    secrets: list[str] = []
    original = TokenAuthority._new_secret

    def recording(self: TokenAuthority, prefix: str) -> str:
        value = original(self, prefix)
        secrets.append(value)
        return value

    monkeypatch.setattr(TokenAuthority, "_new_secret", recording)
    yield secrets


async def test_no_secret_or_token_in_logs_reprs_or_errors(
        issued: list[str], caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("aiohttp", "aiohttp.client", "aiohttp.server", "aiohttp.access", "asyncio",
                 "douyin_async"):
        caplog.set_level(logging.DEBUG, logger=name)
    clock = ManualClock(start=1_800_000_000)
    config = SandboxConfig(clock=clock, token_lifetime=LIFETIME, qps=None, media_per_scene=60,
                           token_grace=0, server_error_rate=0.04, bad_gateway_rate=0.03,
                           reset_rate=0.02, cut_body_rate=0.02)
    texts: list[str] = []
    errors: list[BaseException] = []
    objects: list[Any] = []

    async with Sandbox(config) as sb:
        url = sb.url
        q = query(sb)
        own = creds(sb, clock, stable=False)
        saved: list[str] = []

        async def save(token: str) -> None:
            saved.append(token)

        authorizer = AuthorizerTokens(own, base_url=sb.url, authorization_code="code-secret",
                                      on_refresh_token=save, margin=10, clock=clock)
        shared = SharedToken(FileTokenStore(tmp_path / "t.json"),
                             creds(sb, clock, stable=False), margin=10, clock=clock)
        for provider in (own, authorizer, shared):
            async with client(sb, provider, max_retries=8) as c:
                try:
                    await pull_advancing(c, q, clock, step=STEP)
                except DouyinError as exc:  # faults may outlast the retries
                    errors.append(exc)
                objects += [c, c.stats, provider]
        bad = [creds(sb, clock, secret="wrong-secret"),
               creds(sb, clock, key="unknown-key"),
               AuthorizerTokens(own, base_url=sb.url, refresh_token=saved[0],
                                on_refresh_token=save, clock=clock)]
        for provider in bad:
            async with client(sb, provider) as c:
                with pytest.raises(DouyinError) as info:
                    await c.fetch_page(q)
                errors.append(info.value)
                objects.append(provider)
        clock.advance(LIFETIME)
        async with client(sb, own) as c:  # expired tokens refused after a renewal elsewhere
            await other_renews(sb, clock)
            await c.fetch_page(q)
    closed = ClientCredentials(CLIENT_KEY, CLIENT_SECRET, base_url=url)  # the sandbox is gone
    with pytest.raises(TransportError) as info:
        await closed.get()
    errors.append(info.value)

    assert saved and len(issued) >= 10
    assert any(isinstance(e, AuthenticationError) for e in errors)
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.args), record.exc_text or ""]
        if record.exc_info and record.exc_info[1] is not None:
            texts.append("".join(traceback.format_exception(record.exc_info[1])))
    for error in errors:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts += [repr(o) for o in objects] + [str(o) for o in objects]
    assert caplog.records, "nothing was logged"
    secrets = [CLIENT_SECRET, "wrong-secret", "code-secret", *issued]
    leaks = [(s, t) for t in texts for s in secrets if s in t]
    assert not leaks, leaks[:3]


async def other_renews(sb: Sandbox, clock: ManualClock) -> None:
    """Another instance takes a new token (non-stable): the current one dies (no grace)."""
    await creds(sb, clock, stable=False).get()

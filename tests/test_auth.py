"""Token providers without a socket: decoders, renewal timing, single flight, stores, env."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aioresponses import aioresponses as AioResponses
from apiserver import TASK
from yarl import URL

from douyin_async import (
    AuthenticationError,
    DouyinClient,
    DouyinError,
    InvalidParameterError,
    InvalidRequestError,
    QuotaExceededError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    TaskVideoQuery,
    TransportError,
)
from douyin_async.auth import (
    AUTHORIZER_TOKEN_ENDPOINT,
    CLIENT_TOKEN_ENDPOINT,
    STABLE_CLIENT_TOKEN_ENDPOINT,
    AuthorizerTokens,
    ClientCredentials,
    FileTokenStore,
    MemoryTokenStore,
    SharedToken,
    StaticToken,
    Token,
    TokenProvider,
    provider_from_env,
    renew_at,
)
from douyin_async.auth.endpoints import decode_authorizer_token, decode_client_token

BASE = "http://api.test"
SECRET = "very-secret-value"
STABLE = BASE + STABLE_CLIENT_TOKEN_ENDPOINT
AUTH_URL = re.compile(re.escape(BASE + AUTHORIZER_TOKEN_ENDPOINT) + r".*")


class Clock:
    """A unix clock that moves only when told."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def token_answer(token: str, expires_in: int = 7200) -> dict[str, Any]:
    return {"data": {"access_token": token, "expires_in": expires_in, "error_code": 0,
                     "description": ""}, "message": "success"}


def token_error(code: int, description: str = "bad") -> dict[str, Any]:
    return {"data": {"error_code": code, "description": description}, "message": "error",
            "extra": {"logid": "TOKLOG"}}


def credentials(clock: Clock, **kw: Any) -> ClientCredentials:
    return ClientCredentials("key", SECRET, base_url=BASE, clock=clock, **kw)


def calls(mock: AioResponses, method: str = "POST", url: str = STABLE) -> int:
    return len(mock.requests.get((method, URL(url)), []))


async def settled(*providers: Any) -> None:
    """Wait for the background renewals the providers started."""
    for provider in providers:
        await provider.wait_renewal()


# -- pure parts ----------------------------------------------------------------------------


def test_renew_at_margin_half_life_and_same_token() -> None:
    assert renew_at(1000 + 7200, 1000, 300) == 1000 + 6900
    assert renew_at(1002, 1000, 300) == 1001  # short-lived: half of its life
    assert renew_at(1200, 1000, 300, same=True) == 1200  # stable token: used to its end
    assert renew_at(1000, 1000, 300, same=True) == 1001  # not asked again within a second


@pytest.mark.parametrize(("code", "cls"), [
    (10002, InvalidRequestError), (10003, AuthenticationError), (10013, AuthenticationError),
    (10020, QuotaExceededError),
])
def test_client_token_errors_map_to_the_hierarchy(code: int, cls: type[Exception]) -> None:
    with pytest.raises(cls) as info:
        decode_client_token(orjson.dumps(token_error(code)), http_status=200,
                            endpoint=CLIENT_TOKEN_ENDPOINT, now=0)
    assert info.value.code == code  # type: ignore[attr-defined]
    assert info.value.endpoint == CLIENT_TOKEN_ENDPOINT  # type: ignore[attr-defined]
    assert info.value.log_id == "TOKLOG"  # type: ignore[attr-defined]


def test_client_token_decoding_never_quotes_the_body() -> None:
    token = decode_client_token(orjson.dumps(token_answer("tok-1", 100)), http_status=200,
                                endpoint=STABLE_CLIENT_TOKEN_ENDPOINT, now=50)
    assert token == Token("tok-1", 150) and "tok-1" not in repr(token)
    cut = b'{"data": {"access_token": "tok-secret-part'
    with pytest.raises(ResponseDecodeError) as info:
        decode_client_token(cut, http_status=200, endpoint=CLIENT_TOKEN_ENDPOINT, now=0)
    assert info.value.retryable and "tok-secret" not in str(info.value)
    odd = orjson.dumps({"data": {"error_code": 0, "access_token": "tok-secret"}})
    with pytest.raises(ResponseDecodeError) as info:
        decode_client_token(odd, http_status=200, endpoint=CLIENT_TOKEN_ENDPOINT, now=0)
    assert "expires_in" in str(info.value) and "tok-secret" not in str(info.value)
    with pytest.raises(ServerError):
        decode_client_token(b"<html>502</html>", http_status=502,
                            endpoint=CLIENT_TOKEN_ENDPOINT, now=0)


def test_authorizer_answer_and_errors() -> None:
    body = {"err_no": 0, "err_msg": "", "log_id": "L1",
            "data": {"authorizer_access_token": "act.1", "expires_in": 7200,
                     "authorizer_refresh_token": "rft.2", "refresh_expires_in": 86400}}
    grant = decode_authorizer_token(orjson.dumps(body), http_status=200,
                                    endpoint=AUTHORIZER_TOKEN_ENDPOINT, now=10)
    assert grant.token == Token("act.1", 7210) and grant.refresh_token == "rft.2"
    assert "rft.2" not in repr(grant) and "act.1" not in repr(grant)
    failed = {"err_no": 2190008, "err_msg": "access_token过期", "log_id": "L2", "data": {}}
    with pytest.raises(AuthenticationError) as info:
        decode_authorizer_token(orjson.dumps(failed), http_status=200,
                                endpoint=AUTHORIZER_TOKEN_ENDPOINT, now=0)
    assert info.value.log_id == "L2" and info.value.endpoint == AUTHORIZER_TOKEN_ENDPOINT


# -- ClientCredentials ---------------------------------------------------------------------


async def test_request_shape_and_endpoint_choice(mock_api: AioResponses) -> None:
    mock_api.post(STABLE, payload=token_answer("tok-1"))
    mock_api.post(BASE + CLIENT_TOKEN_ENDPOINT, payload=token_answer("tok-2"))
    clock = Clock()
    assert await credentials(clock).get() == "tok-1"
    assert await credentials(clock, stable=False).get() == "tok-2"
    call = mock_api.requests[("POST", URL(STABLE))][0]
    assert orjson.loads(call.kwargs["data"]) == {
        "client_key": "key", "client_secret": SECRET, "grant_type": "client_credential"}
    assert call.kwargs["headers"]["content-type"] == "application/json"


async def test_cached_until_the_margin_then_renewed_in_the_background(
        mock_api: AioResponses) -> None:
    mock_api.post(STABLE, payload=token_answer("tok-1"))
    mock_api.post(STABLE, payload=token_answer("tok-2"))
    clock = Clock()
    provider = credentials(clock, margin=300)
    assert await provider.get() == "tok-1"
    clock.now += 6899
    assert await provider.get() == "tok-1"
    assert calls(mock_api) == 1
    clock.now += 1
    assert await provider.get() == "tok-1"  # still valid: handed out, renewed behind it
    await settled(provider)
    assert calls(mock_api) == 2 and provider.renewals == 2
    assert await provider.get() == "tok-2"


async def test_stable_token_answered_again_is_used_to_its_end(mock_api: AioResponses) -> None:
    clock = Clock()
    mock_api.post(STABLE, payload=token_answer("tok-1", 7200))
    mock_api.post(STABLE, payload=token_answer("tok-1", 300))
    mock_api.post(STABLE, payload=token_answer("tok-2", 7200))
    provider = credentials(clock, margin=300)
    await provider.get()
    clock.now += 6900
    assert await provider.get() == "tok-1"  # asked again: the same token, 300 s left
    await settled(provider)
    assert calls(mock_api) == 2
    clock.now += 299
    assert await provider.get() == "tok-1" and calls(mock_api) == 2
    clock.now += 1
    assert await provider.get() == "tok-2" and calls(mock_api) == 3


async def test_single_flight_and_failure_reaches_every_waiter(mock_api: AioResponses) -> None:
    mock_api.post(STABLE, payload=token_error(10013))
    mock_api.post(STABLE, payload=token_answer("tok-1"))
    provider = credentials(Clock())
    results = await asyncio.gather(*(provider.get() for _ in range(200)),
                                   return_exceptions=True)
    assert all(isinstance(r, AuthenticationError) for r in results)
    assert calls(mock_api) == 1
    tokens = await asyncio.gather(*(provider.get() for _ in range(200)))
    assert set(tokens) == {"tok-1"} and calls(mock_api) == 2


async def test_a_cancelled_waiter_does_not_cancel_the_flight(mock_api: AioResponses) -> None:
    gate = asyncio.Event()

    async def slow(url: Any, **kwargs: Any) -> None:
        await gate.wait()

    mock_api.post(STABLE, payload=token_answer("tok-1"), callback=slow)
    provider = credentials(Clock())
    first = asyncio.ensure_future(provider.get())
    second = asyncio.ensure_future(provider.get())
    await asyncio.sleep(0.01)
    first.cancel()
    gate.set()
    assert await second == "tok-1"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert calls(mock_api) == 1


async def test_invalidate_drops_only_the_current_token(mock_api: AioResponses) -> None:
    mock_api.post(STABLE, payload=token_answer("tok-1"))
    mock_api.post(STABLE, payload=token_answer("tok-2"))
    provider = credentials(Clock())
    assert await provider.get() == "tok-1"
    await provider.invalidate("tok-0")  # an older token: nothing happens
    assert await provider.get() == "tok-1" and calls(mock_api) == 1
    await provider.invalidate("tok-1")
    assert await provider.get() == "tok-2"
    await provider.invalidate("tok-1")  # a second caller reports the same old token
    assert await provider.get() == "tok-2" and calls(mock_api) == 2


async def test_transport_failure_is_a_transport_error(mock_api: AioResponses) -> None:
    import aiohttp

    mock_api.post(STABLE, exception=aiohttp.ServerDisconnectedError())
    with pytest.raises(TransportError) as info:
        await credentials(Clock()).get()
    assert info.value.endpoint == STABLE_CLIENT_TOKEN_ENDPOINT


def test_arguments_are_checked_and_reprs_hide_secrets() -> None:
    with pytest.raises(InvalidParameterError):
        ClientCredentials("key", "", base_url=BASE)
    with pytest.raises(InvalidParameterError):
        ClientCredentials("key", SECRET, base_url="api.test")
    with pytest.raises(InvalidParameterError):
        ClientCredentials("key", SECRET, base_url=BASE, margin=-1)
    provider = ClientCredentials("key", SECRET, base_url=BASE)
    assert SECRET not in repr(provider) and isinstance(provider, TokenProvider)
    assert "key" in repr(provider)


# -- through the client --------------------------------------------------------------------


def ok_page() -> dict[str, Any]:
    return {"err_no": 0, "err_msg": "success", "log_id": "L", "data": {
        "video_daily_data_list": []}}


def expired() -> dict[str, Any]:
    return {"err_no": 28001008, "err_msg": "access_token过期", "log_id": "LOGAUTH"}


def client(provider: TokenProvider, **kw: Any) -> DouyinClient:
    kw.setdefault("retry_policy", RetryPolicy(max_retries=2, random=lambda: 0.0))
    return DouyinClient(provider, base_url=BASE, rate_limit=1000, **kw)


async def fetch_one(c: DouyinClient) -> Any:
    now = int(time.time())
    query = TaskVideoQuery(billing_date=time.strftime("%Y-%m-%d", time.localtime(now - 86400)),
                           video_publish_start_time=now - 3600, video_publish_end_time=now)
    return await c.fetch_page(query)


async def test_client_renews_once_on_an_expired_token(mock_api: AioResponses) -> None:
    mock_api.post(STABLE, payload=token_answer("tok-1"))
    mock_api.post(STABLE, payload=token_answer("tok-2"))
    mock_api.post(BASE + TASK, payload=expired())
    mock_api.post(BASE + TASK, payload=ok_page())
    async with client(credentials(Clock())) as c:
        await fetch_one(c)
    sent = [call.kwargs["headers"]["access-token"]
            for call in mock_api.requests[("POST", URL(BASE + TASK))]]
    assert sent == ["tok-1", "tok-2"]


async def test_client_gives_up_after_a_second_refusal(mock_api: AioResponses) -> None:
    mock_api.post(STABLE, payload=token_answer("tok-1"))
    mock_api.post(STABLE, payload=token_answer("tok-2"))
    mock_api.post(BASE + TASK, payload=expired(), repeat=True)
    async with client(credentials(Clock())) as c:
        with pytest.raises(AuthenticationError) as info:
            await fetch_one(c)
    assert info.value.code == 28001008 and info.value.attempts == 2
    assert calls(mock_api) == 2


async def test_static_token_is_not_renewed(mock_api: AioResponses) -> None:
    mock_api.post(BASE + TASK, payload=expired(), repeat=True)
    async with client(StaticToken("fixed")) as c:
        with pytest.raises(AuthenticationError) as info:
            await fetch_one(c)
    assert info.value.attempts == 1


async def test_client_retries_a_failed_renewal_like_a_request(mock_api: AioResponses) -> None:
    mock_api.post(STABLE, status=502, body=b"<html>bad gateway</html>")
    mock_api.post(STABLE, payload=token_answer("tok-1"))
    mock_api.post(BASE + TASK, payload=ok_page())
    async with client(credentials(Clock())) as c:
        await fetch_one(c)
        assert c.stats.retries == 1 and c.stats.requests == 1


async def test_client_does_not_retry_refused_credentials(mock_api: AioResponses) -> None:
    mock_api.post(STABLE, payload=token_error(10013), repeat=True)
    async with client(credentials(Clock())) as c:
        with pytest.raises(AuthenticationError) as info:
            await fetch_one(c)
    assert info.value.code == 10013 and calls(mock_api) == 1


# -- AuthorizerTokens ------------------------------------------------------------------------


def auth_answer(n: int) -> dict[str, Any]:
    return {"err_no": 0, "err_msg": "", "log_id": f"A{n}",
            "data": {"authorizer_access_token": f"act.{n}", "expires_in": 7200,
                     "authorizer_refresh_token": f"rft.{n}", "refresh_expires_in": 86400}}


def auth_calls(mock: AioResponses) -> list[tuple[dict[str, str], str]]:
    out = []
    for (method, url), items in mock.requests.items():
        if method == "GET" and url.path == AUTHORIZER_TOKEN_ENDPOINT:
            out += [(dict(url.query), c.kwargs["headers"]["access-token"]) for c in items]
    return out


async def test_authorizer_code_then_rotating_refresh_tokens(mock_api: AioResponses) -> None:
    clock = Clock()
    saved: list[str] = []
    mock_api.get(AUTH_URL, payload=auth_answer(1))
    mock_api.get(AUTH_URL, payload=auth_answer(2))

    async def save(token: str) -> None:
        saved.append(token)

    provider = AuthorizerTokens(StaticToken("own"), base_url=BASE, authorization_code="code",
                                on_refresh_token=save, clock=clock)
    assert await provider.get() == "act.1" and saved == ["rft.1"]
    clock.now += 7000
    assert await provider.get() == "act.1"  # still valid; renewed in the background
    await settled(provider)
    assert await provider.get() == "act.2" and saved == ["rft.1", "rft.2"]
    (q1, own1), (q2, _) = auth_calls(mock_api)
    assert q1 == {"grant_type": "app_to_tp_authorization_code", "authorization_code": "code"}
    assert q2 == {"grant_type": "app_to_tp_refresh_token", "authorizer_refresh_token": "rft.1"}
    assert own1 == "own"
    assert "rft" not in repr(provider) and "code" not in repr(provider)


async def test_hook_runs_before_the_token_is_used(mock_api: AioResponses) -> None:
    mock_api.get(AUTH_URL, payload=auth_answer(1))
    mock_api.get(AUTH_URL, payload=auth_answer(2))
    attempts: list[str] = []

    async def flaky_save(token: str) -> None:
        attempts.append(token)
        if len(attempts) == 1:
            raise OSError("disk full")

    provider = AuthorizerTokens(StaticToken("own"), base_url=BASE, refresh_token="rft.0",
                                on_refresh_token=flaky_save, clock=Clock())
    with pytest.raises(OSError):
        await provider.get()
    assert await provider.get() == "act.2"  # refreshed with the token the hook missed
    assert attempts == ["rft.1", "rft.2"]
    (_, _), (q2, _) = auth_calls(mock_api)
    assert q2["authorizer_refresh_token"] == "rft.1"


async def test_authorizer_renews_its_own_client_token_once(mock_api: AioResponses) -> None:
    mock_api.post(STABLE, payload=token_answer("own-1"))
    mock_api.post(STABLE, payload=token_answer("own-2"))
    mock_api.get(AUTH_URL, payload={"err_no": 2190008, "err_msg": "expired", "log_id": "X"})
    mock_api.get(AUTH_URL, payload=auth_answer(1))

    async def save(token: str) -> None:
        pass

    provider = AuthorizerTokens(credentials(Clock()), base_url=BASE, refresh_token="rft.0",
                                on_refresh_token=save)
    assert await provider.get() == "act.1"
    assert [own for _, own in auth_calls(mock_api)] == ["own-1", "own-2"]


def test_authorizer_needs_something_to_refresh_with() -> None:
    async def save(token: str) -> None:
        pass

    with pytest.raises(InvalidParameterError):
        AuthorizerTokens(StaticToken("own"), base_url=BASE, on_refresh_token=save)


# -- SharedToken and stores ------------------------------------------------------------------


class CountingSource:
    """A token source that counts its fetches."""

    def __init__(self, clock: Clock, lifetime: float = 7200) -> None:
        self.clock, self.lifetime, self.count = clock, lifetime, 0

    async def fetch(self) -> Token:
        self.count += 1
        await asyncio.sleep(0.001)
        return Token(f"tok-{self.count}", self.clock() + self.lifetime)


async def test_shared_token_is_fetched_once_for_many_providers() -> None:
    clock, store = Clock(), MemoryTokenStore()
    source = CountingSource(clock)
    providers = [SharedToken(store, source, clock=clock) for _ in range(5)]
    tokens = await asyncio.gather(*(p.get() for p in providers for _ in range(20)))
    assert set(tokens) == {"tok-1"} and source.count == 1
    clock.now += 6900
    tokens = await asyncio.gather(*(p.get() for p in providers))
    assert set(tokens) == {"tok-1"}  # still valid: renewed in the background
    await settled(*providers)
    tokens = await asyncio.gather(*(p.get() for p in providers))
    assert set(tokens) == {"tok-2"} and source.count == 2
    assert await store.load() == ("tok-2", clock.now + 7200)


async def test_shared_token_refused_is_not_taken_from_the_store_again() -> None:
    clock, store = Clock(), MemoryTokenStore()
    source = CountingSource(clock)
    a, b = SharedToken(store, source, clock=clock), SharedToken(store, source, clock=clock)
    assert await a.get() == await b.get() == "tok-1"
    await a.invalidate("tok-1")
    assert await a.get() == "tok-2"
    await b.invalidate("tok-1")
    assert await b.get() == "tok-2"  # b takes a's new token from the store
    assert source.count == 2


async def test_file_store_round_trip_lock_and_bad_files(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "sub" / "token.json", poll=0.001, lock_timeout=0.05)
    assert await store.load() is None
    await store.save("tok-1", 123.5)
    assert await store.load() == ("tok-1", 123.5)
    assert (store.path.stat().st_mode & 0o777) == 0o600
    assert "tok-1" not in repr(store)
    async with store.lock():
        other = FileTokenStore(store.path, poll=0.001, lock_timeout=0.02)
        with pytest.raises(DouyinError, match="still locked"):
            async with other.lock():
                pass
    async with FileTokenStore(store.path).lock():
        pass
    store.path.write_text("not json")
    assert await store.load() is None
    assert sorted(p.name for p in store.path.parent.iterdir()) == [
        "token.json", "token.json.lock"]


async def test_shared_token_over_a_file_between_providers(tmp_path: Path) -> None:
    clock = Clock()
    source = CountingSource(clock)
    path = tmp_path / "token.json"
    providers = [SharedToken(FileTokenStore(path, poll=0.001), source, clock=clock)
                 for _ in range(3)]
    tokens = await asyncio.gather(*(p.get() for p in providers for _ in range(10)))
    assert set(tokens) == {"tok-1"} and source.count == 1


def test_shared_token_checks_its_parts() -> None:
    with pytest.raises(InvalidParameterError):
        SharedToken(object(), CountingSource(Clock()))  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        SharedToken(MemoryTokenStore(), StaticToken("x"))  # type: ignore[arg-type]


# -- provider_from_env ---------------------------------------------------------------------


@pytest.mark.parametrize(("env", "expected"), [
    ({}, type(None)),
    ({"DOUYIN_ACCESS_TOKEN": "t"}, StaticToken),
    ({"DOUYIN_ACCESS_TOKEN": "t", "DOUYIN_CLIENT_KEY": "k", "DOUYIN_CLIENT_SECRET": "s"},
     StaticToken),
    ({"DOUYIN_CLIENT_KEY": "k", "DOUYIN_CLIENT_SECRET": "s"}, ClientCredentials),
    ({"DOUYIN_CLIENT_KEY": "k", "DOUYIN_CLIENT_SECRET": "s", "DOUYIN_TOKEN_FILE": "/tmp/t"},
     SharedToken),
    ({"DOUYIN_ACCESS_TOKEN": "  "}, type(None)),
])
def test_provider_from_env(env: dict[str, str], expected: Callable[..., Any]) -> None:
    assert type(provider_from_env(env, BASE)) is expected


def test_provider_from_env_wants_key_and_secret_together() -> None:
    with pytest.raises(InvalidParameterError, match="DOUYIN_CLIENT_SECRET"):
        provider_from_env({"DOUYIN_CLIENT_KEY": "k"}, BASE)
    with pytest.raises(InvalidParameterError, match="DOUYIN_CLIENT_KEY"):
        provider_from_env({"DOUYIN_CLIENT_SECRET": SECRET}, BASE)


def test_provider_from_env_uses_the_stable_endpoint_of_base_url() -> None:
    provider = provider_from_env({"DOUYIN_CLIENT_KEY": "k", "DOUYIN_CLIENT_SECRET": "s"},
                                 BASE + "/")
    assert isinstance(provider, ClientCredentials) and provider.stable

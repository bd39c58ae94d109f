"""Token endpoints and token validity on the data endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from sandbox_helpers import DAY, clocked, media, post, videos

from douyin_async.sandbox import (
    AUTH_TOKEN_PATH,
    CLIENT_KEY,
    CLIENT_SECRET,
    CLIENT_TOKEN_PATH,
    STABLE_CLIENT_TOKEN_PATH,
    ManualClock,
    Sandbox,
)

CREDENTIALS = {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET,
               "grant_type": "client_credential"}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def env() -> AsyncIterator[tuple[Sandbox, ManualClock]]:
    config, clock = clocked(qps=None, token_call_limit=5)
    async with Sandbox(config) as sandbox:
        yield sandbox, clock


async def issue(session: Any, sb: Sandbox, path: str = CLIENT_TOKEN_PATH,
                **body: Any) -> dict[str, Any]:
    return await post(session, sb.url + path, {**CREDENTIALS, **body}, token=None)


async def works(session: Any, sb: Sandbox, token: str) -> int:
    """0 when the token is accepted, else the task-video err_no."""
    return int((await videos(session, sb, token=token, page_size=1))["err_no"])


async def test_client_token_shape_and_use(session: Any, env: Any) -> None:
    sb, _ = env
    answer = await issue(session, sb)
    assert answer["message"] == "success"
    data = answer["data"]
    assert set(data) == {"access_token", "expires_in", "error_code", "description"}
    assert (data["expires_in"], data["error_code"], data["description"]) == (7200, 0, "")
    assert data["access_token"].startswith("clt.")
    assert await works(session, sb, data["access_token"]) == 0


async def test_token_expiry_uses_the_clock(session: Any, env: Any) -> None:
    sb, clock = env
    token = (await issue(session, sb))["data"]["access_token"]
    clock.advance(7199)
    assert await works(session, sb, token) == 0
    clock.advance(1)
    # the window moved with the clock: ask for a fresh one
    answer = await videos(session, sb, token=token, page_size=1,
                          video_publish_start_time=int(clock()) - 2 * DAY,
                          video_publish_end_time=int(clock()) - DAY)
    assert answer["err_no"] == 28001008
    assert (await media(session, sb, token=token))["data"]["error_code"] == 2190008
    assert (await media(session, sb))["data"]["error_code"] == 0  # static token never expires


async def test_new_token_leaves_the_old_one_a_grace_period(session: Any, env: Any) -> None:
    sb, clock = env
    first = (await issue(session, sb))["data"]["access_token"]
    clock.advance(100)
    second = (await issue(session, sb))["data"]["access_token"]
    assert first != second
    clock.advance(299)
    assert await works(session, sb, first) == 0
    clock.advance(1)
    assert await works(session, sb, first) == 28001003
    assert await works(session, sb, second) == 0


async def test_only_the_newest_two_are_valid(session: Any, env: Any) -> None:
    sb, _ = env
    tokens = [(await issue(session, sb))["data"]["access_token"] for _ in range(3)]
    assert [await works(session, sb, t) for t in tokens] == [28001003, 0, 0]


async def test_stable_token_is_reused_while_valid(session: Any, env: Any) -> None:
    sb, clock = env
    one = (await issue(session, sb, STABLE_CLIENT_TOKEN_PATH))["data"]
    clock.advance(1000)
    two = (await issue(session, sb, STABLE_CLIENT_TOKEN_PATH))["data"]
    assert one["access_token"] == two["access_token"]
    assert two["expires_in"] == 7200 - 1000
    fresh = (await issue(session, sb))["data"]["access_token"]
    assert (await issue(session, sb, STABLE_CLIENT_TOKEN_PATH))["data"]["access_token"] == fresh
    clock.advance(7200)
    renewed = (await issue(session, sb, STABLE_CLIENT_TOKEN_PATH))["data"]
    assert renewed["access_token"] != fresh and renewed["expires_in"] == 7200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"grant_type": "authorization_code"}, 10002),
        ({"client_key": ""}, 10002),
        ({"client_secret": 5}, 10002),
        ({"client_key": "nobody"}, 10003),
        ({"client_secret": "wrong"}, 10013),
    ],
)
async def test_token_errors(session: Any, env: Any, body: dict[str, Any], code: int) -> None:
    sb, _ = env
    for path in (CLIENT_TOKEN_PATH, STABLE_CLIENT_TOKEN_PATH):
        answer = await issue(session, sb, path, **body)
        assert answer["message"] == "error"
        assert answer["data"]["error_code"] == code and answer["data"]["description"]
        assert "access_token" not in answer["data"]


async def test_token_body_must_be_json(session: Any, env: Any) -> None:
    sb, _ = env
    async with session.post(sb.url + CLIENT_TOKEN_PATH, data=b"client_key=x") as resp:
        assert orjson.loads(await resp.read())["data"]["error_code"] == 10002


async def test_too_many_token_calls(session: Any, env: Any) -> None:
    sb, clock = env  # token_call_limit=5 per 300 s
    codes = [(await issue(session, sb))["data"]["error_code"] for _ in range(6)]
    assert codes == [0, 0, 0, 0, 0, 10020]
    clock.advance(300)
    assert (await issue(session, sb))["data"]["error_code"] == 0


async def auth_token(session: Any, sb: Sandbox, token: str | None,
                     **query: str) -> dict[str, Any]:
    headers = {"access-token": token} if token else {}
    async with session.get(sb.url + AUTH_TOKEN_PATH, params=query, headers=headers) as resp:
        assert resp.status == 200
        decoded: dict[str, Any] = orjson.loads(await resp.read())
        return decoded


async def test_authorizer_tokens_and_rotating_refresh(session: Any, env: Any) -> None:
    sb, clock = env
    tp_token = (await issue(session, sb))["data"]["access_token"]
    first = await auth_token(session, sb, tp_token, grant_type="app_to_tp_authorization_code",
                             authorization_code="code-1")
    assert (first["err_no"], first["err_msg"]) == (0, "success") and first["log_id"]
    data = first["data"]
    assert data["expires_in"] == 7200
    assert await works(session, sb, data["authorizer_access_token"]) == 0
    again = await auth_token(session, sb, tp_token, grant_type="app_to_tp_authorization_code",
                             authorization_code="code-1")
    assert again["err_no"] == 28001007

    old_refresh = data["authorizer_refresh_token"]
    second = await auth_token(session, sb, tp_token, grant_type="app_to_tp_refresh_token",
                              authorizer_refresh_token=old_refresh)
    assert second["err_no"] == 0
    new_refresh = second["data"]["authorizer_refresh_token"]
    assert new_refresh != old_refresh
    assert second["data"]["authorizer_access_token"] != data["authorizer_access_token"]
    stale = await auth_token(session, sb, tp_token, grant_type="app_to_tp_refresh_token",
                             authorizer_refresh_token=old_refresh)
    assert stale["err_no"] == 28001007
    third = await auth_token(session, sb, tp_token, grant_type="app_to_tp_refresh_token",
                             authorizer_refresh_token=new_refresh)
    assert third["err_no"] == 0

    clock.advance(7200)
    expired = await media(session, sb, token=third["data"]["authorizer_access_token"])
    assert expired["data"]["error_code"] == 2190008
    late = await auth_token(session, sb, tp_token, grant_type="app_to_tp_refresh_token",
                            authorizer_refresh_token=third["data"]["authorizer_refresh_token"])
    assert late["err_no"] == 28001008  # the provider's own token expired


async def test_auth_token_errors(session: Any, env: Any) -> None:
    sb, _ = env
    code = {"grant_type": "app_to_tp_authorization_code", "authorization_code": "c"}
    assert (await auth_token(session, sb, None, **code))["err_no"] == 28001003
    assert (await auth_token(session, sb, "bogus", **code))["err_no"] == 28001003
    assert (await auth_token(session, sb, sb.token, grant_type="password"))["err_no"] == 28001007
    missing = await auth_token(session, sb, sb.token, grant_type="app_to_tp_authorization_code")
    assert missing["err_no"] == 28001007
    unknown = await auth_token(session, sb, sb.token, grant_type="app_to_tp_refresh_token",
                               authorizer_refresh_token="rft.nope")
    assert unknown["err_no"] == 28001007
    assert sb.log.counts("get_auth_token") == {"28001003": 2, "28001007": 3}

"""Credentials never follow a redirect: API and token calls answered 3xx raise a typed error
naming where the answer pointed, and the other server sees nothing (real servers, TLS too)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from hostile import Server, json_answer, serve, tls

from douyin_async import DouyinClient, TalentMediaQuery
from douyin_async.auth import ClientCredentials
from douyin_async.errors import RedirectError

TOKEN = "clt.secret-token-value-0123456789"
SECRET = "client-secret-value-9876543210"
QUERY = TalentMediaQuery(plan_id=1, douyin_id="dy", page_size=10)


def _redirect_to(target: Server, status: int = 307) -> Any:
    """A handler answering `status` to `target`, with a signed query."""
    async def origin(request: web.Request) -> web.Response:
        location = target.url + "/steal?sig=secret-signature"
        return web.Response(status=status, headers={"Location": location})
    return origin


async def _sink(request: web.Request) -> web.Response:
    return json_answer({"data": {"data": [], "total": 0}, "extra": {"error_code": 0}})


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_api_call_does_not_follow_a_redirect(status: int) -> None:
    async with serve(_sink) as other:
        async with serve(_redirect_to(other, status)) as api:
            async with DouyinClient(TOKEN, base_url=api.url) as client:
                with pytest.raises(RedirectError) as info:
                    await client.fetch_page(QUERY)
    assert other.seen == []  # neither the token nor the body reached the other server
    assert len(api.seen) == 1  # not retried
    error = info.value
    assert error.http_status == status
    assert error.location == f"{other.url}/steal"
    assert "secret-signature" not in str(error) and TOKEN not in str(error)


async def test_https_api_redirect_to_plain_http_sends_nothing() -> None:
    contexts = tls()
    async with serve(_sink) as other:
        async with serve(_redirect_to(other), context=contexts.server) as api:
            assert api.url.startswith("https://")
            async with DouyinClient(TOKEN, base_url=api.url, ssl=contexts.client) as client:
                with pytest.raises(RedirectError) as info:
                    await client.fetch_page(QUERY)
            assert api.seen[0].headers["access-token"] == TOKEN  # it did reach the origin
    assert other.seen == []
    assert info.value.location.startswith("http://127.0.0.1:")


async def test_client_secret_is_not_posted_to_a_redirect_target() -> None:
    contexts = tls()
    async with serve(_sink) as other:
        async with serve(_redirect_to(other), context=contexts.server) as auth:
            provider = ClientCredentials("key", SECRET, base_url=auth.url, ssl=contexts.client)
            with pytest.raises(RedirectError) as info:
                await provider.fetch()
            await provider.aclose()
            assert SECRET.encode() in auth.seen[0].body
    assert other.seen == []
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)

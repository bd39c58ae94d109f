"""Bill links are fetched from public https hosts only: loopback, private and link-local
addresses, other ports, plain http, scheme changes and long redirect chains are refused
before any byte goes there, unless the user allows the host (real servers on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiohttp import web
from hostile import Server, json_answer, serve, tls
from test_bills import csv_bytes, row

from douyin_async import DouyinClient
from douyin_async.bills.download import DownloadPolicy
from douyin_async.bills.hosts import PublicResolver, check_link
from douyin_async.days import beijing_day
from douyin_async.errors import AnswerTooLargeError, UnsafeLinkError
from douyin_async.http.retry import RetryPolicy
from douyin_async.http.transport import AiohttpTransport, Request

DAY = beijing_day() - dt.timedelta(days=1)
FILE = csv_bytes([row(i) for i in range(50)])
POLICY = DownloadPolicy(timeout=10, retry=RetryPolicy(max_retries=1, random=lambda: 0.0))


async def _file(request: web.Request) -> web.Response:
    return web.Response(body=FILE, content_type="text/csv")


def _links_to(link: str) -> Any:
    async def api(request: web.Request) -> web.Response:
        return json_answer({"err_no": 0, "err_msg": "", "log_id": "L",
                            "data": {"bill_link": link}})
    return api


async def _rows(api: Server, **options: Any) -> int:
    async with DouyinClient("token-value-123456", base_url=api.url, **options) as client:
        return len([r async for r in client.bill_records(DAY, policy=POLICY)])


async def test_a_link_to_loopback_is_refused_unless_allowed() -> None:
    async with serve(_file) as internal:
        async with serve(_links_to(internal.url + "/admin.csv?x-expires=9999999999")) as api:
            with pytest.raises(UnsafeLinkError) as info:
                await _rows(api)
            assert internal.seen == []
            assert info.value.host == "127.0.0.1"
            assert await _rows(api, bill_hosts_allowed=["127.0.0.1"]) == 50
    assert len(internal.seen) == 1


async def test_a_redirect_to_an_internal_host_is_not_followed() -> None:
    async with serve(_file) as internal:
        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPFound(f"http://localhost:{internal.port}/latest/meta-data")

        async with serve(redirect) as files, serve(_links_to(files.url + "/f.csv")) as api:
            with pytest.raises(UnsafeLinkError) as info:
                await _rows(api, bill_hosts_allowed=["127.0.0.1"])
            assert len(files.seen) == 1 and internal.seen == []
            assert info.value.host == "localhost"


async def test_a_redirect_to_another_scheme_is_refused_even_to_an_allowed_host() -> None:
    contexts = tls()
    async with serve(_file) as plain:
        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPFound(plain.url + "/f.csv")

        async with serve(redirect, context=contexts.server) as files:
            transport = AiohttpTransport(ssl=contexts.client)
            async with serve(_links_to(files.url + "/f.csv")) as api:
                async with DouyinClient("token-value-123456", base_url=api.url,
                                        transport=transport,
                                        bill_hosts_allowed=["127.0.0.1"]) as client:
                    with pytest.raises(UnsafeLinkError, match="from https to http"):
                        [r async for r in client.bill_records(DAY, policy=POLICY)]
    assert len(files.seen) == 1 and plain.seen == []


async def test_redirect_chains_are_bounded() -> None:
    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/hop{len(files.seen)}.csv")

    async with serve(loop) as files, serve(_links_to(files.url + "/f.csv")) as api:
        with pytest.raises(UnsafeLinkError, match="more than 3 redirects"):
            await _rows(api, bill_hosts_allowed=["127.0.0.1"])
    assert len(files.seen) == 4  # the link and three redirects, then no more


async def test_a_host_name_that_resolves_to_loopback_is_refused_before_connecting() -> None:
    async with serve(_file) as internal:
        transport = AiohttpTransport(resolver=PublicResolver())
        try:
            with pytest.raises(UnsafeLinkError, match="resolves to no public address"):
                async with transport.stream(Request("GET", f"http://localhost:{internal.port}/")):
                    pass
        finally:
            await transport.aclose()
        allowed = AiohttpTransport(resolver=PublicResolver(frozenset({"localhost"})))
        try:
            async with allowed.stream(Request("GET", f"http://localhost:{internal.port}/")) as a:
                assert a.status == 200
        finally:
            await allowed.aclose()
    assert len(internal.seen) == 1


@pytest.mark.parametrize(("link", "why"), [
    ("http://files.example.com/f.csv", "plain http"),
    ("https://files.example.com:8443/f.csv", "port 8443"),
    ("https://10.1.2.3/f.csv", "non-public address"),
    ("https://169.254.169.254/latest", "non-public address"),
    ("https://[::1]/f.csv", "non-public address"),
    ("https://[::ffff:192.168.0.1]/f.csv", "non-public address"),
    ("ftp://files.example.com/f.csv", "not an http"),
])
def test_links_that_are_not_public_https_are_refused(link: str, why: str) -> None:
    with pytest.raises(UnsafeLinkError, match=why):
        check_link(link, frozenset())
    check_link("https://p9-taskbox-sign.byteimg.com/f.csv?x-expires=1", frozenset())


async def test_a_bill_file_past_its_limit_stops_there() -> None:
    async with serve(_file) as files, serve(_links_to(files.url + "/f.csv")) as api:
        async with DouyinClient("token-value-123456", base_url=api.url,
                                bill_hosts_allowed=["127.0.0.1"]) as client:
            policy = DownloadPolicy(timeout=10, max_bytes=len(FILE) - 1)
            with pytest.raises(AnswerTooLargeError):
                [r async for r in client.bill_records(DAY, policy=policy)]
    assert len(files.seen) == 1  # not retried

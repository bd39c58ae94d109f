"""The transport seam against a real local server: answers, streams and every failure typed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from douyin_async.errors import ClientClosedError, ResponseDecodeError, TransportError
from douyin_async.http.fake import FakeTransport
from douyin_async.http.transport import AiohttpTransport, Request, Response


async def _handler(request: web.Request) -> web.StreamResponse:
    if request.path == "/slow":
        await asyncio.sleep(1)
    if request.path == "/cut":
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        await response.write(b"x" * 10)
        assert request.transport is not None
        request.transport.close()
        return response
    if request.path == "/big":
        return web.Response(body=b"0123456789" * 20_000)
    body = await request.read()
    return web.json_response({"echo": body.decode(), "token": request.headers.get("access-token")},
                             status=int(request.query.get("status", "200")))


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_send_returns_status_headers_and_body(server: str) -> None:
    transport = AiohttpTransport()
    try:
        answer = await transport.send(Request("POST", server + "/x?status=404", body=b"hi",
                                              headers={"access-token": "secret"}))
    finally:
        await transport.aclose()
    assert answer.status == 404
    assert answer.headers["Content-Type"].startswith("application/json")
    assert b"\"echo\": \"hi\"" in answer.body


async def test_the_transport_tells_when_the_body_has_left(server: str) -> None:
    """Its own session reports each request's departure once, before the answer; a session
    of the caller's cannot, and says so."""
    order: list[str] = []
    transport = AiohttpTransport()
    try:
        assert transport.reports_sent
        for _ in range(2):
            await transport.send(Request("POST", server + "/x", body=b"hi",
                                         on_sent=lambda: order.append("left")))
            order.append("answered")
    finally:
        await transport.aclose()
    assert order == ["left", "answered"] * 2
    async with aiohttp.ClientSession() as session:
        assert not AiohttpTransport(session).reports_sent


async def test_refused_connection_is_a_plain_transport_error() -> None:
    port = _free_port()
    transport = AiohttpTransport()
    try:
        with pytest.raises(TransportError) as info:
            await transport.send(Request("POST", f"http://127.0.0.1:{port}/api/x?token=secret"))
    finally:
        await transport.aclose()
    text = str(info.value)
    assert text.startswith(f"cannot connect to 127.0.0.1:{port}")
    assert "ssl" not in text and "secret" not in text
    assert info.value.endpoint == "/api/x"


async def test_no_answer_in_time_is_a_transport_error(server: str) -> None:
    transport = AiohttpTransport()
    try:
        with pytest.raises(TransportError, match="no answer within 0.2 s"):
            await transport.send(Request("GET", server + "/slow", timeout=0.2))
    finally:
        await transport.aclose()


async def test_a_cut_body_is_a_retryable_decode_error(server: str) -> None:
    transport = AiohttpTransport()
    try:
        with pytest.raises(ResponseDecodeError) as info:
            await transport.send(Request("GET", server + "/cut"))
        assert info.value.retryable
        async with transport.stream(Request("GET", server + "/cut")) as answer:
            with pytest.raises(ResponseDecodeError):
                async for _ in answer.chunks():
                    pass
    finally:
        await transport.aclose()


async def test_stream_yields_the_body_in_chunks(server: str) -> None:
    transport = AiohttpTransport()
    try:
        async with transport.stream(Request("GET", server + "/big")) as answer:
            chunks = [chunk async for chunk in answer.chunks()]
    finally:
        await transport.aclose()
    assert answer.status == 200
    assert b"".join(chunks) == b"0123456789" * 20_000
    assert len(chunks) > 1


async def test_closed_transport_refuses_with_a_typed_error(server: str) -> None:
    transport = AiohttpTransport()
    await transport.aclose()
    with pytest.raises(ClientClosedError):
        await transport.send(Request("GET", server + "/x"))


async def test_fake_transport_answers_and_records() -> None:
    async def handler(request: Request) -> Response:
        return Response(201, {"X": "1"}, request.body or b"")

    fake = FakeTransport(handler, chunk=3)
    answer = await fake.send(Request("POST", "http://fake/a", body=b"abc"))
    assert (answer.status, answer.body) == (201, b"abc")
    async with fake.stream(Request("POST", "http://fake/b", body=b"abcdefg")) as streamed:
        assert [c async for c in streamed.chunks()] == [b"abc", b"def", b"g"]
    assert [r.endpoint for r in fake.requests] == ["/a", "/b"]
    await fake.aclose()
    with pytest.raises(ClientClosedError):
        await fake.send(Request("GET", "http://fake/c"))


def test_request_repr_hides_headers_and_params() -> None:
    text = repr(Request("GET", "http://h/p", headers={"access-token": "secret"},
                        params={"refresh_token": "secret2"}))
    assert "secret" not in text


def test_a_deep_copy_of_a_request_keeps_its_callback_and_copies_its_headers() -> None:
    import copy

    class Gate:  # a callback bound to live state, as the pacing's is
        def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
            self.loop = loop
            self.left = 0

        def sent(self) -> None:
            self.left += 1

    loop = asyncio.new_event_loop()
    try:
        gate = Gate(loop)
        request = Request("POST", "https://example.invalid/x", headers={"a": "1"},
                          params={"q": "1"}, on_sent=gate.sent)
        copied = copy.deepcopy(request)
        assert copied == request and copied.on_sent == gate.sent
        assert copied.headers is not request.headers and copied.params is not request.params
        copied.sent()
        assert gate.left == 1
    finally:
        loop.close()

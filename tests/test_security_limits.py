"""Answers are read within limits, as read and once decompressed: a huge body or a small gzip
body that inflates to far more stops at the limit with a typed error (real servers)."""

from __future__ import annotations

import gzip
import zlib

import orjson
import pytest
from aiohttp import web
from hostile import serve

from douyin_async import DouyinClient, TalentMediaQuery
from douyin_async.errors import AnswerTooLargeError, ResponseDecodeError
from douyin_async.http.limits import BoundedBody
from douyin_async.http.transport import AiohttpTransport, Request

QUERY = TalentMediaQuery(plan_id=1, douyin_id="dy", page_size=10)
MIB = 1024 * 1024
PAGE = orjson.dumps({"data": {"data": [], "total": 0, "page_count": 1},
                     "extra": {"error_code": 0, "logid": "L"}})


def _bomb(size: int) -> bytes:
    """A gzip body of `size` zero bytes (about a thousandth of it on the wire)."""
    out = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    piece = bytes(MIB)
    return b"".join([*(out.compress(piece) for _ in range(size // MIB)), out.flush()])


async def _streamed(request: web.Request, body: bytes, encoding: str = "") -> web.StreamResponse:
    """`body` sent chunked: no Content-Length announces its size."""
    response = web.StreamResponse(headers={"Content-Encoding": encoding} if encoding else {})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        for at in range(0, len(body), 65536):
            await response.write(body[at:at + 65536])
        await response.write_eof()
    except ConnectionError:
        pass  # the client stopped reading
    return response


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_past_the_limit_is_refused(chunked: bool) -> None:
    big = b'{"data": "' + b"x" * (3 * MIB) + b'"}'

    async def handler(request: web.Request) -> web.StreamResponse:
        return await _streamed(request, big) if chunked else web.Response(body=big)

    async with serve(handler) as api:
        async with DouyinClient("t", base_url=api.url, max_answer_bytes=MIB) as client:
            with pytest.raises(AnswerTooLargeError) as info:
                await client.fetch_page(QUERY)
    assert info.value.limit == MIB and len(api.seen) == 1  # not retried
    assert ("announced" in str(info.value)) != chunked


async def test_a_gzip_bomb_stops_at_the_decompressed_limit() -> None:
    bomb = _bomb(256 * MIB)
    assert len(bomb) < MIB

    async def handler(request: web.Request) -> web.StreamResponse:
        return await _streamed(request, bomb, "gzip")

    async with serve(handler) as api:
        async with DouyinClient("t", base_url=api.url) as client:  # the default, 64 MiB
            with pytest.raises(AnswerTooLargeError, match="decompressed") as info:
                await client.fetch_page(QUERY)
    assert info.value.limit == 64 * MIB


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compressed_answers_within_the_limit_are_read(encoding: str) -> None:
    body = gzip.compress(PAGE) if encoding == "gzip" else zlib.compress(PAGE)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Encoding": encoding},
                            content_type="application/json")

    async with serve(handler) as api:
        async with DouyinClient("t", base_url=api.url) as client:
            page = await client.fetch_page(QUERY)
    assert page.records == [] and page.total == 0
    assert "gzip" in api.seen[0].headers["Accept-Encoding"]


async def test_an_encoding_not_asked_for_is_refused() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=b"\x00" * 100, headers={"Content-Encoding": "br"})

    async with serve(handler) as api:
        transport = AiohttpTransport()
        try:
            with pytest.raises(ResponseDecodeError, match="encoding not asked for"):
                await transport.send(Request("POST", api.url + "/x"))
        finally:
            await transport.aclose()


async def test_a_request_may_carry_its_own_limit() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=b"y" * 5000)

    async with serve(handler) as api:
        transport = AiohttpTransport(max_answer_bytes=100)
        try:
            answer = await transport.send(Request("GET", api.url + "/x", max_bytes=5000))
            assert len(answer.body) == 5000
            with pytest.raises(AnswerTooLargeError):
                await transport.send(Request("GET", api.url + "/x"))
        finally:
            await transport.aclose()


@pytest.mark.parametrize("split", [1, 7, 64, 10_000])
def test_gzip_members_split_anywhere_decode_whole(split: int) -> None:
    data = gzip.compress(b"a" * 1000) + gzip.compress(b"b" * 500)
    body = BoundedBody("gzip", MIB, endpoint="/x", status=200)
    out = b"".join(p for at in range(0, len(data), split) for p in body.feed(data[at:at + split]))
    body.finish()
    assert out == b"a" * 1000 + b"b" * 500 and body.read == len(data)


def test_a_cut_gzip_body_is_retried_as_cut() -> None:
    body = BoundedBody("gzip", MIB, endpoint="/x", status=200)
    list(body.feed(gzip.compress(b"x" * 100)[:20]))
    with pytest.raises(ResponseDecodeError) as info:
        body.finish()
    assert info.value.retryable

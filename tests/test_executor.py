"""The request path through a fake transport: statuses, renewals, closing, refused records."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

import orjson
import pytest
from apiserver import TALENT, TASK, media, video

from douyin_async import (
    AuthenticationError,
    DouyinClient,
    PermissionDeniedError,
    RateLimiter,
    RetryPolicy,
    TalentMediaQuery,
    TaskVideoQuery,
)
from douyin_async.errors import ApiError, ClientClosedError, InvalidRecordError
from douyin_async.http.fake import FakeTransport
from douyin_async.http.transport import Request, Response

BASE = "http://api.test"
NOW = int(time.time())


class Renewable:
    """A provider handing out tok-1, tok-2, ... : a new one after each invalidation."""

    renewable = True

    def __init__(self) -> None:
        self.n = 1
        self.invalidated: list[str] = []

    async def get(self) -> str:
        return f"tok-{self.n}"

    def current(self) -> str:
        return f"tok-{self.n}"

    async def invalidate(self, token: str) -> None:
        self.invalidated.append(token)
        self.n += 1


def tasks(n: int, offset: int = 0) -> bytes:
    return orjson.dumps({"err_no": 0, "log_id": "L", "data": {
        "video_daily_data_list": [video(offset + i) for i in range(n)]}})


def talent(records: list[dict[str, Any]], page_count: Any = 1, total: int = 1) -> bytes:
    return orjson.dumps({"data": {"error_code": 0, "total": total, "page_count": page_count,
                                  "data": records}, "extra": {"error_code": 0, "logid": "X"}})


def make(handler: Any, tokens: Any = "static", **kw: Any) -> tuple[DouyinClient, FakeTransport]:
    fake = FakeTransport(handler)
    kw.setdefault("retry_policy", RetryPolicy(max_retries=2, random=lambda: 0.0))
    return DouyinClient(tokens, base_url=BASE, rate_limit=1000, transport=fake, **kw), fake


def tvq(page_size: int = 10) -> TaskVideoQuery:
    return TaskVideoQuery(billing_date="2026-11-01", video_publish_start_time=NOW - 3600,
                          video_publish_end_time=NOW, page_size=page_size)


async def test_http_401_renews_the_token_once_then_succeeds() -> None:
    def handler(request: Request) -> Response:
        if request.headers["access-token"] == "tok-1":
            return Response(401, {}, b'{"err_no": 0, "data": {}}')
        return Response(200, {}, tasks(2))

    provider = Renewable()
    c, fake = make(handler, provider)
    async with c:
        page = await c.fetch_page(tvq())
    assert len(page.records) == 2
    assert provider.invalidated == ["tok-1"]
    assert [r.headers["access-token"] for r in fake.requests] == ["tok-1", "tok-2"]


async def test_token_expired_10008_renews_once() -> None:
    def handler(request: Request) -> Response:
        if request.headers["access-token"] == "tok-1":
            return Response(200, {}, b'{"err_no": 10008, "err_msg": "expired"}')
        return Response(200, {}, tasks(1))

    provider = Renewable()
    c, _ = make(handler, provider)
    async with c:
        assert len((await c.fetch_page(tvq())).records) == 1
    assert provider.invalidated == ["tok-1"]


async def test_http_403_with_a_success_body_is_permission_denied() -> None:
    c, fake = make(lambda r: Response(403, {}, tasks(3)))
    async with c:
        with pytest.raises(PermissionDeniedError) as info:
            await c.fetch_page(tvq())
    assert info.value.http_status == 403 and len(fake.requests) == 1


async def test_http_404_is_an_api_error_naming_the_endpoint() -> None:
    c, _ = make(lambda r: Response(404, {}, b"not found"))
    async with c:
        with pytest.raises(ApiError) as info:
            await c.fetch_page(tvq())
    assert info.value.http_status == 404 and info.value.endpoint == TASK


async def test_a_static_token_refused_with_401_is_raised_at_once() -> None:
    c, fake = make(lambda r: Response(401, {}, b"{}"))
    async with c:
        with pytest.raises(AuthenticationError):
            await c.fetch_page(tvq())
    assert len(fake.requests) == 1


async def test_calls_in_flight_during_close_raise_client_closed() -> None:
    release = asyncio.Event()

    async def handler(request: Request) -> Response:
        await release.wait()
        raise ClientClosedError("the client is closed")

    c, _ = make(handler)
    call = asyncio.ensure_future(c.fetch_page(tvq()))
    await asyncio.sleep(0.01)
    await c.close()
    release.set()
    with pytest.raises(ClientClosedError):
        await call
    with pytest.raises(ClientClosedError):
        await c.fetch_page(tvq())


async def test_a_bad_record_raises_with_its_page_index_and_raw_record() -> None:
    bad = media(1)
    del bad["content_open_id"]
    c, _ = make(lambda r: Response(200, {}, talent([media(0), bad], total=2)))
    async with c:
        with pytest.raises(InvalidRecordError) as info:
            await c.fetch_page(TalentMediaQuery(plan_id=1, douyin_id="a"))
    err = info.value
    assert (err.index, err.record, err.endpoint, err.log_id) == (1, bad, TALENT, "X")
    assert "page 1" in str(err)


async def test_collect_mode_keeps_good_records_and_lists_the_refused() -> None:
    bad = media(1)
    del bad["content_open_id"]
    c, _ = make(lambda r: Response(200, {}, talent([media(0), bad, media(2)], total=3)),
                invalid_records="collect")
    async with c:
        page = await c.fetch_page(TalentMediaQuery(plan_id=1, douyin_id="a"))
    assert [r.content_open_id for r in page.records] == [media(0)["content_open_id"],
                                                        media(2)["content_open_id"]]
    assert [e.index for e in page.rejected] == [1] and page.raw_count == 3


async def test_refused_records_count_towards_a_full_page() -> None:
    """A full page with a refused record is still full: the next page is asked for."""
    def handler(request: Request) -> Response:
        number = orjson.loads(request.body or b"{}")["page_num"]
        if number == 1:
            raw = orjson.loads(tasks(3))
            raw["data"]["video_daily_data_list"][1]["VideoId"] = "x"
            return Response(200, {}, orjson.dumps(raw))
        return Response(200, {}, tasks(1, offset=3))

    c, fake = make(handler, invalid_records="collect")
    async with c:
        pages = [p async for p in c.task_video_pages(tvq(page_size=3))]
    assert [p.raw_count for p in pages] == [3, 1]
    assert sum(len(p.records) for p in pages) == 3


async def test_decoding_leaves_the_collector_as_it_was() -> None:
    seen: list[bool] = []

    async def handler(request: Request) -> Response:
        seen.append(gc.isenabled())
        return Response(200, {}, tasks(5))

    c, _ = make(handler, decode_chunk=2)
    gc.disable()
    try:
        async with c:
            await asyncio.gather(c.fetch_page(tvq()), c.fetch_page(tvq()))
        assert not gc.isenabled()
    finally:
        gc.enable()
    async with make(handler, decode_chunk=2)[0] as c2:
        task = asyncio.ensure_future(c2.fetch_page(tvq()))
        while not task.done():
            assert gc.isenabled()
            await asyncio.sleep(0)
        await task


async def test_a_token_renewed_while_waiting_for_a_slot_is_the_one_sent() -> None:
    """The token is taken before the slot; if the provider renewed it meanwhile, the fresh one
    goes out (no token I/O happens while a slot is held)."""
    granted = asyncio.Event()

    class Gate(RateLimiter):
        rate = 10.0

        async def acquire(self) -> None:
            await granted.wait()

        def on_rate_limited(self) -> None: ...

        def on_success(self) -> None: ...

    class Provider:
        renewable = True

        def __init__(self) -> None:
            self.value = "tok-old"
            self.gets = 0

        async def get(self) -> str:
            self.gets += 1
            return self.value

        async def invalidate(self, token: str) -> None: ...

        def current(self) -> str:
            return self.value

    provider = Provider()
    fake = FakeTransport(lambda r: Response(200, {}, tasks(1)))
    c = DouyinClient(provider, base_url=BASE, limiter=Gate(), transport=fake)
    call = asyncio.ensure_future(c.fetch_page(tvq()))
    await asyncio.sleep(0.01)
    assert provider.gets == 1 and not fake.requests  # token in hand, waiting for the slot
    provider.value = "tok-new"
    granted.set()
    await call
    await c.close()
    assert [r.headers["access-token"] for r in fake.requests] == ["tok-new"]


async def test_the_collector_is_left_as_the_program_set_it() -> None:
    """The decoder never switches the collector: inside a step, between steps and after the
    page it is as the program set it."""
    from douyin_async.api.decoding import PageDecoder
    from douyin_async.api.endpoints import TASK_VIDEOS
    from douyin_async.decode.converter import video_records

    inside: list[bool] = []

    class Watching:
        def many(self, raws: list[Any]) -> list[Any]:
            inside.append(gc.isenabled())
            return video_records.many(raws)

        def split(self, raws: list[Any]) -> tuple[list[Any], list[Any]]:
            return video_records.split(raws)

    import attrs

    endpoint = attrs.evolve(TASK_VIDEOS, records=Watching())
    decoder = PageDecoder(chunk=2)
    page = await decoder.decode(endpoint, Response(200, {}, tasks(5)))
    assert len(page.records) == 5 and inside == [True, True, True] and gc.isenabled()
    gc.disable()
    try:
        await decoder.decode(endpoint, Response(200, {}, tasks(3)))
        assert inside[3:] == [False, False] and not gc.isenabled()
    finally:
        gc.enable()


async def test_the_parsed_records_are_let_go_chunk_by_chunk() -> None:
    """Each chunk's parsed records are released once built (not all when the page ends);
    the raw count stays."""
    from douyin_async.api.decoding import PageDecoder
    from douyin_async.api.endpoints import TASK_VIDEOS
    from douyin_async.decode.converter import video_records

    seen: list[list[Any]] = []

    class Watching:
        def many(self, raws: list[Any]) -> list[Any]:
            seen.append(list(raws))
            return video_records.many(raws)

        def split(self, raws: list[Any]) -> tuple[list[Any], list[Any]]:
            return video_records.split(raws)

    import attrs

    decoder = PageDecoder(chunk=2)
    decoded = await decoder.decode(attrs.evolve(TASK_VIDEOS, records=Watching()),
                                   Response(200, {}, tasks(5)))
    assert len(decoded.records) == 5 and [len(chunk) for chunk in seen] == [2, 2, 1]
    assert decoded.answer.raw == [None] * 5
    page = TASK_VIDEOS.page(None, 1, decoded)
    assert page.raw_count == 5


async def test_bill_links_take_their_own_call_path_in_both_record_modes() -> None:
    """A bill-link answer is read by its own decoder, not as a page: whatever the
    `invalid_records` rule, the links come back, sent to the bill-link path with its body."""
    import datetime as dt

    body = orjson.dumps({"err_no": 0, "log_id": "L", "data": {"bill_link": "https://h/x.csv"}})
    day = dt.date.fromtimestamp(NOW) - dt.timedelta(days=3)
    for mode in ("raise", "collect"):
        c, fake = make(lambda r: Response(200, {}, body), invalid_records=mode)
        async with c:
            links = await c.bill_links(day)
        assert links.bill_link == "https://h/x.csv" and links.log_id == "L", mode
        assert links.bill_date == day and c.stats.pages == 0, mode
        assert [(r.endpoint, orjson.loads(r.body or b"")) for r in fake.requests] == [
            ("/api/match/v2/taskbox/query_bill_link/", {"bill_date": day.isoformat()})], mode


async def test_a_pull_holds_no_page_its_consumer_has_let_go() -> None:
    """While the consumer waits for the next page, the page it dropped is freed: no stream
    layer (the page stream, the merge, the pull) keeps it."""
    import weakref

    gate = asyncio.Event()

    async def handler(request: Request) -> Response:
        number = orjson.loads(request.body or b"{}")["page_num"]
        if number == 1:
            return Response(200, {}, tasks(5))
        await gate.wait()
        return Response(200, {}, tasks(2 if number == 2 else 0, offset=5))

    c, _ = make(handler)
    async with c:
        stream = c.pull([tvq(page_size=5)])
        first = await anext(stream)
        seen = weakref.ref(first)
        del first
        waiting = asyncio.ensure_future(anext(stream))
        for _ in range(50):
            await asyncio.sleep(0)
        assert seen() is None
        gate.set()
        second = await waiting
        assert [r.video_id for r in second.records] == [video(5)["VideoId"], video(6)["VideoId"]]
        await stream.aclose()


async def test_a_talent_stream_in_collect_mode_counts_refused_records_towards_its_total() -> None:
    """A refused record was still sent: the announced total is met, not missed by one."""
    bad = media(1)
    del bad["content_open_id"]
    c, _ = make(lambda r: Response(200, {}, talent([media(0), bad, media(2)], total=3)),
                invalid_records="collect")
    async with c:
        pages = [p async for p in c.talent_media_pages(
            TalentMediaQuery(plan_id=1, douyin_id="a", page_size=3))]
    assert [len(p.records) for p in pages] == [2] and pages[0].raw_count == 3

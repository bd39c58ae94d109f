"""Pages fetched ahead wait as bytes until they are next in their stream: decoded then, to
the same records, with a page's error raised at that page."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
from apiserver import video

from douyin_async import DouyinClient, RetryPolicy, TaskVideoQuery
from douyin_async.api import decoding
from douyin_async.decode import answers
from douyin_async.decode.converter import video_records
from douyin_async.errors import InvalidRecordError
from douyin_async.http.fake import FakeTransport
from douyin_async.http.transport import Request, Response

BASE = "http://api.test"
NOW = int(time.time())
SIZE = 300  # records of a full page: a large answer


def raws_of(page: int) -> list[dict[str, Any]]:
    if page > 3:
        return [video(10_000 + i) for i in range(5)] if page == 4 else []
    return [video(page * 1000 + i) for i in range(SIZE)]


def body(page: int, raws: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"err_no": 0, "log_id": f"p{page}",
                         "data": {"video_daily_data_list": raws}})


async def pull(monkeypatch: pytest.MonkeyPatch, bad_page: int | None = None
               ) -> tuple[list[tuple[str, str]], list[Any], BaseException | None]:
    """Pages 1-3 full (page 3 answered before page 2), page 4 short; the events: each large answer's
    decode ("decode", log id) and each page the consumer got ("got", log id)."""
    events: list[tuple[str, str]] = []
    real = answers.parse_answer

    def spy(records: Any, data: bytes, key: str, **kw: Any) -> Any:
        parsed = real(records, data, key, **kw)
        if parsed is not None and kw.get("pieces"):  # a large answer
            events.append(("decode", parsed.envelope["log_id"]))
        return parsed

    monkeypatch.setattr(decoding, "parse_answer", spy)

    async def handler(request: Request) -> Response:
        page = orjson.loads(request.body or b"{}")["page_num"]
        raws = raws_of(page)
        if page == bad_page:
            raws[7] = dict(raws[7], TaskId="not a number")
        if page == 2:
            await asyncio.sleep(0.05)  # page 3 arrives first
        return Response(200, {}, body(page, raws))

    query = TaskVideoQuery(billing_date="2026-11-01", video_publish_start_time=NOW - 3600,
                           video_publish_end_time=NOW, page_size=SIZE)
    pages: list[Any] = []
    error: BaseException | None = None
    async with DouyinClient("static-token", base_url=BASE, rate_limit=1000,
                            transport=FakeTransport(handler),
                            retry_policy=RetryPolicy(max_retries=0)) as client:
        try:
            async for page in client.task_video_pages(query):
                events.append(("got", page.log_id))
                pages.append(page)
                await asyncio.sleep(0.01)  # the consumer's own work, awaiting
        except InvalidRecordError as exc:
            error = exc
    return events, pages, error


async def test_a_page_fetched_ahead_is_decoded_once_it_is_next(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(body(1, raws_of(1))) > decoding.SMALL_BODY
    events, pages, error = await pull(monkeypatch)
    assert error is None
    assert events == [("decode", "p1"), ("got", "p1"), ("decode", "p2"), ("got", "p2"),
                      ("decode", "p3"), ("got", "p3"), ("got", "p4")]
    for page in pages:  # decoded late, decoded the same
        assert page.records == video_records.many(raws_of(page.page))


async def test_the_error_of_a_page_held_as_bytes_is_raised_at_that_page(
        monkeypatch: pytest.MonkeyPatch) -> None:
    events, pages, error = await pull(monkeypatch, bad_page=2)
    assert [page.page for page in pages] == [1]
    assert isinstance(error, InvalidRecordError) and error.index == 7
    assert "page 2, record 7" in str(error) and error.log_id == "p2"
    assert ("decode", "p3") not in events  # never decoded: nobody would get it

"""A pull ends: pages past the announced total are never asked for, a server that repeats
its records or never ends is stopped, and an announced total is checked within the run
(real servers on 127.0.0.1, the client and the command line)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
from aiohttp import web
from apiserver import TASK, media, video
from helpers.cli import cli
from hostile import json_answer, serve
from record_server import RecordServer
from test_cli_outputs import _token_env, _video_args

from douyin_async import DouyinClient, TalentMediaQuery, TaskVideoQuery
from douyin_async.api import streams
from douyin_async.api.endpoints import TASK_VIDEOS
from douyin_async.api.pagecheck import PageCheck, max_pages
from douyin_async.days import beijing_day
from douyin_async.errors import (
    PageLimitError,
    RepeatedPageError,
    TotalMismatchError,
)

NOW = int(time.time())


def _talent(pages: dict[int, int], *, total: Any = None, page_count: Any = None,
            totals: dict[int, int] | None = None) -> Any:
    """Talent-media pages of `pages[n]` records each (0 for pages not listed)."""
    async def handler(request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        page, size = body["page_no"], body["page_size"]
        records = [media((page - 1) * size + i) for i in range(pages.get(page, 0))]
        data: dict[str, Any] = {"data": records, "date": "2026-11-01",
                                "total": (totals or {}).get(page, total)}
        if page_count is not None:
            data["page_count"] = page_count
        return json_answer({"data": data, "extra": {"error_code": 0, "logid": f"L{page}"}})
    return handler


async def _media(url: str, size: int = 100,
                 most: int = 50) -> tuple[list[Any], BaseException | None]:
    """The records of a talent-media query and the error that ended it, from at most `most`
    pages (a query that would never end is left there)."""
    got: list[Any] = []
    query = TalentMediaQuery(plan_id=1, douyin_id="dy", page_size=size)
    async with DouyinClient("t", base_url=url, max_retries=0) as client:
        try:
            async for page in client.talent_media_pages(query):
                got += page.records
                most -= 1
                if not most:
                    break
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            return got, exc
    return got, None


def _asked(seen: list[Any]) -> list[int]:
    return sorted(orjson.loads(s.body)["page_no"] for s in seen)


async def test_pages_past_the_total_are_not_asked_for_whatever_page_count_says() -> None:
    async with serve(_talent({1: 100, 2: 100, 3: 50}, total=250, page_count=10**9)) as api:
        got, error = await _media(api.url)
    assert error is None and len(got) == 250
    assert _asked(api.seen) == [1, 2, 3]


async def test_a_total_that_changes_between_pages_is_an_error() -> None:
    handler = _talent({1: 100, 2: 80}, total=250, totals={2: 180})
    async with serve(handler) as api:
        got, error = await _media(api.url)
    assert isinstance(error, TotalMismatchError)
    assert "from 250 (page 1) to 180 (page 2)" in str(error)
    assert len(got) == 100  # page 2 is not handed out


async def test_an_empty_page_inside_the_total_is_an_error_naming_it() -> None:
    async with serve(_talent({1: 100, 3: 50}, total=250, page_count=3)) as api:
        got, error = await _media(api.url)
    assert isinstance(error, TotalMismatchError)
    assert (error.expected, error.delivered, error.pages) == (250, 150, (2,))
    assert "150 records of the 250" in str(error) and "2 (0 of 100)" in str(error)
    assert len(got) == 150


async def test_more_records_than_the_total_is_an_error() -> None:
    async with serve(_talent({1: 100, 2: 100}, total=150, page_count=2)) as api:
        got, error = await _media(api.url)
    assert isinstance(error, TotalMismatchError) and error.delivered == 200
    assert len(got) == 100


async def test_a_total_past_what_a_query_holds_is_refused() -> None:
    async with serve(_talent({1: 100}, total=10**9)) as api:
        got, error = await _media(api.url)
    assert isinstance(error, PageLimitError) and got == []


async def test_a_run_of_empty_pages_that_says_more_follow_ends_the_query() -> None:
    async with serve(_talent({}, page_count=10**9)) as api:
        got, error = await _media(api.url, size=10)
    assert isinstance(error, PageLimitError) and "pages 1-3 were empty" in str(error)
    assert max(_asked(api.seen)) <= 3 + 10  # the fetch-ahead window, no further


def _videos(records: Any) -> Any:
    async def handler(request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        return json_answer({"err_no": 0, "err_msg": "", "log_id": "L",
                            "data": {"video_daily_data_list": records(body)}})
    return handler


QUERY = TaskVideoQuery(billing_date=beijing_day(NOW) - dt.timedelta(days=1),
                       video_publish_start_time=NOW - 5 * 86400,
                       video_publish_end_time=NOW - 86400, page_size=100)


async def _pull(url: str, most: int = 50) -> list[Any]:
    """The records of QUERY's pull, at most `most` pages of them (a pull that would never end
    is left there)."""
    got: list[Any] = []
    async with DouyinClient("t", base_url=url) as client:
        async for page in client.pull([QUERY]):
            got += page.records
            most -= 1
            if not most:
                break
    return got


async def test_a_server_that_repeats_its_page_is_stopped_before_repeating() -> None:
    same = [video(i) for i in range(100)]
    async with serve(_videos(lambda body: same)) as api:
        with pytest.raises(RepeatedPageError) as info:
            await _pull(api.url)
    assert info.value.pages == (1, 2)
    assert len(api.seen) <= 12  # page 1 and the fetch-ahead window


async def test_a_query_that_never_ends_stops_at_its_most_pages(
        monkeypatch: pytest.MonkeyPatch) -> None:
    small = attrs.evolve(TASK_VIDEOS, max_records=1000)
    monkeypatch.setattr(streams, "endpoint_for", lambda query: small)

    def endless(body: dict[str, Any]) -> list[Any]:
        start = (body["page_num"] - 1) * 100
        return [video(start + i) for i in range(100)]

    async with serve(_videos(endless)) as api:
        with pytest.raises(PageLimitError, match="reached page 11"):
            await _pull(api.url)
    assert max(orjson.loads(s.body)["page_num"] for s in api.seen) == 11


def test_the_most_pages_follow_the_api_limits() -> None:
    assert max_pages(1_000_000, 10_000) == 101 and max_pages(100_000, 100) == 1001
    check = PageCheck(page_size=10, max_records=100, endpoint=TASK, first_page=3)
    assert check.max_pages == 11


class _Repeating(RecordServer):
    async def _task(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.Response(body=orjson.dumps({
            "err_no": 0, "err_msg": "success", "log_id": "LOG",
            "data": {"video_daily_data_list": [video(i) for i in range(100)]}}),
            content_type="application/json")


def test_the_command_line_writes_each_record_once_and_fails(tmp_path: Path) -> None:
    out = tmp_path / "videos.jsonl"
    with _Repeating() as server:
        result = cli(*_video_args(server, out, "--page-size", "100", "--max-retries", "0"),
                     env=_token_env(), timeout=60)
    assert result.returncode != 0 and "repeats records of page 1" in result.stderr
    lines = out.read_bytes().splitlines() if out.exists() else []
    assert len(lines) <= 100 and len(set(lines)) == len(lines)

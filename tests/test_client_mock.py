"""Client behaviour against aioresponses (no socket)."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from aioresponses import aioresponses as AioResponses
from apiserver import TALENT, TASK, media, video
from yarl import URL

from douyin_async import (
    AuthenticationError,
    DouyinClient,
    InvalidParameterError,
    PermissionDeniedError,
    RetryPolicy,
    ServerError,
    TalentMediaQuery,
    TaskVideoQuery,
)

BASE = "http://api.test"
TOKEN = "secret-token-123"
NOW = int(time.time())


def client(**kw: Any) -> DouyinClient:
    kw.setdefault("rate_limit", 1000)
    kw.setdefault("retry_policy", RetryPolicy(max_retries=2, random=lambda: 0.0))
    return DouyinClient(TOKEN, base_url=BASE, **kw)


def task_page(n: int, offset: int = 0) -> dict[str, Any]:
    return {"err_no": 0, "err_msg": "success", "log_id": "LOGID",
            "data": {"video_daily_data_list": [video(offset + i) for i in range(n)]}}


async def test_task_videos_request_shape_and_records(mock_api: AioResponses) -> None:
    mock_api.post(BASE + TASK, payload=task_page(3))
    async with client() as c:
        records = [r async for r in c.task_video_daily_data(
            "2026-11-01", NOW - 3600, NOW, douyin_id="dy1", page_size=10)]
    assert [r.video_id for r in records] == [video(i)["VideoId"] for i in range(3)]
    (key, calls), = mock_api.requests.items()
    assert key == ("POST", URL(BASE + TASK))
    call = calls[0]
    assert call.kwargs["headers"]["access-token"] == TOKEN
    assert call.kwargs["headers"]["content-type"] == "application/json"
    assert orjson.loads(call.kwargs["data"]) == {
        "billing_date": "2026-11-01", "page_num": 1, "page_size": 10,
        "video_publish_start_time": NOW - 3600, "video_publish_end_time": NOW,
        "douyin_id": "dy1"}


async def test_talent_media_pages_carry_totals(mock_api: AioResponses) -> None:
    body = {"data": {"error_code": 0, "description": "", "total": 2, "page_count": 1,
                     "date": "2026-11-01", "data": [media(0), media(1)]},
            "extra": {"error_code": 0, "logid": "TL"}}
    mock_api.post(BASE + TALENT, payload=body)
    q = TalentMediaQuery(plan_id=7089334664648722476, douyin_id="dyvvvvvv", content_type=3)
    async with client() as c:
        pages = [p async for p in c.talent_media_pages(q)]
    assert len(pages) == 1
    page = pages[0]
    assert (page.total, page.page_count, page.date, page.log_id, page.page) == (
        2, 1, "2026-11-01", "TL", 1)
    assert page.query == q and page.is_last
    assert [m.content_open_id for m in page.records] == ["@open0", "@open1"]


async def test_permission_error_is_not_retried(mock_api: AioResponses) -> None:
    mock_api.post(BASE + TALENT, payload={
        "data": {"error_code": 2100007, "description": "无权限操作"},
        "extra": {"error_code": 2100007, "logid": "LG", "sub_error_code": 110003,
                  "sub_description": "没有权限"}}, repeat=True)
    async with client() as c:
        with pytest.raises(PermissionDeniedError) as info:
            async for _ in c.talent_media(1, "dy"):
                pass
    assert info.value.sub_code == 110003 and info.value.attempts == 1
    assert sum(len(v) for v in mock_api.requests.values()) == 1


async def test_server_errors_are_retried_then_raised_with_attempts(
        mock_api: AioResponses) -> None:
    mock_api.post(BASE + TASK, payload={"err_no": 28001005, "err_msg": "系统内部错误",
                                        "log_id": "L5"}, repeat=True)
    async with client() as c:
        with pytest.raises(ServerError) as info:
            await c.fetch_page(TaskVideoQuery(billing_date="2026-11-01",
                                              video_publish_start_time=NOW - 10,
                                              video_publish_end_time=NOW))
    assert info.value.attempts == 3
    assert "after 3 attempts" in str(info.value)
    assert sum(len(v) for v in mock_api.requests.values()) == 3
    assert c.stats.retries == 2


async def test_invalid_input_sends_nothing(mock_api: AioResponses) -> None:
    async with client(clock=lambda: NOW + 91 * 86400) as c:
        with pytest.raises(InvalidParameterError):
            c.task_video_daily_data("2026-11-01", NOW, NOW - 1)
        with pytest.raises(InvalidParameterError, match="90 days"):
            c.task_video_daily_data("2026-11-01", NOW - 10, NOW)
        with pytest.raises(InvalidParameterError):
            c.talent_media(1, "", 3)
        q = TaskVideoQuery(billing_date="2026-11-01", video_publish_start_time=NOW - 10,
                           video_publish_end_time=NOW)
        with pytest.raises(InvalidParameterError):
            c.pull([TalentMediaQuery(plan_id=1, douyin_id="a"), q])
    assert mock_api.requests == {}


def test_bad_options_are_rejected() -> None:
    for kw in ({"rate_limit": 0}, {"max_concurrency": 0}, {"timeout": 0},
               {"max_retries": -1}, {"rate_limit": {"task_video": 5}},
               {"rate_limit": {"nope": 1, "task_video": 1, "talent_media": 1}}):
        with pytest.raises(InvalidParameterError):
            DouyinClient(TOKEN, base_url=BASE, **kw)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        DouyinClient(TOKEN, base_url="open.douyin.com")
    with pytest.raises(InvalidParameterError):
        DouyinClient("", base_url=BASE)


async def test_token_never_shows(mock_api: AioResponses) -> None:
    mock_api.post(BASE + TASK, payload={"err_no": 28001008, "err_msg": "access_token过期",
                                        "log_id": "LA"})
    async with client() as c:
        assert TOKEN not in repr(c) and TOKEN not in repr(c.tokens)
        with pytest.raises(AuthenticationError) as info:
            async for _ in c.task_video_daily_data("2026-11-01", NOW - 10, NOW):
                pass
    err = info.value
    assert TOKEN not in str(err) and TOKEN not in repr(err)
    assert err.code == 28001008 and err.log_id == "LA"


async def test_user_session_is_not_closed(mock_api: AioResponses) -> None:
    import aiohttp

    mock_api.post(BASE + TASK, payload=task_page(1))
    async with aiohttp.ClientSession() as session:
        async with DouyinClient(TOKEN, base_url=BASE, session=session) as c:
            assert len([r async for r in c.task_video_daily_data("2026-11-01", NOW - 9, NOW)]) == 1
        assert not session.closed

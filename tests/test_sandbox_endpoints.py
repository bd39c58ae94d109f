"""The two data endpoints over a real socket: envelopes, validation codes and pagination."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from sandbox_helpers import (
    BILLING_DATE,
    DAY,
    FORBIDDEN_PLAN,
    NOW,
    PLAN,
    clocked,
    media,
    media_body,
    post,
    post_raw,
    video_body,
    videos,
)

from douyin_async.sandbox import (
    TALENT_MEDIA_PATH,
    TASK_VIDEO_PATH,
    RegisteredClient,
    Sandbox,
)
from douyin_async.sandbox.names import PASCAL_KEYS, SNAKE_KEYS


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    config, _ = clocked(qps=None, incapable_tokens=frozenset({"no-capability"}))
    async with Sandbox(config) as sandbox:
        yield sandbox


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


# -- task videos -----------------------------------------------------------------------


async def test_task_video_envelope_matches_the_page(sb: Sandbox, session: Any) -> None:
    answer = await videos(session, sb, page_size=3)
    assert set(answer) == {"err_no", "err_msg", "log_id", "data"}
    assert (answer["err_no"], answer["err_msg"]) == (0, "success")
    assert len(answer["log_id"]) == 34 and answer["log_id"][:8].isdigit()
    records = answer["data"]["video_daily_data_list"]
    assert len(records) == 3 and tuple(records[0]) == PASCAL_KEYS
    body = video_body(page_size=3)
    expected = sb.data.task_video_page(BILLING_DATE, body["video_publish_start_time"],
                                       body["video_publish_end_time"], page_size=3)
    assert records == expected


async def test_snake_case_sandbox(session: Any) -> None:
    config, _ = clocked(key_style="snake")
    async with Sandbox(config) as sandbox:
        answer = await videos(session, sandbox, page_size=1)
    assert tuple(answer["data"]["video_daily_data_list"][0]) == SNAKE_KEYS


async def test_int64_ids_survive_the_wire(sb: Sandbox, session: Any) -> None:
    status, raw = await post_raw(session, sb.url + TASK_VIDEO_PATH, video_body(page_size=50))
    assert status == 200
    via_orjson = orjson.loads(raw)["data"]["video_daily_data_list"]
    via_json = json.loads(raw)["data"]["video_daily_data_list"]
    assert via_orjson == via_json
    for record in via_json:
        assert record["VideoId"] > 2**53 and record["VideoId"] % 2 == 1
        assert str(record["VideoId"]).encode() in raw
        assert str(record["VideoId"]) in record["VideoLink"]


async def test_pagination_without_total_ends_with_an_empty_page(
    sb: Sandbox, session: Any
) -> None:
    start, end = NOW - 10 * DAY, NOW - 10 * DAY + 6 * 3600
    window: dict[str, Any] = {"video_publish_start_time": start, "video_publish_end_time": end}
    total = sb.data.count_task_videos(BILLING_DATE, start, end)
    size = 100
    got: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = await videos(session, sb, page_num=page, page_size=size, **window)
        records = answer["data"]["video_daily_data_list"]
        assert "total" not in answer["data"]
        got += records
        if len(records) < size:
            break
        page += 1
    assert len(got) == total and page == total // size + 1
    past = await videos(session, sb, page_num=page + 5, page_size=size, **window)
    assert past["err_no"] == 0 and past["data"]["video_daily_data_list"] == []
    assert got == list(sb.data.task_videos(BILLING_DATE, start, end))


async def test_filters_reach_the_data(sb: Sandbox, session: Any) -> None:
    author = sb.data.douyin_ids[3]
    body = video_body(video_publish_end_time=NOW - DAY, douyin_id=author, page_size=1000)
    answer = await post(session, sb.url + TASK_VIDEO_PATH, body)
    records = answer["data"]["video_daily_data_list"]
    assert records and {r["DouyinID"] for r in records} == {author}
    none = await videos(session, sb, agency_client_key="not-an-agency")
    assert none["err_no"] == 0 and none["data"]["video_daily_data_list"] == []
    blank = await videos(session, sb, douyin_id="", agency_client_key="", page_size=5)
    assert len(blank["data"]["video_daily_data_list"]) == 5


INVALID = 28001007


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"billing_date": ...}, INVALID),
        ({"billing_date": "2025/10/01"}, INVALID),
        ({"billing_date": "2025-02-30"}, INVALID),
        ({"billing_date": 20251001}, INVALID),
        ({"page_num": ...}, INVALID),
        ({"page_num": 0}, INVALID),
        ({"page_num": "1"}, INVALID),
        ({"page_num": 1.0}, INVALID),
        ({"page_num": True}, INVALID),
        ({"page_size": ...}, INVALID),
        ({"page_size": 0}, INVALID),
        ({"page_size": -3}, INVALID),
        ({"page_size": 10_001}, 28013010),
        ({"video_publish_start_time": ...}, INVALID),
        ({"video_publish_end_time": ...}, INVALID),
        ({"video_publish_start_time": "1759000000"}, INVALID),
        ({"video_publish_end_time": NOW - 10 * DAY - 1}, INVALID),
        ({"video_publish_end_time": NOW - 10 * DAY + 30 * DAY + 1}, INVALID),
        ({"video_publish_start_time": NOW - 90 * DAY - 1,
          "video_publish_end_time": NOW - 80 * DAY}, 28013009),
        ({"douyin_id": 123}, INVALID),
        ({"agency_client_key": ["x"]}, INVALID),
    ],
)
async def test_task_video_validation(
    sb: Sandbox, session: Any, overrides: dict[str, Any], code: int
) -> None:
    answer = await videos(session, sb, **overrides)
    assert answer["err_no"] == code
    assert answer["err_msg"] and answer["log_id"]
    assert "video_daily_data_list" not in answer["data"]


async def test_task_video_limits_that_pass(sb: Sandbox, session: Any) -> None:
    exact_30_days = await videos(session, sb, video_publish_end_time=NOW - 10 * DAY + 30 * DAY,
                                 page_size=10_000)
    assert exact_30_days["err_no"] == 0
    exact_90_days = await videos(session, sb, video_publish_start_time=NOW - 90 * DAY,
                                 video_publish_end_time=NOW - 89 * DAY)
    assert exact_90_days["err_no"] == 0


async def test_task_video_bad_bodies(sb: Sandbox, session: Any) -> None:
    for raw in (b"not json", b"[1, 2]", b""):
        status, body = await post_raw(session, sb.url + TASK_VIDEO_PATH, raw)
        assert status == 200 and orjson.loads(body)["err_no"] == INVALID


async def test_task_video_token_and_capability(sb: Sandbox, session: Any) -> None:
    assert (await videos(session, sb, token="wrong"))["err_no"] == 28001003
    status, raw = await post_raw(session, sb.url + TASK_VIDEO_PATH, video_body(), token=None)
    assert orjson.loads(raw)["err_no"] == 28001003
    assert (await videos(session, sb, token="no-capability"))["err_no"] == 28001018


async def test_incapable_client_tokens(session: Any) -> None:
    config, _ = clocked(clients=(RegisteredClient("k", "s", capable=False),))
    async with Sandbox(config) as sandbox:
        answer = await post(session, sandbox.url + "/oauth/client_token/",
                            {"client_key": "k", "client_secret": "s",
                             "grant_type": "client_credential"}, token=None)
        token = answer["data"]["access_token"]
        assert (await videos(session, sandbox, token=token))["err_no"] == 28001018
        assert (await media(session, sandbox, token=token))["data"]["error_code"] == 0


# -- talent media ----------------------------------------------------------------------


async def test_talent_media_envelope_matches_the_page(sb: Sandbox, session: Any) -> None:
    answer = await media(session, sb, page_size=7)
    assert set(answer) == {"data", "extra"}
    data, extra = answer["data"], answer["extra"]
    assert set(data) == {"total", "error_code", "description", "data", "date", "page_count"}
    assert set(extra) == {"error_code", "logid", "now", "sub_description", "sub_error_code",
                          "description"}
    assert (data["error_code"], data["description"]) == (0, "")
    assert (extra["error_code"], extra["sub_error_code"], extra["now"]) == (0, 0, NOW)
    assert data["date"] == BILLING_DATE
    total = sb.data.count_talent_media(PLAN, "dyvvvvvv", 3)
    assert data["total"] == total and data["page_count"] == -(-total // 7)
    assert data["data"] == sb.data.talent_media_page(PLAN, "dyvvvvvv", 3, 1, 7)


async def test_talent_media_pages_and_past_the_end(sb: Sandbox, session: Any) -> None:
    first = await media(session, sb, page_size=100)
    total, page_count = first["data"]["total"], first["data"]["page_count"]
    assert total > 0
    got = list(first["data"]["data"])
    for page in range(2, page_count + 1):
        got += (await media(session, sb, page_no=page, page_size=100))["data"]["data"]
    assert got == list(sb.data.talent_media(PLAN, "dyvvvvvv", 3))
    past = await media(session, sb, page_no=page_count + 1, page_size=100)
    assert past["data"]["data"] == [] and past["data"]["total"] == total
    assert past["data"]["page_count"] == page_count


async def test_talent_media_scene_filter(sb: Sandbox, session: Any) -> None:
    for scene in (1, 2):
        answer = await media(session, sb, content_type=scene, page_size=100)
        assert {r["content_type"] for r in answer["data"]["data"]} <= {scene}


async def test_talent_media_forbidden_plan_matches_the_error_example(
    sb: Sandbox, session: Any
) -> None:
    answer = await media(session, sb, plan_id=FORBIDDEN_PLAN)
    assert answer["data"] == {"error_code": 2100007, "description": "无权限操作"}
    extra = answer["extra"]
    assert (extra["error_code"], extra["sub_error_code"]) == (2100007, 110003)
    assert extra["description"] == "无权限操作" and extra["sub_description"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"plan_id": ...}, {"plan_id": "7089"}, {"plan_id": 0}, {"plan_id": 1.5},
        {"page_no": ...}, {"page_no": 0}, {"page_size": 0}, {"page_size": 101},
        {"page_size": ...}, {"douyin_id": ""}, {"douyin_id": ...}, {"douyin_id": 5},
        {"content_type": 0}, {"content_type": 4}, {"content_type": ...}, {"content_type": "3"},
    ],
)
async def test_talent_media_validation(
    sb: Sandbox, session: Any, overrides: dict[str, Any]
) -> None:
    answer = await media(session, sb, **overrides)
    assert answer["data"] == {"error_code": 2100005, "description": "参数错误"}
    assert answer["extra"]["sub_error_code"] == 110001
    assert answer["extra"]["sub_description"].startswith("参数不合法")


async def test_talent_media_tokens(sb: Sandbox, session: Any) -> None:
    answer = await media(session, sb, token="wrong")
    assert answer["data"]["error_code"] == answer["extra"]["error_code"] == 2190002
    status, raw = await post_raw(session, sb.url + TALENT_MEDIA_PATH, media_body(), token=None)
    assert orjson.loads(raw)["data"]["error_code"] == 2190002


async def test_wrong_method_and_path(sb: Sandbox, session: Any) -> None:
    async with session.get(sb.url + TASK_VIDEO_PATH) as resp:
        assert resp.status == 405
    async with session.post(sb.url + "/nope/") as resp:
        assert resp.status == 404

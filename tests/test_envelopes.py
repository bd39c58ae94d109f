"""Both envelopes decode to payloads or typed errors without a socket."""

from __future__ import annotations

import json

import orjson
import pytest

from douyin_async import (
    ApiError,
    AuthenticationError,
    InvalidRequestError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
)
from douyin_async.envelopes import decode_talent_media, decode_task_video

TV = "/api/match/v2/taskbox/query_task_video_daily_data/"
TM = "/poi/common/plan/talent/media/list/"

# The normal answer of the task-video page, with the ids as real answers carry them.
TASK_OK = b"""{ "err_no": 0, "err_msg": "success", "log_id": "202008121419360101980821035705926A",
 "data": { "video_daily_data_list": [ { "ActiveCnt1d": 0, "AdShareCost1d": 0, "Author": "nice1",
 "BillingGMV1d": 0, "BillingRefundGMV1d": 0, "ClientName": "x", "FeedAdShareCost1d": 0,
 "DouyinID": "31626424566", "ExpectedProfit": 0, "GMV1d": 0, "MicroAppTitle": "t",
 "PublishTime": 1692878009, "RefundGMV1d": 0, "TaskId": 7270785143852253001, "TaskName": "n",
 "VideoId": 7270855478333246754, "VideoLink": "https://www.iesdouyin.com/share/video/7270855478333246754/",
 "VideoTitle": "hello", "date": "2023-08-25" } ] } }"""

# The talent-media page's normal and error examples, verbatim.
TALENT_OK = b"""{"data": {"total": 980, "error_code": 0, "description": "", "data": [
 {"content_open_id": "@+mBxWHj2nqdRjxo4Vh4B70Qyt+dfT/I7a0KvRQTPaX+4Cjr/veNDY8kZYHy167jB",
  "content_type": 2, "gmv": 495980, "play_cnt": 980, "talent_commission": 95980, "used_gmv": 5980}],
 "date": "2022-04-26", "page_count": 90},
 "extra": {"error_code": 0, "logid": "202204262133240102252431180E5376DA", "now": 1650980005,
  "sub_description": "", "sub_error_code": 0, "description": ""}}"""
TALENT_DENIED = """{"data": {"error_code": 2100007, "description": "无权限操作"},
 "extra": {"description": "无权限操作", "error_code": 2100007,
  "logid": "20220426180719010225142142054AC378", "now": 1650967640,
  "sub_description": "没有发布/修改通用佣金计划的权限", "sub_error_code": 110003}}""".encode()


def test_task_video_success_keeps_exact_ids() -> None:
    answer = decode_task_video(TASK_OK, http_status=200, endpoint=TV)
    assert answer.log_id == "202008121419360101980821035705926A"
    assert answer.records[0]["VideoId"] == 7270855478333246754
    assert json.loads(TASK_OK)["data"]["video_daily_data_list"][0]["VideoId"] == 7270855478333246754


def test_task_video_empty_and_null_lists_are_empty_pages() -> None:
    for body in (b'{"err_no":0,"log_id":"L","data":{"video_daily_data_list":[]}}',
                 b'{"err_no":0,"log_id":"L","data":{"video_daily_data_list":null}}',
                 b'{"err_no":0,"log_id":"L","data":null}'):
        assert decode_task_video(body, http_status=200, endpoint=TV).records == []


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (28003018, RateLimitedError), (28003017, QuotaExceededError),
        (28001003, AuthenticationError), (28001008, AuthenticationError),
        (28001018, PermissionDeniedError), (28001007, InvalidRequestError),
        (28013009, InvalidRequestError), (28013010, InvalidRequestError),
        (28001005, ServerError), (28001006, ServerError), (12345, ApiError),
    ],
)
def test_task_video_error_codes(code: int, cls: type[ApiError]) -> None:
    body = orjson.dumps({"err_no": code, "err_msg": "msg", "log_id": "LOGID"})
    with pytest.raises(ApiError) as info:
        decode_task_video(body, http_status=200, endpoint=TV)
    err = info.value
    assert type(err) is cls
    assert (err.code, err.message, err.log_id, err.endpoint, err.http_status) == (
        code, "msg", "LOGID", TV, 200)
    for part in (str(code), "msg", "LOGID", TV):
        assert part in str(err)


def test_talent_media_success() -> None:
    answer = decode_talent_media(TALENT_OK, http_status=200, endpoint=TM)
    assert (answer.total, answer.page_count, answer.date) == (980, 90, "2022-04-26")
    assert answer.log_id == "202204262133240102252431180E5376DA"
    assert answer.records[0]["gmv"] == 495980


def test_talent_media_error_carries_sub_code() -> None:
    with pytest.raises(PermissionDeniedError) as info:
        decode_talent_media(TALENT_DENIED, http_status=200, endpoint=TM)
    err = info.value
    assert (err.code, err.sub_code, err.log_id) == (2100007, 110003,
                                                    "20220426180719010225142142054AC378")
    assert err.message == "无权限操作"
    assert err.sub_message == "没有发布/修改通用佣金计划的权限"
    assert "110003" in str(err) and TM in str(err)


@pytest.mark.parametrize(("code", "cls"), [(2190001, QuotaExceededError),
                                           (2190002, AuthenticationError),
                                           (2190008, AuthenticationError),
                                           (2100004, ServerError)])
def test_talent_media_codes(code: int, cls: type[ApiError]) -> None:
    body = orjson.dumps({"data": {"error_code": code, "description": "d"},
                         "extra": {"error_code": code, "logid": "X"}})
    with pytest.raises(cls):
        decode_talent_media(body, http_status=200, endpoint=TM)


def test_error_only_in_extra_is_still_an_error() -> None:
    body = orjson.dumps({"data": {}, "extra": {"error_code": 2190002, "logid": "X",
                                                 "description": "token"}})
    with pytest.raises(AuthenticationError, match="token"):
        decode_talent_media(body, http_status=200, endpoint=TM)


@pytest.mark.parametrize("decode", [decode_task_video, decode_talent_media])
def test_html_502_is_a_server_error(decode: object) -> None:
    with pytest.raises(ServerError) as info:
        decode(b"<html>502 Bad Gateway</html>", http_status=502, endpoint=TV)  # type: ignore[operator]
    assert info.value.http_status == 502 and "502" in str(info.value)


@pytest.mark.parametrize("decode", [decode_task_video, decode_talent_media])
def test_cut_body_is_a_retryable_decode_error(decode: object) -> None:
    with pytest.raises(ResponseDecodeError) as info:
        decode(TASK_OK[:120], http_status=200, endpoint=TV)  # type: ignore[operator]
    assert info.value.retryable
    assert info.value.snippet.startswith('{ "err_no"')
    assert info.value.http_status == 200


@pytest.mark.parametrize("body", [b"[1, 2]", b'{"unexpected": true}',
                                  b'{"err_no": 0, "data": {"video_daily_data_list": 5}}'])
def test_unexpected_shape_is_not_retryable(body: bytes) -> None:
    with pytest.raises(ResponseDecodeError) as info:
        decode_task_video(body, http_status=200, endpoint=TV)
    assert not info.value.retryable


def test_http_429_and_5xx_json_without_code() -> None:
    with pytest.raises(RateLimitedError):
        decode_task_video(b"too many", http_status=429, endpoint=TV)
    with pytest.raises(ServerError):
        decode_talent_media(b'{"message": "oops"}', http_status=503, endpoint=TM)


def test_header_log_id_is_a_fallback() -> None:
    body = b'{"err_no": 28001005, "err_msg": "busy"}'
    with pytest.raises(ServerError) as info:
        decode_task_video(body, http_status=200, endpoint=TV, header_log_id="HDR")
    assert info.value.log_id == "HDR"

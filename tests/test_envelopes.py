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
from douyin_async.api.endpoints import Answer, read_talent_media, read_task_videos
from douyin_async.http.envelopes import open_envelope

TV = "/api/match/v2/taskbox/query_task_video_daily_data/"
TM = "/poi/common/plan/talent/media/list/"


def decode_task_video(body: bytes, *, http_status: int, endpoint: str,
                      header_log_id: str = "") -> Answer:
    return read_task_videos(open_envelope(body, http_status=http_status, endpoint=endpoint,
                                          header_log_id=header_log_id), endpoint)


def decode_talent_media(body: bytes, *, http_status: int, endpoint: str,
                        header_log_id: str = "") -> Answer:
    return read_talent_media(open_envelope(body, http_status=http_status, endpoint=endpoint,
                                           header_log_id=header_log_id), endpoint)

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
    assert answer.raw[0]["VideoId"] == 7270855478333246754
    assert json.loads(TASK_OK)["data"]["video_daily_data_list"][0]["VideoId"] == 7270855478333246754


def test_task_video_empty_and_null_lists_are_empty_pages() -> None:
    for body in (b'{"err_no":0,"log_id":"L","data":{"video_daily_data_list":[]}}',
                 b'{"err_no":0,"log_id":"L","data":{"video_daily_data_list":null}}'):
        assert decode_task_video(body, http_status=200, endpoint=TV).raw == []


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
    assert answer.raw[0]["gmv"] == 495980


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
                                  b'{"err_no": 0, "data": {"video_daily_data_list": 5}}',
                                  b'{"err_no": 0, "data": 7}'])
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


# -- answers shaped as the real platform sends them --------------------------------------


@pytest.mark.parametrize("body", [b'{"err_no": 0, "log_id": "L", "data": {}}',
                                  b'{"err_no": 0, "log_id": "L", "data": null}',
                                  b'{"err_no": 0, "log_id": "L"}'])
def test_success_without_the_record_list_is_a_retryable_shape_error(body: bytes) -> None:
    with pytest.raises(ResponseDecodeError, match="video_daily_data_list is missing") as info:
        decode_task_video(body, http_status=200, endpoint=TV)
    assert info.value.retryable and info.value.log_id == "L"


def test_talent_media_answered_in_the_err_no_envelope_is_its_error() -> None:
    body = b'{"err_no": 28003018, "err_msg": "rate too high", "log_id": "GW"}'
    with pytest.raises(RateLimitedError) as info:
        decode_talent_media(body, http_status=200, endpoint=TM)
    assert (info.value.code, info.value.log_id) == (28003018, "GW")


def test_task_video_answered_in_the_data_extra_envelope_is_its_error() -> None:
    body = orjson.dumps({"data": {"error_code": 2190008, "description": "expired"},
                         "extra": {"error_code": 2190008, "logid": "X"}})
    with pytest.raises(AuthenticationError):
        decode_task_video(body, http_status=200, endpoint=TV)


def test_root_level_error_code_is_an_error() -> None:
    body = b'{"error_code": 2100005, "description": "bad", "data": {"data": []}}'
    with pytest.raises(InvalidRequestError, match="bad"):
        decode_talent_media(body, http_status=200, endpoint=TM)


def test_error_only_in_extra_with_data_looking_like_success() -> None:
    body = orjson.dumps({"data": {"error_code": 0, "data": [], "total": 0},
                         "extra": {"error_code": 2100004, "logid": "X", "sub_error_code": 7,
                                   "sub_description": "later"}})
    with pytest.raises(ServerError) as info:
        decode_talent_media(body, http_status=200, endpoint=TM)
    assert (info.value.sub_code, info.value.sub_message) == (7, "later")


@pytest.mark.parametrize(("status", "cls"), [(401, AuthenticationError),
                                             (403, PermissionDeniedError), (404, ApiError),
                                             (418, ApiError), (500, ServerError),
                                             (429, RateLimitedError)])
@pytest.mark.parametrize("decode", [decode_task_video, decode_talent_media])
def test_non_2xx_with_a_success_body_is_an_error(status: int, cls: type[ApiError],
                                                  decode: object) -> None:
    body = TASK_OK if decode is decode_task_video else TALENT_OK
    with pytest.raises(ApiError) as info:
        decode(body, http_status=status, endpoint=TV)  # type: ignore[operator]
    assert type(info.value) is cls
    assert info.value.http_status == status and f"HTTP {status}" in str(info.value)


def test_401_with_an_error_body_keeps_the_code() -> None:
    body = b'{"err_no": 28001008, "err_msg": "expired", "log_id": "L"}'
    with pytest.raises(AuthenticationError) as info:
        decode_task_video(body, http_status=401, endpoint=TV)
    assert (info.value.code, info.value.http_status) == (28001008, 401)


@pytest.mark.parametrize("page_count", [None, 0, 3.0, "3", True, -1])
def test_unusable_page_count_is_unknown(page_count: object) -> None:
    data: dict[str, object] = {"total": 10, "error_code": 0, "data": []}
    if page_count is not None:
        data["page_count"] = page_count
    body = orjson.dumps({"data": data, "extra": {"error_code": 0, "logid": "X"}})
    assert decode_talent_media(body, http_status=200, endpoint=TM).page_count is None


def test_talent_media_without_a_list_is_empty_only_when_total_is_zero() -> None:
    empty = orjson.dumps({"data": {"total": 0, "error_code": 0}, "extra": {"error_code": 0}})
    assert decode_talent_media(empty, http_status=200, endpoint=TM).raw == []
    short = orjson.dumps({"data": {"total": 5, "error_code": 0}, "extra": {"error_code": 0}})
    with pytest.raises(ResponseDecodeError, match=r"data\.data is missing"):
        decode_talent_media(short, http_status=200, endpoint=TM)


def test_an_unreadable_error_code_is_a_shape_error() -> None:
    with pytest.raises(ResponseDecodeError, match="unreadable error code"):
        decode_task_video(b'{"err_no": 1.5, "data": {}}', http_status=200, endpoint=TV)


def test_huge_err_no_is_still_a_code() -> None:
    body = b'{"err_no": 4667480398268598000, "err_msg": "odd", "log_id": "L"}'
    with pytest.raises(ApiError) as info:
        decode_task_video(body, http_status=200, endpoint=TV)
    assert info.value.code == 4667480398268598000

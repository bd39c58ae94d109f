"""Answer bodies, shaped like the API pages' examples."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from ..days import BEIJING

RATE_LIMITED = 28003018
RATE_LIMITED_MESSAGE = "请求频率过高"
TASK_INTERNAL_ERROR = 28001005
MEDIA_SERVER_ERROR = 2100004
MEDIA_NO_PERMISSION = 2100007
MEDIA_NO_PERMISSION_SUB = 110003
MEDIA_TOKEN_INVALID = 2190002
MEDIA_TOKEN_EXPIRED = 2190008
TASK_TOKEN_INVALID = 28001003
TASK_TOKEN_EXPIRED = 28001008
TASK_NO_CAPABILITY = 28001018

MESSAGES = {
    RATE_LIMITED: RATE_LIMITED_MESSAGE,
    TASK_INTERNAL_ERROR: "系统内部错误,请重试",
    TASK_TOKEN_INVALID: "access_token无效",
    TASK_TOKEN_EXPIRED: "access_token已过期",
    TASK_NO_CAPABILITY: "应用未获得该能力",
    MEDIA_SERVER_ERROR: "系统繁忙,此时请开发者稍候再试",
    MEDIA_NO_PERMISSION: "无权限操作",
    MEDIA_TOKEN_INVALID: "access_token无效",
    MEDIA_TOKEN_EXPIRED: "access_token过期,请刷新或重新授权",
}
SUB_MESSAGES = {MEDIA_NO_PERMISSION_SUB: "没有发布/修改通用佣金计划的权限"}


def log_id(now: float, noise: int) -> str:
    """A log id like the API's: local time to the second, then 20 upper-case hex digits."""
    stamp = dt.datetime.fromtimestamp(now, BEIJING).strftime("%Y%m%d%H%M%S")
    return f"{stamp}{noise & (2**80 - 1):020X}"


def task_video(code: int, message: str, log: str, records: list[dict[str, Any]] | None) -> bytes:
    """The err_no envelope; ``records`` only on success."""
    body: dict[str, Any] = {"err_no": code, "err_msg": message, "log_id": log}
    body["data"] = {"video_daily_data_list": records} if records is not None else {}
    return orjson.dumps(body)


def gateway_error(code: int, message: str, log: str) -> bytes:
    """A gateway's refusal in the err_no form, on any path (no ``data``)."""
    return orjson.dumps({"err_no": code, "err_msg": message, "log_id": log})


def bill_links(code: int, message: str, log: str, links: dict[str, str] | None) -> bytes:
    """The bill-link answer: the err_no envelope, ``data: {bill_link, live_bill_link}``."""
    return orjson.dumps({"err_no": code, "err_msg": message, "log_id": log,
                         "data": links if links is not None else {}})


def talent_media_ok(
    records: list[dict[str, Any]], total: int, page_count: int, date: str, log: str, now: int
) -> bytes:
    """The data/extra envelope of a successful answer."""
    return orjson.dumps({
        "data": {
            "total": total,
            "error_code": 0,
            "description": "",
            "data": records,
            "date": date,
            "page_count": page_count,
        },
        "extra": _extra(0, "", log, now, 0, ""),
    })


def talent_media_error(
    code: int, message: str, log: str, now: int, sub_code: int = 0, sub_message: str = ""
) -> bytes:
    """The data/extra envelope of a refusal: ``data`` holds only the code and description."""
    return orjson.dumps({
        "data": {"error_code": code, "description": message},
        "extra": _extra(code, message, log, now, sub_code, sub_message),
    })


def _extra(
    code: int, message: str, log: str, now: int, sub_code: int, sub_message: str
) -> dict[str, Any]:
    return {
        "error_code": code,
        "logid": log,
        "now": now,
        "sub_description": sub_message,
        "sub_error_code": sub_code,
        "description": message,
    }


def token_answer(code: int, message: str, data: dict[str, Any]) -> bytes:
    """The ``/oauth/*client_token/`` envelope."""
    if code:
        return orjson.dumps({"data": {"error_code": code, "description": message},
                             "message": "error"})
    return orjson.dumps({"data": {**data, "error_code": 0, "description": ""},
                         "message": "success"})


def data_date(now: float) -> str:
    """The talent-media ``date`` (data production day): yesterday, Asia/Shanghai."""
    return (dt.datetime.fromtimestamp(now, BEIJING).date() - dt.timedelta(days=1)).isoformat()

"""Request-body checks of the two data endpoints, with the codes the API pages document.

Task videos (err_no): 28001007 参数不合法 for a body that is not an object, missing or
wrong-typed fields (booleans and floats are not ints, strings are not numbers), ``page_num < 1``,
``page_size < 1``, negative times, ``end < start``, ``end - start > 30 days`` and a billing date
that is not ``YYYY-MM-DD``; 28013010 for ``page_size > 10000``; 28013009 when the start is more
than 90 days before now. Optional ``douyin_id`` / ``agency_client_key`` must be strings when
present; an empty string counts as absent.

Talent media (error_code): 2100005 参数错误, sub-code 110001, for a body that is not an object,
missing or wrong-typed fields, ``plan_id < 1``, ``page_no < 1``, ``page_size`` outside 1..100,
an empty ``douyin_id`` or a ``content_type`` outside {1, 2, 3}.

As the platform does, a task-video billing date after today (Asia/Shanghai) and a publish
window starting after now are 28001007 too.

Bill links (err_no): 28001007 for a body that is not an object or a ``bill_date`` that is not
``YYYY-MM-DD``, for a date whose file is not generated yet (today or later, Asia/Shanghai),
and for a date outside the latest 180 days (before today - 180 days).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from ..days import BEIJING
from .data import parse_billing_date
from .talentmedia import CONTENT_TYPES

INVALID_PARAMS = 28001007
START_TOO_OLD = 28013009
PAGE_TOO_LARGE = 28013010
MEDIA_INVALID_PARAMS = 2100005
MEDIA_INVALID_PARAMS_SUB = 110001

BILL_DAYS = 180

MAX_WINDOW_SECONDS = 30 * 86400
MAX_START_AGE_SECONDS = 90 * 86400
TASK_VIDEO_MAX_PAGE_SIZE = 10_000
TALENT_MEDIA_MAX_PAGE_SIZE = 100
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


class Rejection(Exception):
    """A request refused before any data is read."""

    def __init__(self, code: int, message: str, sub_code: int = 0, sub_message: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.sub_code = sub_code
        self.sub_message = sub_message


@attrs.frozen
class TaskVideoRequest:
    """A checked task-video request."""

    billing_date: dt.date
    page_num: int
    page_size: int
    start: int
    end: int
    douyin_id: str | None
    agency_client_key: str | None


@attrs.frozen
class TalentMediaRequest:
    """A checked talent-media request."""

    plan_id: int
    page_no: int
    page_size: int
    douyin_id: str
    content_type: int


def _int(body: dict[str, Any], name: str, low: int, high: int, fail: type[Exception]) -> int:
    value = body.get(name)
    if value is None:
        raise fail(f"{name} is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(f"{name} must be an integer")
    if not low <= value <= high:
        raise fail(f"{name} must be within {low}..{high}")
    return value


def _optional_str(body: dict[str, Any], name: str, fail: type[Exception]) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail(f"{name} must be a string")
    return value or None


class _TaskVideoInvalid(Rejection):
    def __init__(self, detail: str) -> None:
        super().__init__(INVALID_PARAMS, f"参数不合法: {detail}")


class _MediaInvalid(Rejection):
    def __init__(self, detail: str) -> None:
        super().__init__(MEDIA_INVALID_PARAMS, "参数错误", MEDIA_INVALID_PARAMS_SUB,
                         f"参数不合法: {detail}")


def _object_date(body: Any, name: str) -> dt.date:
    """The ``YYYY-MM-DD`` field ``name`` of a body that must be an object (else 28001007)."""
    if not isinstance(body, dict):
        raise _TaskVideoInvalid("body must be a JSON object")
    value = body.get(name)
    if not isinstance(value, str):
        raise _TaskVideoInvalid(f"{name} is required (YYYY-MM-DD)")
    try:
        return parse_billing_date(value)
    except ValueError:
        raise _TaskVideoInvalid(f"{name} must be YYYY-MM-DD") from None


def parse_task_video(body: Any, now: float) -> TaskVideoRequest:
    """Check a task-video body against the page's rules; raise `Rejection`."""
    fail = _TaskVideoInvalid
    billing_date = _object_date(body, "billing_date")
    page_num = _int(body, "page_num", 1, INT32_MAX, fail)
    page_size = _int(body, "page_size", 1, INT32_MAX, fail)
    if page_size > TASK_VIDEO_MAX_PAGE_SIZE:
        raise Rejection(PAGE_TOO_LARGE, "单页数量不能超过10000")
    start = _int(body, "video_publish_start_time", 0, INT64_MAX, fail)
    end = _int(body, "video_publish_end_time", 0, INT64_MAX, fail)
    if end < start:
        raise fail("video_publish_end_time is before video_publish_start_time")
    if end - start > MAX_WINDOW_SECONDS:
        raise fail("publish window longer than 30 days")
    douyin_id = _optional_str(body, "douyin_id", fail)
    agency = _optional_str(body, "agency_client_key", fail)
    if billing_date > china_today(now):
        raise fail("billing_date is in the future")
    if start > now:
        raise fail("video_publish_start_time is in the future")
    if start < now - MAX_START_AGE_SECONDS:
        raise Rejection(START_TOO_OLD, "开始时间不能早于3个月")
    return TaskVideoRequest(billing_date, page_num, page_size, start, end, douyin_id, agency)


def parse_talent_media(body: Any) -> TalentMediaRequest:
    """Check a talent-media body; raise `Rejection` (2100005 / 110001)."""
    fail = _MediaInvalid
    if not isinstance(body, dict):
        raise fail("body must be a JSON object")
    plan_id = _int(body, "plan_id", 1, INT64_MAX, fail)
    page_no = _int(body, "page_no", 1, INT32_MAX, fail)
    page_size = _int(body, "page_size", 1, TALENT_MEDIA_MAX_PAGE_SIZE, fail)
    douyin_id = body.get("douyin_id")
    if not isinstance(douyin_id, str) or not douyin_id:
        raise fail("douyin_id must be a non-empty string")
    content_type = _int(body, "content_type", 1, 3, fail)
    if content_type not in CONTENT_TYPES:
        raise fail("content_type must be 1, 2 or 3")
    return TalentMediaRequest(plan_id, page_no, page_size, douyin_id, content_type)


def china_today(now: float) -> dt.date:
    """The date at ``now`` in Asia/Shanghai."""
    return dt.datetime.fromtimestamp(now, BEIJING).date()


def parse_bill_link(body: Any, now: float) -> dt.date:
    """Check a bill-link body; the bill date, or `Rejection` (28001007)."""
    fail = _TaskVideoInvalid
    bill_date = _object_date(body, "bill_date")
    today = china_today(now)
    if bill_date >= today:
        raise fail("账单尚未生成 (bill_date must be before today)")
    if bill_date < today - dt.timedelta(days=BILL_DAYS):
        raise fail(f"仅支持查询最近{BILL_DAYS}天的账单")
    return bill_date

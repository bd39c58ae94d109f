"""The peers of the client's decode path: msgspec Structs and pydantic v2 models.

Same record shape as ``VideoDailyData``: exact ints, strings, an aware UTC ``publish_time``
from unix seconds and a ``date``; the ten fields the official SDK marks optional have
defaults (0, or None for ``client_name`` and ``date``). Kept at module level so both libraries
resolve the annotations.

- msgspec reads one spelling per field (``rename``): the Struct reads PascalCase (the tidy
  page, and the realistic page of one key style, whose optional counters may be null).
  msgspec has no per-field alias choice, so for pages whose records mix PascalCase and
  snake_case its Struct lists both spellings as fields with defaults (every field optional,
  a record fills one of each pair): a lower bound of what msgspec would need, since nothing
  checks required fields or merges the pairs. Unknown keys are ignored.
- pydantic reads either spelling (``AliasChoices``) and keeps unknown keys (``extra="allow"``),
  like the client.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, TypeAdapter

from douyin_async.decode.converter import VIDEO_PASCAL_KEYS


class MsVideo(msgspec.Struct, frozen=True, rename=VIDEO_PASCAL_KEYS):
    author: str
    douyin_id: str
    micro_app_title: str
    publish_time: dt.datetime
    task_id: int
    task_name: str
    video_id: int
    video_link: str
    video_title: str
    active_cnt_1d: int | None = 0
    ad_share_cost_1d: int | None = 0
    billing_gmv_1d: int | None = 0
    billing_refund_gmv_1d: int | None = 0
    client_name: str | None = None
    feed_ad_share_cost_1d: int | None = 0
    expected_profit: int | None = 0
    gmv_1d: int | None = 0
    refund_gmv_1d: int | None = 0
    date: dt.date | None = None


class MsEitherVideo(msgspec.Struct, frozen=True):
    """Both spellings of every field, all with defaults (see the module docstring)."""

    ActiveCnt1d: int | None = None
    AdShareCost1d: int | None = None
    Author: str | None = None
    BillingGMV1d: int | None = None
    BillingRefundGMV1d: int | None = None
    ClientName: str | None = None
    FeedAdShareCost1d: int | None = None
    DouyinID: str | None = None
    ExpectedProfit: int | None = None
    GMV1d: int | None = None
    MicroAppTitle: str | None = None
    PublishTime: dt.datetime | None = None
    RefundGMV1d: int | None = None
    TaskId: int | None = None
    TaskName: str | None = None
    VideoId: int | None = None
    VideoLink: str | None = None
    VideoTitle: str | None = None
    active_cnt_1d: int | None = None
    ad_share_cost_1d: int | None = None
    author: str | None = None
    billing_gmv_1d: int | None = None
    billing_refund_gmv_1d: int | None = None
    client_name: str | None = None
    feed_ad_share_cost_1d: int | None = None
    douyin_id: str | None = None
    expected_profit: int | None = None
    gmv_1d: int | None = None
    micro_app_title: str | None = None
    publish_time: dt.datetime | None = None
    refund_gmv_1d: int | None = None
    task_id: int | None = None
    task_name: str | None = None
    video_id: int | None = None
    video_link: str | None = None
    video_title: str | None = None
    date: dt.date | None = None


class MsData(msgspec.Struct):
    video_daily_data_list: list[MsVideo]


class MsEnvelope(msgspec.Struct):
    err_no: int
    err_msg: str
    log_id: str
    data: MsData


class MsEitherData(msgspec.Struct):
    video_daily_data_list: list[MsEitherVideo]


class MsEitherEnvelope(msgspec.Struct):
    err_no: int
    err_msg: str
    log_id: str
    data: MsEitherData


def _either(name: str, default: Any = ...) -> Any:
    return Field(default, validation_alias=AliasChoices(VIDEO_PASCAL_KEYS[name], name))


class PdVideo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    active_cnt_1d: int | None = _either("active_cnt_1d", 0)
    ad_share_cost_1d: int | None = _either("ad_share_cost_1d", 0)
    author: str = _either("author")
    billing_gmv_1d: int | None = _either("billing_gmv_1d", 0)
    billing_refund_gmv_1d: int | None = _either("billing_refund_gmv_1d", 0)
    client_name: str | None = _either("client_name", None)
    feed_ad_share_cost_1d: int | None = _either("feed_ad_share_cost_1d", 0)
    douyin_id: str = _either("douyin_id")
    expected_profit: int | None = _either("expected_profit", 0)
    gmv_1d: int | None = _either("gmv_1d", 0)
    micro_app_title: str = _either("micro_app_title")
    publish_time: dt.datetime = _either("publish_time")
    refund_gmv_1d: int | None = _either("refund_gmv_1d", 0)
    task_id: int = _either("task_id")
    task_name: str = _either("task_name")
    video_id: int = _either("video_id")
    video_link: str = _either("video_link")
    video_title: str = _either("video_title")
    date: dt.date | None = None


class PdData(BaseModel):
    video_daily_data_list: list[PdVideo]


class PdEnvelope(BaseModel):
    err_no: int
    err_msg: str
    log_id: str
    data: PdData


def msgspec_decoder(mixed: bool = False) -> Callable[[bytes], list[Any]]:
    """``msgspec.json.Decoder``; ``strict=False`` turns unix seconds into UTC datetimes."""
    decoder: Any = msgspec.json.Decoder(MsEitherEnvelope if mixed else MsEnvelope, strict=False)

    def decode(body: bytes) -> list[Any]:
        return decoder.decode(body).data.video_daily_data_list  # type: ignore[no-any-return]

    return decode


def pydantic_decoder() -> Callable[[bytes], list[Any]]:
    """``TypeAdapter(...).validate_json`` on the whole answer."""
    adapter = TypeAdapter(PdEnvelope)

    def decode(body: bytes) -> list[Any]:
        return adapter.validate_json(body).data.video_daily_data_list

    return decode

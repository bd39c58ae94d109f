"""The peers of the client's decode path: msgspec Structs and pydantic v2 models.

Same record shape as ``VideoDailyData`` (PascalCase keys as the API page prints them): exact
ints, strings, an aware UTC ``publish_time`` from unix seconds and a ``date``. Kept at module
level so both libraries resolve the annotations.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from douyin_async.converters import VIDEO_PASCAL_KEYS


class MsVideo(msgspec.Struct, frozen=True, rename=VIDEO_PASCAL_KEYS):
    active_cnt_1d: int
    ad_share_cost_1d: int
    author: str
    billing_gmv_1d: int
    billing_refund_gmv_1d: int
    client_name: str
    feed_ad_share_cost_1d: int
    douyin_id: str
    expected_profit: int
    gmv_1d: int
    micro_app_title: str
    publish_time: dt.datetime
    refund_gmv_1d: int
    task_id: int
    task_name: str
    video_id: int
    video_link: str
    video_title: str
    date: dt.date


class MsData(msgspec.Struct):
    video_daily_data_list: list[MsVideo]


class MsEnvelope(msgspec.Struct):
    err_no: int
    err_msg: str
    log_id: str
    data: MsData


class PdVideo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    active_cnt_1d: int = Field(alias="ActiveCnt1d")
    ad_share_cost_1d: int = Field(alias="AdShareCost1d")
    author: str = Field(alias="Author")
    billing_gmv_1d: int = Field(alias="BillingGMV1d")
    billing_refund_gmv_1d: int = Field(alias="BillingRefundGMV1d")
    client_name: str = Field(alias="ClientName")
    feed_ad_share_cost_1d: int = Field(alias="FeedAdShareCost1d")
    douyin_id: str = Field(alias="DouyinID")
    expected_profit: int = Field(alias="ExpectedProfit")
    gmv_1d: int = Field(alias="GMV1d")
    micro_app_title: str = Field(alias="MicroAppTitle")
    publish_time: dt.datetime = Field(alias="PublishTime")
    refund_gmv_1d: int = Field(alias="RefundGMV1d")
    task_id: int = Field(alias="TaskId")
    task_name: str = Field(alias="TaskName")
    video_id: int = Field(alias="VideoId")
    video_link: str = Field(alias="VideoLink")
    video_title: str = Field(alias="VideoTitle")
    date: dt.date


class PdData(BaseModel):
    video_daily_data_list: list[PdVideo]


class PdEnvelope(BaseModel):
    err_no: int
    err_msg: str
    log_id: str
    data: PdData


def msgspec_decoder() -> Callable[[bytes], list[Any]]:
    """``msgspec.json.Decoder``; ``strict=False`` turns unix seconds into UTC datetimes."""
    decoder = msgspec.json.Decoder(MsEnvelope, strict=False)

    def decode(body: bytes) -> list[Any]:
        return decoder.decode(body).data.video_daily_data_list

    return decode


def pydantic_decoder() -> Callable[[bytes], list[Any]]:
    """``TypeAdapter(...).validate_json`` on the whole answer."""
    adapter = TypeAdapter(PdEnvelope)

    def decode(body: bytes) -> list[Any]:
        return adapter.validate_json(body).data.video_daily_data_list

    return decode

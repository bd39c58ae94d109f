"""The one cattrs converter, and the one way records are decoded.

Every record the client returns is built by the structure functions registered here on
``converter``: ``converter.structure(raw, VideoDailyData)`` for one record,
``converter.structure(raws, list[VideoDailyData])`` for a page, and the same for
``TalentMedia``. The page decoder calls the batch path directly (``video_records.many`` /
``.split``, or ``douyin_async.decode.answers`` on an answer's bytes). The functions are the
record decoders of ``douyin_async.decode.decoder`` (a reference per record in Python, and a
batch path that checks and converts with msgspec in C, proven equal to it by the tests), not
cattrs' generated ones: those convert with ``int(v)`` / ``str(v)``, which bends ``12.5`` into
``12`` and ``null`` into ``'None'``, and name no field when they fail.

Rules, the same on every path:

- Task-video records arrive with PascalCase keys (as the API page prints them: ``GMV1d``,
  ``TaskId``) or snake_case keys (as ByteDance's SDK v2 models name them: ``gmv_1d``,
  ``task_id``); the style may change from record to record within a page. A record that
  carries both spellings of one field is refused.
- Missing, null and unknown fields follow the optional-field rule of `douyin_async.models`.
  A refusal names the field and quotes the record. Nothing is coerced: integers must be JSON
  integers within int64 (``12.5``, ``3.0``, ``true`` and ``"12"`` are refused), strings must
  be strings, ``PublishTime`` must be unix seconds (0 .. 9999-12-31), ``date`` must be
  ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any

import cattrs

from ..models import TalentMedia, VideoDailyData
from .batch import unix_datetimes
from .decoder import RecordDecoder, plain_twin
from .fields import Field, Kind

__all__ = [
    "VIDEO_PASCAL_KEYS", "RecordDecoder", "converter", "decode_talent_media", "decode_video",
    "talent_media_records", "unstructure", "video_records",
]

#: snake_case field -> PascalCase key, as the task-video API page prints them.
VIDEO_PASCAL_KEYS: dict[str, str] = {
    "active_cnt_1d": "ActiveCnt1d",
    "ad_share_cost_1d": "AdShareCost1d",
    "author": "Author",
    "billing_gmv_1d": "BillingGMV1d",
    "billing_refund_gmv_1d": "BillingRefundGMV1d",
    "client_name": "ClientName",
    "feed_ad_share_cost_1d": "FeedAdShareCost1d",
    "douyin_id": "DouyinID",
    "expected_profit": "ExpectedProfit",
    "gmv_1d": "GMV1d",
    "micro_app_title": "MicroAppTitle",
    "publish_time": "PublishTime",
    "refund_gmv_1d": "RefundGMV1d",
    "task_id": "TaskId",
    "task_name": "TaskName",
    "video_id": "VideoId",
    "video_link": "VideoLink",
    "video_title": "VideoTitle",
    "date": "date",
}

_VIDEO_KINDS: dict[str, Kind] = {
    "active_cnt_1d": Kind.OPT_INT, "ad_share_cost_1d": Kind.OPT_INT, "author": Kind.STR,
    "billing_gmv_1d": Kind.OPT_INT, "billing_refund_gmv_1d": Kind.OPT_INT,
    "client_name": Kind.OPT_STR, "feed_ad_share_cost_1d": Kind.OPT_INT, "douyin_id": Kind.STR,
    "expected_profit": Kind.OPT_INT, "gmv_1d": Kind.OPT_INT, "micro_app_title": Kind.STR,
    "publish_time": Kind.TIME, "refund_gmv_1d": Kind.OPT_INT, "task_id": Kind.INT,
    "task_name": Kind.STR, "video_id": Kind.INT, "video_link": Kind.STR,
    "video_title": Kind.STR, "date": Kind.OPT_DATE,
}

_MEDIA_KINDS: dict[str, Kind] = {
    "content_open_id": Kind.STR, "content_type": Kind.INT, "gmv": Kind.OPT_INT,
    "play_cnt": Kind.OPT_INT, "talent_commission": Kind.OPT_INT, "used_gmv": Kind.OPT_INT,
}


def _spellings(name: str) -> tuple[str, ...]:
    pascal = VIDEO_PASCAL_KEYS[name]
    return (pascal, name) if pascal != name else (name,)


_PlainVideo = plain_twin(VideoDailyData)
_publish_time = attrgetter("publish_time")


def _build_videos(rows: Sequence[Any], extras: Iterable[Any]) -> list[Any]:
    """Task-video records from batch rows, written out field by field: one slotted object
    each, ordinary attribute stores, then its record class (see
    [`plain_twin`][douyin_async.decode.decoder.plain_twin])."""
    out: list[Any] = []
    append = out.append
    times = unix_datetimes(list(map(_publish_time, rows)))
    for s, extra, when in zip(rows, extras, times, strict=True):
        r: Any = _PlainVideo()
        r.active_cnt_1d = s.active_cnt_1d or 0
        r.ad_share_cost_1d = s.ad_share_cost_1d or 0
        r.author = s.author
        r.billing_gmv_1d = s.billing_gmv_1d or 0
        r.billing_refund_gmv_1d = s.billing_refund_gmv_1d or 0
        r.client_name = s.client_name
        r.feed_ad_share_cost_1d = s.feed_ad_share_cost_1d or 0
        r.douyin_id = s.douyin_id
        r.expected_profit = s.expected_profit or 0
        r.gmv_1d = s.gmv_1d or 0
        r.micro_app_title = s.micro_app_title
        r.publish_time = when
        r.refund_gmv_1d = s.refund_gmv_1d or 0
        r.task_id = s.task_id
        r.task_name = s.task_name
        r.video_id = s.video_id
        r.video_link = s.video_link
        r.video_title = s.video_title
        r.date = s.date
        r.extra = extra
        r.__class__ = VideoDailyData
        append(r)
    return out


#: The decoder of task-video records (either key style, record by record).
video_records: RecordDecoder[VideoDailyData] = RecordDecoder(
    VideoDailyData,
    [Field(name, kind, _spellings(name)) for name, kind in _VIDEO_KINDS.items()],
    build=_build_videos,
    probe="TaskId",
)
#: The decoder of talent-media records (pages of at most 100: the generic build).
talent_media_records: RecordDecoder[TalentMedia] = RecordDecoder(
    TalentMedia, [Field(name, kind, (name,)) for name, kind in _MEDIA_KINDS.items()])


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)
    conv.register_unstructure_hook(dt.datetime, lambda d: int(d.timestamp()))
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    for cls, decoder in ((VideoDailyData, video_records), (TalentMedia, talent_media_records)):
        conv.register_structure_hook(cls, _one_hook(decoder))
        conv.register_structure_hook_func(_is(list[cls]),  # type: ignore[valid-type]
                                          _list_hook(decoder))
    return conv


def _is(page: Any) -> Any:
    """A predicate true for ``page`` only (``list[X].__eq__`` would be ``list.__eq__``)."""
    return lambda t: t == page


def _one_hook(decoder: RecordDecoder[Any]) -> Any:
    def structure(raw: Any, _: Any) -> Any:
        return decoder.one(raw)

    return structure


def _list_hook(decoder: RecordDecoder[Any]) -> Any:
    def structure(raws: Any, _: Any) -> list[Any]:
        return decoder.many(raws)

    return structure


#: The converter. Use it to unstructure records (e.g. for JSON output) as well.
converter = _make_converter()


def decode_video(raw: Mapping[str, Any]) -> VideoDailyData:
    """One task-video record from its raw dict (either key style); ``raw`` is not changed."""
    return video_records.one(raw)


def decode_talent_media(raw: Mapping[str, Any]) -> TalentMedia:
    """One talent-media record from its raw dict; ``raw`` is not changed."""
    return talent_media_records.one(raw)


def unstructure(record: Any) -> dict[str, Any]:
    """A record as a JSON-ready dict (snake_case keys; unknown server keys merged back)."""
    data: dict[str, Any] = converter.unstructure(record)
    extra = data.pop("extra", None)
    if extra:
        for key, value in extra.items():
            data.setdefault(key, value)
    return data


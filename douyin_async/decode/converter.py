"""The one cattrs converter, and the one way records are decoded.

Every record the client returns is built by the structure functions registered here on
``converter``: ``converter.structure(raw, VideoDailyData)`` for one record,
``converter.structure(raws, list[VideoDailyData])`` for a page, and the same for
``TalentMedia``. The page decoder calls the batch path directly (``video_records.many`` /
``.split``). The functions are written out in ``douyin_async.decode.decoder`` (one reference per
record, one column-wise batch path proven equal to it by the tests), not generated at run
time: cattrs' generated functions convert with ``int(v)`` / ``str(v)``, which bends ``12.5``
into ``12`` and ``null`` into ``'None'``, and name no field when they fail.

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
from collections.abc import Iterable, Mapping
from typing import Any

import cattrs

from ..models import TalentMedia, VideoDailyData
from .decoder import RecordDecoder
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


# Records are filled as instances of a plain class with the same slots, whose attributes take
# ordinary stores (the fastest way CPython has to fill an object), and then get their record
# class: assigning ``__class__`` between two classes of the same layout is plain Python and
# skips the frozen ``__setattr__``. Each record is one slotted object, no ``__dict__``: the
# cyclic collector has one object per record to look at, and a record takes less memory than
# one with a dict. Each row ends with the record's ``extra``.


def _plain_twin(cls: type[Any]) -> type[Any]:
    """A plain class whose instances have the layout of ``cls``'s (the same slots)."""
    return type(f"_Plain{cls.__name__}", (), {"__slots__": cls.__slots__})


_PlainVideo = _plain_twin(VideoDailyData)
_PlainMedia = _plain_twin(TalentMedia)


def _fill_videos(rows: Iterable[tuple[Any, ...]]) -> list[Any]:
    out: list[Any] = []
    append = out.append
    for (v00, v01, v02, v03, v04, v05, v06, v07, v08, v09, v10, v11, v12, v13, v14, v15, v16,
         v17, v18, extra) in rows:
        r: Any = _PlainVideo()
        r.active_cnt_1d = v00
        r.ad_share_cost_1d = v01
        r.author = v02
        r.billing_gmv_1d = v03
        r.billing_refund_gmv_1d = v04
        r.client_name = v05
        r.feed_ad_share_cost_1d = v06
        r.douyin_id = v07
        r.expected_profit = v08
        r.gmv_1d = v09
        r.micro_app_title = v10
        r.publish_time = v11
        r.refund_gmv_1d = v12
        r.task_id = v13
        r.task_name = v14
        r.video_id = v15
        r.video_link = v16
        r.video_title = v17
        r.date = v18
        r.extra = extra
        r.__class__ = VideoDailyData
        append(r)
    return out


def _fill_media(rows: Iterable[tuple[Any, ...]]) -> list[Any]:
    # Talent-media pages hold at most 100 records: setattr per field is fast enough.
    out: list[Any] = []
    for row in rows:
        r: Any = _PlainMedia()
        for name, value in zip(_PlainMedia.__slots__, row, strict=True):
            setattr(r, name, value)
        r.__class__ = TalentMedia
        out.append(r)
    return out


#: The decoder of task-video records (either key style, record by record).
video_records: RecordDecoder[VideoDailyData] = RecordDecoder(
    VideoDailyData,
    [Field(name, kind, _spellings(name)) for name, kind in _VIDEO_KINDS.items()],
    _fill_videos,
    probe="TaskId",
)
#: The decoder of talent-media records.
talent_media_records: RecordDecoder[TalentMedia] = RecordDecoder(
    TalentMedia, [Field(name, kind, (name,)) for name, kind in _MEDIA_KINDS.items()],
    _fill_media,
)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)
    conv.register_unstructure_hook(dt.datetime, lambda d: int(d.timestamp()))
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    for cls, decoder in ((VideoDailyData, video_records), (TalentMedia, talent_media_records)):
        conv.register_structure_hook(cls, _one_hook(decoder))
        page: Any = list[cls]  # type: ignore[valid-type]
        conv.register_structure_hook_func(page.__eq__, _list_hook(decoder))
    return conv


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


"""The one cattrs converter and its hooks, built once at import.

Task-video records arrive with PascalCase keys (as the API page prints them: ``GMV1d``,
``TaskId``) or snake_case keys (as ByteDance's SDK models name them: ``gmv_1d``, ``task_id``);
both are accepted. Keys the client does not know are kept in the record's ``extra``.
Detailed validation is off: it made decoding 15-20% slower, and a bad record still raises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from .models import TalentMedia, VideoDailyData

T = TypeVar("T")

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

_UTC = dt.UTC


def _structure_datetime(value: Any, _: type) -> dt.datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected unix seconds, got {value!r}")
    return dt.datetime.fromtimestamp(value, _UTC)


def _structure_date(value: Any, _: type) -> dt.date:
    return dt.date.fromisoformat(value)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)
    conv.register_structure_hook(dt.datetime, _structure_datetime)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_unstructure_hook(dt.datetime, lambda d: int(d.timestamp()))
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    return conv


#: The converter. Use it to unstructure records (e.g. for JSON output) as well.
converter = _make_converter()


class _RecordDecoder:
    """Structures raw dicts of one record type and keeps unknown keys in ``extra``."""

    def __init__(self, cls: type[Any], renames: Mapping[str, str] | None = None) -> None:
        names = [a.name for a in attrs.fields(cls) if a.name != "extra"]
        renames = renames or {}
        overrides: dict[str, Any] = {n: override(rename=renames.get(n, n)) for n in names}
        overrides["extra"] = override(omit=True)
        self.cls = cls
        self.keys = frozenset(renames.get(n, n) for n in names)
        self._fn: Callable[[Mapping[str, Any], type[Any]], Any] = make_dict_structure_fn(
            cls, converter, _cattrs_forbid_extra_keys=False, **overrides
        )

    def __call__(self, raw: Mapping[str, Any]) -> Any:
        record = self._fn(raw, self.cls)
        if raw.keys() != self.keys:
            extra = {k: v for k, v in raw.items() if k not in self.keys}
            if extra:
                # The instance is fresh and not yet shared: completing it here is safe.
                object.__setattr__(record, "extra", extra)
        return record


_VIDEO_PASCAL = _RecordDecoder(VideoDailyData, VIDEO_PASCAL_KEYS)
_VIDEO_SNAKE = _RecordDecoder(VideoDailyData)
_TALENT = _RecordDecoder(TalentMedia)


def video_decoder(sample: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], VideoDailyData]:
    """The decoder for task-video records keyed like ``sample`` (PascalCase or snake_case)."""
    return _VIDEO_SNAKE if "task_id" in sample or "video_id" in sample else _VIDEO_PASCAL


def decode_video(raw: Mapping[str, Any]) -> VideoDailyData:
    """One task-video record from its raw dict (either key style)."""
    result: VideoDailyData = video_decoder(raw)(raw)
    return result


def decode_talent_media(raw: Mapping[str, Any]) -> TalentMedia:
    """One talent-media record from its raw dict."""
    result: TalentMedia = _TALENT(raw)
    return result


def unstructure(record: Any) -> dict[str, Any]:
    """A record as a JSON-ready dict (snake_case keys; unknown server keys merged back)."""
    data: dict[str, Any] = converter.unstructure(record)
    extra = data.pop("extra", None)
    if extra:
        for key, value in extra.items():
            data.setdefault(key, value)
    return data

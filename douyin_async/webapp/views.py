"""Queries for the views web apps show most: "the task videos of these last days".

A window built from the current second (``now - days * 86400`` to ``now``) is a new request
every second: no two viewers ask the same thing, so single flight never joins them and the
page cache never answers them. The data is daily (T+1), so a window of whole Beijing days
loses nothing and is the same request all day long:
[`recent_task_videos`][douyin_async.webapp.views.recent_task_videos] builds it.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from ..days import beijing_day, beijing_moment
from ..errors import InvalidParameterError
from ..models import TaskVideoQuery


def day_window(days: int, now: float | None = None) -> tuple[int, int]:
    """The last ``days`` Beijing days, today included, as an inclusive window of unix
    seconds: from midnight ``days - 1`` days ago to the last second of today."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise InvalidParameterError(f"days must be a positive integer, got {days!r}")
    today = beijing_day(time.time() if now is None else now)
    start = beijing_moment(today - dt.timedelta(days=days - 1))
    end = beijing_moment(today + dt.timedelta(days=1))
    return int(start.timestamp()), int(end.timestamp()) - 1


def recent_task_videos(billing_date: Any, days: int, *, now: float | None = None,
                       **filters: Any) -> TaskVideoQuery:
    """The task videos of ``billing_date`` published in the last ``days`` Beijing days
    (today included; see [`day_window`][douyin_async.webapp.views.day_window]).
    ``filters``: ``douyin_id``, ``agency_client_key``, ``page_size``."""
    start, end = day_window(days, now)
    return TaskVideoQuery(billing_date=billing_date, video_publish_start_time=start,
                          video_publish_end_time=end, **filters)


__all__ = ["day_window", "recent_task_videos"]

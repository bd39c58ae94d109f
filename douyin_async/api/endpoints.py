"""The endpoint table: everything the client knows of each paged API, one row of values.

A row says where the endpoint lives, how to read its answer, which record decoder builds its
records, how to build its page, how a query is cut and checked, and whether page 1 tells the
page count. The client looks the row up instead of branching on query types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import attrs

from ..decode.converter import talent_media_records, video_records
from ..errors import InvalidParameterError, InvalidRecordError
from ..http.envelopes import Envelope, as_count, record_list
from ..models import (
    Page,
    Query,
    TalentMediaPage,
    TalentMediaQuery,
    TaskVideoPage,
    TaskVideoQuery,
)

TASK_VIDEO_ENDPOINT = "/api/match/v2/taskbox/query_task_video_daily_data/"
TALENT_MEDIA_ENDPOINT = "/poi/common/plan/talent/media/list/"
#: The most records one task-video query (a billing date, a window of at most 30 days) is
#: read to: far above the platform's volumes (pages of up to 10,000 records at 10 requests a
#: second), so that a server that never ends a query is stopped after a bounded number of pages.
TASK_VIDEO_MAX_RECORDS = 1_000_000
#: The most records one talent-media query (a talent under a plan) is read to (pages of at
#: most 100 records); a larger announced `total` is refused.
TALENT_MEDIA_MAX_RECORDS = 100_000

P = TypeVar("P")


class Records(Protocol):
    """What the table needs of a record decoder (see
    [`converters`][douyin_async.decode.converter])."""

    def many(self, raws: list[Any]) -> list[Any]:
        """Every record, or the first refusal raised as an `InvalidRecordError`."""

    def split(self, raws: list[Any]) -> tuple[list[Any], list[InvalidRecordError]]:
        """The records that decode, and one `InvalidRecordError` per refused one."""


@attrs.frozen
class Answer:
    """A successful answer, read: raw records, `log_id` and what the server says of totals
    (`None` where it says nothing usable)."""

    raw: list[Any]
    log_id: str
    total: int | None = None
    page_count: int | None = None
    date: str = ""


@attrs.frozen
class Decoded:
    """An answer decoded: the answer read from its envelope, its records, and the records
    refused under the `"collect"` rule."""

    answer: Answer
    records: list[Any]
    rejected: tuple[InvalidRecordError, ...] = ()


#: Where a task-video answer holds its records: `data.video_daily_data_list`.
VIDEO_RECORDS_KEY = "video_daily_data_list"


def read_task_videos(envelope: Envelope, endpoint: str) -> Answer:
    """A task-video answer: `data.video_daily_data_list` is required (no total is sent)."""
    return Answer(record_list(envelope, VIDEO_RECORDS_KEY, endpoint=endpoint), envelope.log_id)


def read_talent_media(envelope: Envelope, endpoint: str) -> Answer:
    """A talent-media answer: `data.data`, with `total` and `page_count` when usable.

    A list may be absent only when the answer says `total` is 0. A `page_count` that is not
    a positive int (missing, 0, `3.0`) is unknown: pages then end at the first short one.
    """
    data = envelope.data
    total = as_count(data.get("total"))
    raw = [] if "data" not in data and total == 0 else record_list(envelope, "data",
                                                                    endpoint=endpoint)
    date = data.get("date")
    return Answer(raw, envelope.log_id, total, as_count(data.get("page_count")) or None,
                  date if isinstance(date, str) else "")


def _task_video_page(query: TaskVideoQuery, page: int, decoded: Decoded) -> TaskVideoPage:
    return TaskVideoPage(query=query, page=page, records=decoded.records,
                         log_id=decoded.answer.log_id, rejected=decoded.rejected,
                         raw_count=len(decoded.answer.raw))


def _talent_media_page(query: TalentMediaQuery, page: int, decoded: Decoded) -> TalentMediaPage:
    answer = decoded.answer
    return TalentMediaPage(query=query, page=page, records=decoded.records, log_id=answer.log_id,
                           total=answer.total, page_count=answer.page_count, date=answer.date,
                           rejected=decoded.rejected, raw_count=len(answer.raw))


def _whole(query: Query) -> Iterable[Query]:
    return (query,)


def _ageless(query: Query, now: float) -> None:
    """Queries of endpoints without an age limit pass at any time."""


def _uncounted(page: Any) -> int | None:
    return None


def _announced(page: TalentMediaPage) -> int | None:
    return page.page_count


def _total(page: TalentMediaPage) -> int | None:
    return page.total


@attrs.frozen
class Endpoint(Generic[P]):
    """One row of the table."""

    #: Short name, as `rate_limit={"task_video": 10}` uses it.
    name: str
    path: str
    read: Callable[[Envelope, str], Answer]
    records: Records
    #: `page(query, number, decoded)`: the typed page.
    page: Callable[[Any, int, Decoded], P]
    #: True when page 1 tells the page count, so the rest can be asked at once.
    counts_pages: bool
    #: The key of a record array large enough to be decoded from the answer's bytes (see
    #: `douyin_async.api.decoding`), or None.
    records_key: str | None = None
    #: The API-sized queries of a query (task-video windows of at most 30 days).
    windows: Callable[[Any], Iterable[Query]] = _whole
    #: Raises when a query is too old for the API at unix time `now`.
    check_age: Callable[[Any, float], None] = _ageless
    #: The page count a page announces (None: not known).
    page_count: Callable[[Any], int | None] = _uncounted
    #: The record total a page announces (None: not known).
    total: Callable[[Any], int | None] = _uncounted
    #: The most records one query is read to (it bounds the pages; see
    #: [`PageCheck`][douyin_async.api.pagecheck.PageCheck]).
    max_records: int = TASK_VIDEO_MAX_RECORDS


TASK_VIDEOS: Endpoint[TaskVideoPage] = Endpoint(
    "task_video", TASK_VIDEO_ENDPOINT, read_task_videos, video_records, _task_video_page,
    counts_pages=False, records_key=VIDEO_RECORDS_KEY, windows=TaskVideoQuery.windows,
    check_age=TaskVideoQuery.check_age)
TALENT_MEDIA: Endpoint[TalentMediaPage] = Endpoint(
    "talent_media", TALENT_MEDIA_ENDPOINT, read_talent_media, talent_media_records,
    _talent_media_page, counts_pages=True, page_count=_announced, total=_total,
    max_records=TALENT_MEDIA_MAX_RECORDS)

#: Every endpoint that takes page queries.
PAGED: Sequence[Endpoint[Any]] = (TASK_VIDEOS, TALENT_MEDIA)
_BY_QUERY: dict[type, Endpoint[Any]] = {TaskVideoQuery: TASK_VIDEOS,
                                        TalentMediaQuery: TALENT_MEDIA}
_BY_NAME: dict[str, str] = {e.name: e.path for e in PAGED} | {e.path: e.path for e in PAGED}


def endpoint_for(query: Query) -> Endpoint[Page]:
    """The row of a query's endpoint."""
    try:
        return _BY_QUERY[type(query)]
    except KeyError:
        raise InvalidParameterError(f"not a query: {query!r}") from None


def path_of(name: str) -> str:
    """An endpoint's path from its short name or its path."""
    try:
        return _BY_NAME[name]
    except KeyError:
        names = ", ".join(repr(e.name) for e in PAGED)
        raise InvalidParameterError(
            f"unknown endpoint {name!r}; use {names} or the API path") from None


__all__ = [
    "PAGED",
    "TALENT_MEDIA",
    "TALENT_MEDIA_ENDPOINT",
    "TALENT_MEDIA_MAX_RECORDS",
    "TASK_VIDEOS",
    "TASK_VIDEO_ENDPOINT",
    "TASK_VIDEO_MAX_RECORDS",
    "Answer",
    "Decoded",
    "Endpoint",
    "endpoint_for",
    "path_of",
    "read_talent_media",
    "read_task_videos",
]

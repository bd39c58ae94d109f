"""The endpoint table: everything the client knows of each API, as one row of values.

A row says where an endpoint lives, how to read its answer once the envelope is open (pure),
which record decoder structures its records, how to build its page, and whether the server
reports a page count (so the pages after the first can be asked at once) or the last page is
the first short one. The client has no `isinstance` branch on queries: it looks the row up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import attrs

from ..bills.links import AGENCY_BILL_LINK_ENDPOINT, BILL_LINK_ENDPOINT, BillLinks, links_from
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


def _task_video_page(query: TaskVideoQuery, page: int, answer: Answer, records: list[Any],
                     rejected: tuple[InvalidRecordError, ...]) -> TaskVideoPage:
    return TaskVideoPage(query=query, page=page, records=records, log_id=answer.log_id,
                         rejected=rejected, raw_count=len(answer.raw))


def _talent_media_page(query: TalentMediaQuery, page: int, answer: Answer, records: list[Any],
                       rejected: tuple[InvalidRecordError, ...]) -> TalentMediaPage:
    return TalentMediaPage(query=query, page=page, records=records, log_id=answer.log_id,
                           total=answer.total, page_count=answer.page_count, date=answer.date,
                           rejected=rejected, raw_count=len(answer.raw))


@attrs.frozen
class Endpoint(Generic[P]):
    """One row of the table."""

    #: Short name, as `rate_limit={"task_video": 10}` uses it.
    name: str
    path: str
    read: Callable[[Envelope, str], Answer]
    records: Records
    page: Callable[..., P]
    #: True when page 1 tells the page count, so the rest can be asked at once.
    counts_pages: bool
    #: The key of a record array large enough to be decoded from the answer's bytes (see
    #: `douyin_async.api.decoding`), or None.
    records_key: str | None = None


TASK_VIDEOS: Endpoint[TaskVideoPage] = Endpoint(
    "task_video", TASK_VIDEO_ENDPOINT, read_task_videos, video_records, _task_video_page,
    counts_pages=False, records_key=VIDEO_RECORDS_KEY)
TALENT_MEDIA: Endpoint[TalentMediaPage] = Endpoint(
    "talent_media", TALENT_MEDIA_ENDPOINT, read_talent_media, talent_media_records,
    _talent_media_page, counts_pages=True)

def read_bill_links(envelope: Envelope, endpoint: str) -> Answer:
    """A bill-link answer: its `data` object is the one "record" (the links)."""
    return Answer([envelope.data], envelope.log_id)


class _AsIs:
    """Records that are the raw values (the bill-link `data`, read by `links_from`)."""

    def many(self, raws: list[Any]) -> list[Any]:
        return raws

    def split(self, raws: list[Any]) -> tuple[list[Any], list[InvalidRecordError]]:
        return raws, []


def _links_answer(path: str) -> Callable[..., BillLinks]:
    def answer(bill_date: Any, page: Any, read: Answer, records: list[Any],
               rejected: tuple[InvalidRecordError, ...]) -> BillLinks:
        return links_from(records[0], log_id=read.log_id, bill_date=bill_date, endpoint=path)

    return answer


#: The bill links of a settlement date (developers and agencies): one request, no pages;
#: their requests share the task-video endpoint's limiter unless one is named for them.
BILL_LINKS: Endpoint[BillLinks] = Endpoint(
    "bill_links", BILL_LINK_ENDPOINT, read_bill_links, _AsIs(),
    _links_answer(BILL_LINK_ENDPOINT), counts_pages=False)
AGENCY_BILL_LINKS: Endpoint[BillLinks] = Endpoint(
    "agency_bill_links", AGENCY_BILL_LINK_ENDPOINT, read_bill_links, _AsIs(),
    _links_answer(AGENCY_BILL_LINK_ENDPOINT), counts_pages=False)

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
    "AGENCY_BILL_LINKS",
    "BILL_LINKS",
    "PAGED",
    "TALENT_MEDIA",
    "TALENT_MEDIA_ENDPOINT",
    "TASK_VIDEOS",
    "TASK_VIDEO_ENDPOINT",
    "Answer",
    "Endpoint",
    "endpoint_for",
    "path_of",
    "read_talent_media",
    "read_task_videos",
]

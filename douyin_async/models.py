"""Records, pages and queries: frozen attrs classes.

Queries check their arguments when built
([`InvalidParameterError`][douyin_async.errors.InvalidParameterError]), so a bad query never
reaches the network. Records are slotted (no `__dict__`, no weak references) and pickle.

The optional-field rule, as in ByteDance's own SDK (a server leaves zero values out): the
task-video counters and money fields `active_cnt_1d`, `ad_share_cost_1d`, `billing_gmv_1d`,
`billing_refund_gmv_1d`, `feed_ad_share_cost_1d`, `expected_profit`, `gmv_1d` and
`refund_gmv_1d`, and the talent-media `gmv`, `play_cnt`, `talent_commission` and `used_gmv`,
are `0` when missing or null; the task-video `client_name` and `date` are `None` when missing
or null. Every other field is required: missing, null or of the wrong type, it raises
[`InvalidRecordError`][douyin_async.errors.InvalidRecordError]. Nothing is coerced, and keys
the client does not know land in the record's `extra` (raw values, keys as sent).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from .api.pagination import is_last_page
from .errors import InvalidParameterError, InvalidRecordError

#: The API refuses publish windows longer than this (end - start, in seconds).
MAX_WINDOW_SECONDS = 30 * 86400
#: The API refuses publish windows starting longer ago than this (seconds before now).
MAX_START_AGE_SECONDS = 90 * 86400
#: Page size limits of the two endpoints.
TASK_VIDEO_MAX_PAGE_SIZE = 10_000
TALENT_MEDIA_MAX_PAGE_SIZE = 100
#: content_type values accepted by the talent-media endpoint (3 covers both scenes).
CONTENT_TYPES = frozenset({1, 2, 3})


class _EmptyExtra(Mapping[str, Any]):
    """The read-only empty mapping of records without unknown keys (one instance, pickled by
    name so that it stays the one)."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"

    def __reduce__(self) -> str:
        return "EMPTY_EXTRA"


#: The ``extra`` of a record without unknown keys: one shared, read-only empty mapping.
EMPTY_EXTRA: Mapping[str, Any] = _EmptyExtra()


# -- records -------------------------------------------------------------------------------


@attrs.frozen(weakref_slot=False)
class VideoDailyData:
    """One video's data for one billing day (task-video endpoint).

    Money fields are integer fen; ids are exact 64-bit integers; `publish_time` is a
    timezone-aware UTC datetime. Missing and unknown fields: see
    [the optional-field rule][douyin_async.models].
    """

    active_cnt_1d: int
    ad_share_cost_1d: int
    author: str
    billing_gmv_1d: int
    billing_refund_gmv_1d: int
    client_name: str | None
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
    date: dt.date | None
    extra: Mapping[str, Any] = attrs.field(default=EMPTY_EXTRA, hash=False, repr=False)


@attrs.frozen(weakref_slot=False)
class TalentMedia:
    """One short video or live room of a talent under a commission plan (amounts in fen).

    `content_open_id` and `content_type` identify the item. Missing and unknown fields: see
    [the optional-field rule][douyin_async.models].
    """

    content_open_id: str
    content_type: int
    gmv: int
    play_cnt: int
    talent_commission: int
    used_gmv: int
    extra: Mapping[str, Any] = attrs.field(default=EMPTY_EXTRA, hash=False, repr=False)


# -- input checks ---------------------------------------------------------------------------


def _to_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
        raise InvalidParameterError(
            f"billing_date must be a datetime.date or 'YYYY-MM-DD', got {value!r}"
        )
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidParameterError(
            f"billing_date must be a valid 'YYYY-MM-DD' date, got {value!r}"
        ) from None


def positive_int(name: str, value: Any, low: int = 1) -> int:
    """`value` when it is an integer >= `low`, else
    [`InvalidParameterError`][douyin_async.errors.InvalidParameterError] naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidParameterError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def to_unix_seconds(value: object, name: str = "time") -> int:
    """Unix seconds from an int or a timezone-aware datetime (naive datetimes are refused)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidParameterError(
                f"{name} is a naive datetime; give it a timezone (e.g. tzinfo=datetime.UTC)"
            )
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError(
            f"{name} must be unix seconds (int) or an aware datetime, got {value!r}"
        )
    if value < 0:
        raise InvalidParameterError(f"{name} must not be negative, got {value}")
    return value


def _start_time(value: object) -> int:
    return to_unix_seconds(value, "video_publish_start_time")


def _end_time(value: object) -> int:
    return to_unix_seconds(value, "video_publish_end_time")


def _optional_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(
            f"{attribute.name} must be a non-empty string or None, got {value!r}"
        )


def _required_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(f"{attribute.name} must be a non-empty string, got {value!r}")


def _int_in(low: int, high: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidParameterError(
                f"{attribute.name} must be an integer in {low}..{high}, got {value!r}"
            )

    return check


# -- queries --------------------------------------------------------------------------------


@attrs.frozen
class TaskVideoQuery:
    """A task-video query: one billing date and an inclusive publish window (unix seconds).

    Windows longer than 30 days are allowed here;
    [`windows`][douyin_async.TaskVideoQuery.windows] splits them into the consecutive windows
    the API accepts. The 90-day age limit depends on the clock and is
    checked by the client before the first request.
    """

    billing_date: dt.date = attrs.field(converter=_to_date)
    video_publish_start_time: int = attrs.field(converter=_start_time)
    video_publish_end_time: int = attrs.field(converter=_end_time)
    douyin_id: str | None = attrs.field(default=None, validator=_optional_id)
    agency_client_key: str | None = attrs.field(default=None, validator=_optional_id)
    page_size: int = attrs.field(
        default=TASK_VIDEO_MAX_PAGE_SIZE, validator=_int_in(1, TASK_VIDEO_MAX_PAGE_SIZE)
    )

    def __attrs_post_init__(self) -> None:
        if self.video_publish_end_time < self.video_publish_start_time:
            raise InvalidParameterError(
                "video_publish_end_time is before video_publish_start_time "
                f"({self.video_publish_end_time} < {self.video_publish_start_time})"
            )

    def windows(self) -> Iterator[TaskVideoQuery]:
        """This query cut into consecutive windows of at most 30 days.

        Windows are inclusive at both ends: each starts one second after the previous one
        ends, so no second is missed or asked twice.
        """
        start, end = self.video_publish_start_time, self.video_publish_end_time
        if end - start <= MAX_WINDOW_SECONDS:
            yield self  # one window: the query itself
            return
        while True:
            stop = min(end, start + MAX_WINDOW_SECONDS)
            yield attrs.evolve(self, video_publish_start_time=start, video_publish_end_time=stop)
            if stop >= end:
                return
            start = stop + 1

    def check_age(self, now: float) -> None:
        """Raise if the window starts more than 90 days before ``now`` (unix seconds)."""
        oldest = now - MAX_START_AGE_SECONDS
        if self.video_publish_start_time < oldest:
            raise InvalidParameterError(
                f"video_publish_start_time {self.video_publish_start_time} is more than 90 days "
                f"before now ({int(now)}); the API keeps 90 days"
            )

    def body(self, page_num: int) -> dict[str, Any]:
        """The JSON body for one page of this (single-window) query."""
        body: dict[str, Any] = {
            "billing_date": self.billing_date.isoformat(),
            "page_num": page_num,
            "page_size": self.page_size,
            "video_publish_start_time": self.video_publish_start_time,
            "video_publish_end_time": self.video_publish_end_time,
        }
        if self.douyin_id is not None:
            body["douyin_id"] = self.douyin_id
        if self.agency_client_key is not None:
            body["agency_client_key"] = self.agency_client_key
        return body


@attrs.frozen
class TalentMediaQuery:
    """A talent-media query: one talent under one commission plan, one content type."""

    plan_id: int = attrs.field(validator=_int_in(1, 2**63 - 1))
    douyin_id: str = attrs.field(validator=_required_id)
    content_type: int = attrs.field(default=3)
    page_size: int = attrs.field(
        default=TALENT_MEDIA_MAX_PAGE_SIZE, validator=_int_in(1, TALENT_MEDIA_MAX_PAGE_SIZE)
    )

    @content_type.validator
    def _check_content_type(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or value not in CONTENT_TYPES:
            raise InvalidParameterError(
                f"content_type must be one of {sorted(CONTENT_TYPES)}, got {value!r}"
            )

    def body(self, page_no: int) -> dict[str, Any]:
        """The JSON body for one page of this query."""
        return {
            "plan_id": self.plan_id,
            "douyin_id": self.douyin_id,
            "content_type": self.content_type,
            "page_no": page_no,
            "page_size": self.page_size,
        }


# -- pages ----------------------------------------------------------------------------------


def _raw_count(page: Any) -> int:
    return len(page.records) + len(page.rejected)


@attrs.frozen(slots=False)
class TaskVideoPage:
    """One answered page of a task-video query (`query` is the 30-day window asked).

    `rejected` holds the records the client refused (with `invalid_records="collect"`);
    `raw_count` is how many records the server sent, refused ones included.
    """

    query: TaskVideoQuery
    page: int
    records: list[VideoDailyData] = attrs.field(repr=lambda r: f"[{len(r)} records]")
    log_id: str
    rejected: tuple[InvalidRecordError, ...] = attrs.field(default=(), repr=False)
    raw_count: int = attrs.field(default=attrs.Factory(_raw_count, takes_self=True))

    @property
    def is_last(self) -> bool:
        """True when no page follows this one (it is short; see
        `pagination.is_last_page`)."""
        return is_last_page(self.page, self.raw_count, self.query.page_size)


@attrs.frozen(slots=False)
class TalentMediaPage:
    """One answered page of a talent-media query, with the server's totals (`None` where the
    answer held no usable value)."""

    query: TalentMediaQuery
    page: int
    records: list[TalentMedia] = attrs.field(repr=lambda r: f"[{len(r)} records]")
    log_id: str
    total: int | None
    page_count: int | None
    date: str = ""
    rejected: tuple[InvalidRecordError, ...] = attrs.field(default=(), repr=False)
    raw_count: int = attrs.field(default=attrs.Factory(_raw_count, takes_self=True))

    @property
    def is_last(self) -> bool:
        """True when no page follows this one: it reaches the announced `total`; or, with
        no total, it is short and no `page_count` says more follow (see
        `pagination.is_last_page`)."""
        return is_last_page(self.page, self.raw_count, self.query.page_size, self.page_count,
                            self.total)


Query = TaskVideoQuery | TalentMediaQuery
Page = TaskVideoPage | TalentMediaPage

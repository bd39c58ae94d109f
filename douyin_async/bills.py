"""The bill-file API: link answers, the [`BillRecord`][douyin_async.bills.BillRecord] model, the
one header table and the row decoder. Pure: values in, values out.

The platform's zone is Asia/Shanghai (Beijing time). China has kept UTC+8 without daylight
saving since 1991, so every time in a bill file since then is exactly UTC+8:
[`SHANGHAI`][douyin_async.bills.SHANGHAI] is a fixed-offset `tzinfo` named "Asia/Shanghai",
which needs no tz database (`zoneinfo` would need the `tzdata` package on Windows and on slim
images, for the same answer).

Cells are decoded by the header table [`COLUMNS`][douyin_async.bills.COLUMNS] (Chinese header
-> snake_case field and kind). Headers are matched after NFKC normalisation (full-width
brackets and colons read as ASCII) with blanks removed, so `（单位：分）` and `(单位:分)` are
one header. Columns the table does not know are kept, as text, in
[`BillRecord.extra`][douyin_async.bills.BillRecord]. An empty cell of a known column reads as
`None`; the key columns ([`KEY_COLUMNS`][douyin_async.bills.KEY_COLUMNS]) must be present in
the header and filled in every row.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import attrs

from .envelopes import err_no_data, parse_json, shape_error
from .errors import InvalidParameterError, InvalidRecordError, ResponseDecodeError
from .models import EMPTY_EXTRA

#: Beijing time: UTC+8, no daylight saving since 1991 (exact for every bill file).
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
#: Developer and agency endpoints of the bill links.
BILL_LINK_ENDPOINT = "/api/match/v2/taskbox/query_bill_link/"
AGENCY_BILL_LINK_ENDPOINT = "/api/match/v2/taskbox/agency_query_bill_link/"
#: Settlement dates further back than this many days are refused before any request.
MAX_BILL_AGE_DAYS = 180

BillKind = Literal["video", "live"]


class BillFileError(ResponseDecodeError):
    """A bill file that cannot be read as a whole: key columns missing from its header
    (`missing` names them, as the table spells them), bytes that are not text in the file's
    encoding, or a file that changed between two downloads. Not retried."""

    def __init__(self, message: str, *, endpoint: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message, http_status=200, snippet="", endpoint=endpoint)
        self.missing = missing


# -- links ------------------------------------------------------------------------------------


def bill_date_of(value: object, now: float) -> dt.date:
    """A settlement date, checked: a `datetime.date` or `'YYYY-MM-DD'`, before today and at
    most [`MAX_BILL_AGE_DAYS`][douyin_async.bills.MAX_BILL_AGE_DAYS] days back (both in Beijing
    time at unix time `now`). Raises
    [`InvalidParameterError`][douyin_async.errors.InvalidParameterError]."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            value = None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidParameterError(f"bill_date must be a datetime.date or 'YYYY-MM-DD', "
                                    f"got {value!r}")
    today = dt.datetime.fromtimestamp(now, SHANGHAI).date()
    if value >= today:
        raise InvalidParameterError(
            f"bill_date {value} is not over yet in Beijing time (today is {today}): its bill "
            "file is generated after the day ends")
    if (today - value).days > MAX_BILL_AGE_DAYS:
        raise InvalidParameterError(
            f"bill_date {value} is more than {MAX_BILL_AGE_DAYS} days ago: the platform keeps "
            f"bill files of the latest {MAX_BILL_AGE_DAYS} days only (today is {today})")
    return value


def bill_link_endpoint(agency: bool) -> str:
    """The path of the bill-link endpoint for a developer (or an agency)."""
    return AGENCY_BILL_LINK_ENDPOINT if agency else BILL_LINK_ENDPOINT


def bill_link_body(bill_date: dt.date) -> dict[str, Any]:
    """The request body of both bill-link endpoints."""
    return {"bill_date": bill_date.isoformat()}


def link_expiry(url: str | None) -> dt.datetime | None:
    """When a signed link expires, from its `x-expires` (unix seconds), in Beijing time; None
    when the link carries none."""
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("x-expires")
    if not values or not values[0].isascii() or not values[0].isdigit():
        return None
    try:
        return dt.datetime.fromtimestamp(int(values[0]), SHANGHAI)
    except (ValueError, OverflowError, OSError):
        return None


@attrs.frozen
class BillLinks:
    """The answer of a bill-link endpoint: the signed download links of one settlement date.

    `bill_link` is the video file, `live_bill_link` the live-room file (None when the answer
    has none); each `*_expires` is the link's `x-expires` as an aware datetime (None when the
    link carries none). Links are credentials of a kind: they are hidden from the repr.
    """

    bill_date: dt.date
    bill_link: str | None = attrs.field(repr=False)
    live_bill_link: str | None = attrs.field(repr=False)
    bill_link_expires: dt.datetime | None
    live_bill_link_expires: dt.datetime | None
    log_id: str

    def link(self, kind: BillKind) -> str | None:
        """The link of the `"video"` or `"live"` file."""
        return self.live_bill_link if kind == "live" else self.bill_link

    def expires(self, kind: BillKind) -> dt.datetime | None:
        """When the link of the `"video"` or `"live"` file expires."""
        return self.live_bill_link_expires if kind == "live" else self.bill_link_expires


def decode_bill_links(body: bytes, *, http_status: int, endpoint: str, bill_date: dt.date,
                      header_log_id: str = "") -> BillLinks:
    """Decode a bill-link answer (the `err_no` envelope) or raise its typed error."""
    obj = parse_json(body, http_status=http_status, endpoint=endpoint,
                     header_log_id=header_log_id)
    data, log_id = err_no_data(obj, http_status=http_status, endpoint=endpoint,
                               header_log_id=header_log_id)
    links: list[str | None] = []
    for name in ("bill_link", "live_bill_link"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise shape_error(f"{name} is not a string", obj, http_status=http_status,
                              endpoint=endpoint)
        links.append(value or None)
    if links[0] is None and links[1] is None:
        raise shape_error("answer holds no bill_link and no live_bill_link", obj,
                          http_status=http_status, endpoint=endpoint)
    return BillLinks(bill_date, links[0], links[1], link_expiry(links[0]),
                     link_expiry(links[1]), log_id)


# -- records ----------------------------------------------------------------------------------


@attrs.frozen(slots=True)
class BillRecord:
    """One row of a bill file. Money is integer fen, ids and counts exact ints, times aware
    datetimes in Beijing time ([`SHANGHAI`][douyin_async.bills.SHANGHAI]).

    `*_1d` fields are the settlement day's values (the fields of
    [`VideoDailyData`][douyin_async.models.VideoDailyData] of the same name), `*_total` the
    cumulative ones. A field is None when its column is absent from the file or its cell is
    empty; the key fields `bill_date` and `video_id` are always set. `extra` holds the
    columns the header table does not know: header -> cell text.
    """

    bill_date: dt.date
    video_id: int
    micro_app_id: str | None = None
    task_id: int | None = None
    agent_id: int | None = None
    publish_time: dt.datetime | None = None
    douyin_id: str | None = None
    play_cnt_total: int | None = None
    click_cnt_total: int | None = None
    comment_cnt_total: int | None = None
    like_cnt_total: int | None = None
    share_cnt_total: int | None = None
    talent_profit_1d: int | None = None
    talent_profit_total: int | None = None
    gmv_1d: int | None = None
    gmv_total: int | None = None
    refund_gmv_1d: int | None = None
    refund_gmv_total: int | None = None
    billing_gmv_1d: int | None = None
    billing_gmv_total: int | None = None
    billing_refund_gmv_1d: int | None = None
    billing_refund_gmv_total: int | None = None
    ad_share_cost_1d: int | None = None
    ad_share_cost_total: int | None = None
    feed_ad_share_cost_1d: int | None = None
    feed_ad_share_cost_total: int | None = None
    active_cnt_1d: int | None = None
    active_cnt_total: int | None = None
    billing_end_time: dt.datetime | None = None
    #: The row's number in its file (1: the first row after the header).
    row: int = 0
    extra: Mapping[str, str] = attrs.field(default=EMPTY_EXTRA, hash=False, repr=False)


_FEN = "（单位：分）"

#: The one header table: Chinese header -> (field of
#: [`BillRecord`][douyin_async.bills.BillRecord], kind). Kinds: `int` (ids, counts, fen),
#: `str`, `date`, `datetime`. Some fields have more than one spelling (the cumulative headers
#: are not confirmed); a header matches after NFKC normalisation, blanks removed.
COLUMNS: dict[str, tuple[str, str]] = {
    "账单统计日期": ("bill_date", "date"),
    "视频ID": ("video_id", "int"),
    "视频关联的小程序ID": ("micro_app_id", "str"),
    "视频关联的任务ID": ("task_id", "int"),
    "视频关联的团长ID": ("agent_id", "int"),
    "视频发布时间": ("publish_time", "datetime"),
    "视频归属用户抖音号": ("douyin_id", "str"),
    "视频累计播放量": ("play_cnt_total", "int"),
    "视频累计点击数": ("click_cnt_total", "int"),
    "视频累计评论数": ("comment_cnt_total", "int"),
    "视频累计点赞数": ("like_cnt_total", "int"),
    "视频累计分享量": ("share_cnt_total", "int"),
    "视频当日达人佣金" + _FEN: ("talent_profit_1d", "int"),
    "视频累计达人佣金" + _FEN: ("talent_profit_total", "int"),
    "当日视频产生的交易订单支付金额" + _FEN: ("gmv_1d", "int"),
    "累计视频产生的交易订单支付金额" + _FEN: ("gmv_total", "int"),
    "视频产生的交易订单当日退款金额" + _FEN: ("refund_gmv_1d", "int"),
    "视频产生的交易订单累计退款金额" + _FEN: ("refund_gmv_total", "int"),
    "累计视频产生的交易订单退款金额" + _FEN: ("refund_gmv_total", "int"),
    "当日视频CPS关联的交易订单支付金额" + _FEN: ("billing_gmv_1d", "int"),
    "累计视频CPS关联的交易订单支付金额" + _FEN: ("billing_gmv_total", "int"),
    "视频CPS关联的交易订单当日退款金额" + _FEN: ("billing_refund_gmv_1d", "int"),
    "视频CPS关联的交易订单累计退款金额" + _FEN: ("billing_refund_gmv_total", "int"),
    "累计视频CPS关联的交易订单退款金额" + _FEN: ("billing_refund_gmv_total", "int"),
    "当日视频产生的广告收入" + _FEN: ("ad_share_cost_1d", "int"),
    "累计视频产生的广告收入" + _FEN: ("ad_share_cost_total", "int"),
    "当日视频Feed流产生的广告收入" + _FEN: ("feed_ad_share_cost_1d", "int"),
    "累计视频Feed流产生的广告收入" + _FEN: ("feed_ad_share_cost_total", "int"),
    "当日视频关联的有效日活用户数": ("active_cnt_1d", "int"),
    "累计视频关联的有效日活用户数": ("active_cnt_total", "int"),
    "视频结束计费时间": ("billing_end_time", "datetime"),
}

#: Columns a file must have (by field), per kind: without them its rows identify nothing.
#: Nothing documents the live-room file; it is taken to have the video file's columns.
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "video": ("bill_date", "video_id"),
    "live": ("bill_date", "video_id"),
}


def normalize_header(header: str) -> str:
    """A header as the table matches it: NFKC, blanks and a byte-order mark removed."""
    return "".join(unicodedata.normalize("NFKC", header.replace("\ufeff", "")).split())


_BY_HEADER = {normalize_header(h): spec for h, spec in COLUMNS.items()}
_FIELD_HEADER = {field: h for h, (field, _) in reversed(list(COLUMNS.items()))}


def _one_getter(indexes: Sequence[int]) -> Callable[[Sequence[str]], tuple[str, ...]]:
    if len(indexes) == 1:
        only = indexes[0]
        return lambda cells: (cells[only],)
    if not indexes:
        return lambda cells: ()
    return itemgetter(*indexes)


def _parse_int(text: str) -> int:
    digits = text[1:] if text[:1] == "-" else text
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError("not an integer")
    return int(text)


def _parse_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text.replace("/", "-"))


def _parse_datetime(text: str) -> dt.datetime:
    if text.isascii() and text.isdigit():
        return dt.datetime.fromtimestamp(int(text), SHANGHAI)
    moment = dt.datetime.fromisoformat(text.replace("/", "-"))
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


_PARSERS: dict[str, Callable[[str], Any]] = {
    "int": _parse_int, "str": str, "date": _parse_date, "datetime": _parse_datetime}
_REASONS = {"int": "not an integer", "date": "not a date (YYYY-MM-DD)",
            "datetime": "not a time (YYYY-MM-DD HH:MM:SS or unix seconds)", "str": "bad text"}


class RowDecoder:
    """Rows of one bill file (its header decides the columns) -> records.

    Raises [`BillFileError`][douyin_async.bills.BillFileError] at construction when a key
    column is missing or two columns name the same field.
    [`decode`][douyin_async.bills.RowDecoder.decode] raises an
    [`InvalidRecordError`][douyin_async.errors.InvalidRecordError] for a bad row (`index` is
    the row number, 1 for the first row after the header; `record` the row's cells).
    """

    def __init__(self, header: Sequence[str], kind: BillKind, *, endpoint: str) -> None:
        self.header = [h.replace("\ufeff", "").strip() for h in header]
        self.kind = kind
        self.endpoint = endpoint
        by_field: dict[str, int] = {}
        kinds: dict[str, str] = {}
        extra: list[tuple[int, str]] = []
        for index, name in enumerate(self.header):
            spec = _BY_HEADER.get(normalize_header(name))
            if spec is None:
                extra.append((index, name))
                continue
            field, field_kind = spec
            if field in by_field:
                raise BillFileError(
                    f"columns {self.header[by_field[field]]!r} and {name!r} both hold "
                    f"{field}", endpoint=endpoint)
            by_field[field] = index
            kinds[field] = field_kind
        missing = tuple(_FIELD_HEADER[f] for f in KEY_COLUMNS[kind] if f not in by_field)
        if missing:
            raise BillFileError(f"the {kind} bill file has no {', '.join(missing)} column"
                                f"{'s' if len(missing) > 1 else ''}", endpoint=endpoint,
                                missing=missing)
        self.keys = KEY_COLUMNS[kind]
        self.width = len(self.header)
        ints = [f for f in by_field if kinds[f] == "int"]
        self._int_names = tuple(ints)
        self._ints = _one_getter([by_field[f] for f in ints])
        others = [f for f in by_field if kinds[f] != "int"]
        self._others = tuple((f, by_field[f], _PARSERS[kinds[f]], kinds[f]) for f in others)
        self._extra = tuple(extra)

    def _bad(self, cells: Sequence[str], row: int, field: str, reason: str) -> InvalidRecordError:
        return InvalidRecordError(f"bill file row {row}: {field}: {reason}", field=field,
                                  reason=reason, record=list(cells), index=row,
                                  snippet=repr(list(cells))[:200], endpoint=self.endpoint)

    def decode(self, cells: Sequence[str], row: int) -> BillRecord:
        """The record of one row (its cells as the CSV reader split them)."""
        if len(cells) != self.width:
            raise self._bad(cells, row, "(row)",
                            f"{len(cells)} cells, the header has {self.width}")
        values: dict[str, Any]
        texts = self._ints(cells)
        joined = "".join(texts)
        if joined.isdigit() and joined.isascii() and all(texts):
            values = dict(zip(self._int_names, map(int, texts), strict=True))
        else:
            values = {}
            for name, text in zip(self._int_names, texts, strict=True):
                text = text.strip()
                try:
                    values[name] = _parse_int(text) if text else None
                except ValueError:
                    raise self._bad(cells, row, name, f"not an integer: {text!r}") from None
        for name, index, parse, kind in self._others:
            text = cells[index].strip()
            if not text:
                values[name] = None
                continue
            try:
                values[name] = parse(text)
            except (ValueError, OverflowError, OSError):
                raise self._bad(cells, row, name, f"{_REASONS[kind]}: {text!r}") from None
        for name in self.keys:
            if values[name] is None:
                raise self._bad(cells, row, name, "empty key column")
        if self._extra:
            values["extra"] = {name: cells[index] for index, name in self._extra}
        return BillRecord(row=row, **values)


__all__ = [
    "AGENCY_BILL_LINK_ENDPOINT",
    "BILL_LINK_ENDPOINT",
    "COLUMNS",
    "KEY_COLUMNS",
    "SHANGHAI",
    "BillFileError",
    "BillKind",
    "BillLinks",
    "BillRecord",
    "RowDecoder",
    "bill_date_of",
    "bill_link_body",
    "bill_link_endpoint",
    "decode_bill_links",
    "link_expiry",
]

"""Bill files: the [`BillRecord`][douyin_async.bills.records.BillRecord] model, the one header
table and
the row decoder. Pure: values in, values out.

The platform's zone is Asia/Shanghai (Beijing time). China has kept UTC+8 without daylight
saving since 1991, so every time in a bill file since then is exactly UTC+8:
[`SHANGHAI`][douyin_async.bills.records.SHANGHAI] is a fixed-offset `tzinfo` named "Asia/Shanghai",
which needs no tz database (`zoneinfo` would need the `tzdata` package on Windows and on slim
images, for the same answer).

Cells are decoded by the header table [`COLUMNS`][douyin_async.bills.records.COLUMNS] (Chinese
header
-> snake_case field and kind). Headers are matched after NFKC normalisation (full-width
brackets and colons read as ASCII) with blanks removed, so `（单位：分）` and `(单位:分)` are
one header. Columns the table does not know are kept, as text, in
[`BillRecord.extra`][douyin_async.bills.records.BillRecord]. An empty cell of a known column reads
as
`None`; the key columns ([`KEY_COLUMNS`][douyin_async.bills.records.KEY_COLUMNS]) must be present in
the header and filled in every row.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from importlib.resources import files
from operator import itemgetter
from typing import Any, Literal

import attrs
import orjson

from ..days import BEIJING
from ..errors import BillFileError, InvalidRecordError
from ..models import EMPTY_EXTRA

#: Beijing time: UTC+8, no daylight saving since 1991 (exact for every bill file).
SHANGHAI = BEIJING

BillKind = Literal["video", "live"]


# -- records ----------------------------------------------------------------------------------


@attrs.frozen(slots=True)
class BillRecord:
    """One row of a bill file. Money is integer fen, ids and counts exact ints, times aware
    datetimes in Beijing time ([`SHANGHAI`][douyin_async.bills.records.SHANGHAI]).

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


#: The one header table: Chinese header -> (field of
#: [`BillRecord`][douyin_async.bills.records.BillRecord], kind), read from `bill_columns.json`
#: beside
#: this module. Kinds: `int` (ids, counts, fen), `str`, `date`, `datetime`. Some fields have
#: more than one spelling (the cumulative headers are not confirmed); a header matches after
#: NFKC normalisation, blanks removed.
COLUMNS: dict[str, tuple[str, str]] = {
    header: (field, kind) for header, (field, kind)
    in orjson.loads(files(__package__).joinpath("columns.json").read_bytes()).items()
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
_INT_ONLY = {int}
_CACHE_SIZE = 4096
_REASONS = {"int": "not an integer", "date": "not a date (YYYY-MM-DD)",
            "datetime": "not a time (YYYY-MM-DD HH:MM:SS or unix seconds)", "str": "bad text"}


class RowDecoder:
    """Rows of one bill file (its header decides the columns) -> records.

    Raises [`BillFileError`][douyin_async.bills.records.BillFileError] at construction when a key
    column is missing or two columns name the same field.
    [`decode`][douyin_async.bills.records.RowDecoder.decode] raises an
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
        # Dates and times repeat (one bill date, a few billing end times): each column keeps
        # the values it parsed, up to _CACHE_SIZE of them.
        self._others: tuple[tuple[str, int, Callable[[str], Any], str, dict[str, Any]], ...] = \
            tuple((f, by_field[f], _PARSERS[kinds[f]], kinds[f], {}) for f in others)
        self._extra = tuple(extra)
        self._int_count = len(ints)
        # Values are gathered as [ints..., others..., None]; _order picks them in the field
        # order of BillRecord (None for a field whose column is absent).
        gathered = {name: at for at, name in enumerate([*ints, *others])}
        fields = [f.name for f in attrs.fields(BillRecord)][:-2]  # all but row and extra
        self._order = itemgetter(*(gathered.get(f, len(gathered)) for f in fields))
        self._keys = tuple((f, gathered[f]) for f in self.keys)

    def _bad(self, cells: Sequence[str], row: int, field: str, reason: str) -> InvalidRecordError:
        return InvalidRecordError(f"bill file row {row}: {field}: {reason}", field=field,
                                  reason=reason, record=list(cells), index=row,
                                  snippet=repr(list(cells))[:200], endpoint=self.endpoint)

    def _ints_slowly(self, cells: Sequence[str], row: int) -> list[int | None]:
        values: list[int | None] = []
        for name, text in zip(self._int_names, self._ints(cells), strict=True):
            text = text.strip()
            try:
                values.append(_parse_int(text) if text else None)
            except ValueError:
                raise self._bad(cells, row, name, f"not an integer: {text!r}") from None
        return values

    def decode(self, cells: Sequence[str], row: int) -> BillRecord:
        """The record of one row (its cells as the CSV reader split them)."""
        if len(cells) != self.width:
            raise self._bad(cells, row, "(row)",
                            f"{len(cells)} cells, the header has {self.width}")
        values: list[Any]
        try:
            # Every integer cell at once, by orjson: a cell that is not a plain integer
            # (empty, a fraction, a word, 2**64 or more) fails here or in the type check,
            # and the row is read again cell by cell.
            values = orjson.loads("[" + ",".join(self._ints(cells)) + "]")
            if len(values) != self._int_count or set(map(type, values)) != _INT_ONLY:
                raise ValueError("not only integers")
        except ValueError:
            values = self._ints_slowly(cells, row)
        for name, index, parse, kind, cache in self._others:
            text = cells[index]
            value = cache.get(text)
            if value is None:
                stripped = text.strip()
                try:
                    value = parse(stripped) if stripped else None
                except (ValueError, OverflowError, OSError):
                    raise self._bad(cells, row, name, f"{_REASONS[kind]}: {text!r}") from None
                if len(cache) < _CACHE_SIZE:
                    cache[text] = value
            values.append(value)
        values.append(None)  # what absent columns read
        for name, at in self._keys:
            if values[at] is None:
                raise self._bad(cells, row, name, "empty key column")
        extra = {name: cells[index] for index, name in self._extra} if self._extra \
            else EMPTY_EXTRA
        return BillRecord(*self._order(values), row, extra)  # type: ignore[call-arg]


__all__ = [
    "COLUMNS",
    "KEY_COLUMNS",
    "SHANGHAI",
    "BillFileError",
    "BillKind",
    "BillRecord",
    "RowDecoder",
]

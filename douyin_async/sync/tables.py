"""The tables a sync loads: one per endpoint, with declared column types and a natural key.

Column kinds are the same in every destination, each in its own types:

| kind | PostgreSQL | SQLite | Parquet |
|---|---|---|---|
| `bigint` (ids, counters, money in fen) | `bigint` | `INTEGER` | `int64` |
| `text` | `text` | `TEXT` | `string` |
| `date` (Beijing days) | `date` | `TEXT` `YYYY-MM-DD` | `date32` |
| `timestamptz` | `timestamptz` | `TEXT` ISO 8601 with offset | `timestamp[us, UTC]` |
| `json` (`extra`) | `jsonb` | `TEXT` (JSON) | `string` (JSON) |

Keys the platform adds later (which the records keep in their `extra` mapping, spelled as
sent) go to the one `extra` column under their snake_case spelling, so `TalentProfit1d` and
`talent_profit_1d` are one key. Rows are tuples in column order, built from the records by
[`row_maker`][douyin_async.sync.tables.row_maker].
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

import attrs
import orjson

from ..bills.records import BillRecord
from ..decode.fields import snake, snake_keys
from ..models import TalentMedia, VideoDailyData

Row = tuple[Any, ...]


@attrs.frozen
class Column:
    """One column: its name and kind (`bigint`, `text`, `date`, `timestamptz`, `json`)."""

    name: str
    kind: str


@attrs.frozen
class SyncTable:
    """A table of a sync: its name, the day column a load replaces by, columns and key."""

    name: str
    day_column: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]


def _kind(annotation: Any) -> str:
    text = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    first = text.replace("datetime.", "").replace("dt.", "").split("|")[0].strip()
    return {"int": "bigint", "datetime": "timestamptz", "date": "date"}.get(first, "text")


def _fields(cls: type[Any], skip: tuple[str, ...]) -> list[Column]:
    return [Column(f.name, _kind(f.type)) for f in attrs.fields(cls)
            if f.name not in (*skip, "extra")]


_EXTRA = Column("extra", "json")

TASK_VIDEOS = SyncTable(
    name="task_videos", day_column="billing_date",
    columns=(Column("billing_date", "date"), Column("task_id", "bigint"),
             Column("video_id", "bigint"), *_fields(VideoDailyData, ("task_id", "video_id")),
             _EXTRA),
    key=("billing_date", "task_id", "video_id"))
TALENT_MEDIA = SyncTable(
    name="talent_media", day_column="date",
    columns=(Column("date", "date"), Column("plan_id", "bigint"), Column("douyin_id", "text"),
             Column("content_type", "bigint"), Column("content_open_id", "text"),
             *_fields(TalentMedia, ("content_type", "content_open_id")), _EXTRA),
    key=("date", "plan_id", "douyin_id", "content_type", "content_open_id"))
#: Bill rows: a file is one settlement day's video or live-room file; its rows are numbered.
BILLS = SyncTable(
    name="bills", day_column="bill_date",
    columns=(Column("bill_date", "date"), Column("kind", "text"), Column("row", "bigint"),
             *_fields(BillRecord, ("bill_date", "row")), _EXTRA),
    key=("bill_date", "kind", "row"))


def extra_of(extra: Mapping[str, Any]) -> str | None:
    """A record's unknown keys under their snake_case spelling, as JSON text (None when it
    has none): every destination stores the text as it is (`jsonb` parses it)."""
    if not extra:
        return None
    return orjson.dumps(snake_keys(extra)).decode()


def row_maker(table: SyncTable, context: int) -> Callable[[tuple[Any, ...], Any], Row]:
    """A function of (context values, record) giving the row: the first `context` columns
    come from the context (day, query), the rest from the record's attributes, and `extra`
    (JSON text) last."""
    names = table.names[context:-1]
    get = attrgetter(*names)

    def make(front: tuple[Any, ...], record: Any) -> Row:
        return (*front, *get(record), extra_of(record.extra))

    return make


def to_day(value: str | dt.date) -> dt.date:
    """A `YYYY-MM-DD` text or a date, as a date."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


__all__ = ["BILLS", "TALENT_MEDIA", "TASK_VIDEOS", "Column", "Row", "SyncTable",
           "extra_of", "row_maker", "snake", "to_day"]

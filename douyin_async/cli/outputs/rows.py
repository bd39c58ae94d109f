"""Records as output rows: snake_case fields plus the query context the records lack.

Task-video rows carry ``billing_date`` (the records' own ``date`` is the data date); talent-media
rows carry ``plan_id``, ``douyin_id`` and the answer's ``date`` (the day its figures were
produced, so one day's snapshot tells from another's). A pull for many apps (``--apps``) puts
the app's name first, in an ``app`` column that is also the first part of the natural key.
Keys the client does not know go to one ``extra`` object under their snake_case spelling
(``TalentProfit1d`` and ``talent_profit_1d`` are one key), never to the top level: JSONL
writes it as an object, CSV and SQLite as JSON text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import orjson

from ...bills.records import BillRecord
from ...decode.converter import converter
from ...decode.fields import snake_keys
from ...models import Page, TalentMedia, TalentMediaPage, TaskVideoPage, VideoDailyData


@attrs.frozen
class Table:
    """The fixed columns of one record type and its natural key."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        """Column names in order."""
        return [name for name, _ in self.columns]


def _record_columns(cls: type[Any]) -> list[tuple[str, str]]:
    columns = []
    for field in attrs.fields(cls):
        if field.name == "extra":
            continue
        integer = field.type in (int, dt.datetime, "int", "dt.datetime")
        columns.append((field.name, "INTEGER" if integer else "TEXT"))
    return columns


TASK_VIDEOS = Table(
    name="task_videos",
    columns=(("billing_date", "TEXT"), *_record_columns(VideoDailyData), ("extra", "TEXT")),
    key=("billing_date", "video_id", "task_id"),
)
TALENT_MEDIA = Table(
    name="talent_media",
    columns=(("plan_id", "INTEGER"), ("douyin_id", "TEXT"), ("date", "TEXT"),
             *_record_columns(TalentMedia), ("extra", "TEXT")),
    key=("plan_id", "douyin_id", "content_open_id", "content_type"),
)
#: Bill-file rows: the file (``agency``, ``kind``, ``file_date``) and the row's number in it
#: are the key, so no two rows of a file collapse into one.
BILLS = Table(
    name="bills",
    columns=(("agency", "INTEGER"), ("kind", "TEXT"), ("file_date", "TEXT"), ("row", "INTEGER"),
             *[(f.name, "INTEGER" if str(f.type).startswith(("int", "dt.datetime")) else "TEXT")
               for f in attrs.fields(BillRecord) if f.name not in ("row", "extra")],
             ("extra", "TEXT")),
    key=("agency", "kind", "file_date", "row"),
)


#: Integer columns that are identifiers (text in a spreadsheet, never a rounded number).
ID_COLUMNS = frozenset({"task_id", "video_id", "plan_id", "agent_id"})
#: Columns holding unix seconds, and columns holding ``YYYY-MM-DD`` dates.
TIME_COLUMNS = frozenset({"publish_time", "billing_end_time"})
DATE_COLUMNS = frozenset({"date", "billing_date", "bill_date", "file_date"})


def column_kinds(table: Table) -> list[str]:
    """What each column of ``table`` holds, in order: ``id`` (an integer identifier),
    ``int`` (a counter or an amount in fen), ``datetime`` (unix seconds), ``date`` or
    ``text``."""
    kinds = []
    for name, sql_type in table.columns:
        kinds.append("id" if name in ID_COLUMNS else "datetime" if name in TIME_COLUMNS
                     else "date" if name in DATE_COLUMNS
                     else "int" if sql_type == "INTEGER" else "text")
    return kinds


def with_app(table: Table) -> Table:
    """``table`` with an ``app`` column first, also first in the natural key."""
    return Table(name=table.name, columns=(("app", "TEXT"), *table.columns),
                 key=("app", *table.key))


def table_for(kind: str, *, apps: bool = False) -> Table:
    """The table of a pull kind (``task-videos``, ``talent-media`` or ``bills``); with an
    ``app`` column for a pull of many apps."""
    table = {"task-videos": TASK_VIDEOS, "bills": BILLS}.get(kind, TALENT_MEDIA)
    return with_app(table) if apps else table


def page_rows(page: Page, app: str | None = None) -> list[dict[str, Any]]:
    """The rows of a page: context columns first (``app``, when given), then the record's
    fields and extras."""
    if isinstance(page, TaskVideoPage):
        context: dict[str, Any] = {"billing_date": page.query.billing_date.isoformat()}
    elif isinstance(page, TalentMediaPage):
        context = {"plan_id": page.query.plan_id, "douyin_id": page.query.douyin_id,
                   "date": page.date or None}
    else:
        raise TypeError(f"not a page: {page!r}")
    if app is not None:
        context = {"app": app, **context}
    return [{**context, **record_row(record)} for record in page.records]


def record_row(record: Any) -> dict[str, Any]:
    """A record's fields, and its unknown keys in one ``extra`` object under their snake_case
    spelling (absent when it has none)."""
    row: dict[str, Any] = converter.unstructure(record)
    extra = row.pop("extra", None)
    if extra:
        row["extra"] = snake_keys(extra)
    return row


def fixed_values(row: dict[str, Any], table: Table) -> list[Any]:
    """A row's values in ``table`` column order; its ``extra`` object as JSON text."""
    values = [row.get(name) for name in table.names[:-1]]
    extra = row.get("extra")
    values.append(orjson.dumps(extra).decode() if extra else None)
    return values

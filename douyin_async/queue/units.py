"""The units of a sync spread over processes: one app's day of one table, as plain JSON.

A [`Unit`][douyin_async.queue.units.Unit] carries what a worker needs to load it exactly as a
local sync loads it, and nothing secret: the app's name (the worker holds its credentials),
the destination's URL without its password (the worker's `PGPASSWORD` or `~/.pgpass` has it),
the server, the source's options and the run's moment. Every attempt at a unit asks the same
windows (those of the run's moment) and replaces the same day, so a unit loaded twice leaves
the destination in one state.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import attrs

from ..errors import InvalidParameterError
from ..sync.tables import BILLS, TALENT_MEDIA, TASK_VIDEOS, SyncTable
from ..sync.units import BillSource, Source, TalentMediaSource, TaskVideoSource

_SOURCES: dict[str, type[Any]] = {TASK_VIDEOS.name: TaskVideoSource,
                                  TALENT_MEDIA.name: TalentMediaSource,
                                  BILLS.name: BillSource}
_SLUG = re.compile(r"[^a-z0-9_]+")


def source_json(source: Source) -> dict[str, Any]:
    """A source's fields as JSON values (its table and kind left out)."""
    fields = attrs.asdict(cast(Any, source),
                          filter=lambda a, _: a.name not in ("table", "dated"))
    return {"table": source.table.name, "fields": fields}


def source_of(value: dict[str, Any]) -> Source:
    """The source of [`source_json`][douyin_async.queue.units.source_json]'s values."""
    kind = _SOURCES.get(value["table"])
    if kind is None:
        raise InvalidParameterError(f"unknown sync table {value['table']!r}")
    fields = dict(value["fields"])
    if "douyin_ids" in fields:
        fields["douyin_ids"] = tuple(fields["douyin_ids"])
    source: Source = kind(**fields)
    return source


def app_table(table: SyncTable, app: str) -> SyncTable:
    """The table of one app of a many-app sync (`task_videos_shop_a`); the table itself for
    the one app of the environment's credentials (`app` empty)."""
    if not app:
        return table
    slug = _SLUG.sub("_", app.lower()).strip("_")[:40] or "app"
    return attrs.evolve(table, name=f"{table.name}_{slug}")


def check_tables(table: SyncTable, apps: list[str]) -> None:
    """Refuse apps whose tables would be one (`shop-a` and `shop_a`)."""
    seen: dict[str, str] = {}
    for app in apps:
        name = app_table(table, app).name
        if seen.setdefault(name, app) != app:
            raise InvalidParameterError(f"apps {seen[name]!r} and {app!r} would load into one "
                                        f"table, {name}; rename one of them")


def without_password(url: str) -> str:
    """A destination URL with its password removed (it stays with each process)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def with_password(url: str, full: str | None) -> str:
    """`url` with the password of `full` (the same destination given to this process)."""
    if full is None or without_password(full) != url:
        return url
    return full


@attrs.frozen
class Unit:
    """One unit: an app's day (None: the server's data date) of a run."""

    run: str
    app: str
    day: str | None
    source: dict[str, Any]
    into: str
    base_url: str
    server: str
    #: The app as the destination's state records it (never a secret).
    app_label: str
    #: The run's moment (unix seconds): the windows every attempt asks.
    moment: float
    #: The run's start (ISO, UTC): a day committed at or after it is done.
    started: str
    rate: float

    @property
    def table(self) -> SyncTable:
        """The table this unit loads (the app's own in a many-app sync)."""
        return app_table(source_of(self.source).table, self.app)

    @property
    def key(self) -> str:
        """What names the unit in the queue: no two attempts at it run at once."""
        return f"{self.into}|{self.table.name}|{self.day or 'current'}"

    @property
    def days(self) -> list[dt.date]:
        """The days to load (none: the server's data date)."""
        return [] if self.day is None else [dt.date.fromisoformat(self.day)]

    def to_json(self) -> dict[str, Any]:
        """The job's arguments."""
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Unit:
        """The unit of a job's arguments."""
        return cls(**value)


__all__ = ["Unit", "app_table", "check_tables", "source_json", "source_of", "with_password",
           "without_password"]

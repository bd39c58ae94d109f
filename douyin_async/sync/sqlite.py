"""SQLite destination: the table, and the sync state in `_sync_state` / `_sync_days`.

A day's rows go to a temporary table of the connection first (nothing is locked meanwhile);
its commit is one transaction that deletes the day's rows, copies the new ones in and
records the day. A killed sync loses its temporary tables with its connection and leaves
every day as it was. Dates are `YYYY-MM-DD` text, times ISO 8601 text with their offset,
`extra` JSON text. A lock file (`FILE.lock`) keeps a second sync out.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable
from typing import Any

import orjson

from .destination import FileLock
from .errors import DestinationError
from .state import DayEntry, SyncState
from .tables import Row, SyncTable

_TYPES = {"bigint": "INTEGER", "text": "TEXT", "date": "TEXT", "timestamptz": "TEXT",
          "json": "TEXT"}
_STATE_DDL = """
CREATE TABLE IF NOT EXISTS _sync_state (table_name TEXT PRIMARY KEY, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _sync_days (
    table_name TEXT NOT NULL, day TEXT NOT NULL, loaded_at TEXT NOT NULL,
    records INTEGER NOT NULL, PRIMARY KEY (table_name, day));
"""


def quote(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _iso(value: Any) -> Any:
    return None if value is None else value.isoformat()


def _text_converters(table: SyncTable) -> list[Callable[[Any], Any] | None]:
    return [_iso if c.kind in ("date", "timestamptz") else None for c in table.columns]


def config_of(state: SyncState) -> dict[str, Any]:
    """The state without its days (what `_sync_state` holds)."""
    config = state.to_json()
    del config["days"]
    return config


class SqliteDayLoad:
    """A day's new rows, in a temporary table until the commit."""

    def __init__(self, owner: SqliteDestination, day: dt.date, stage: str) -> None:
        self.owner, self.day, self.stage = owner, day, stage
        self._convert = [(i, f) for i, f in enumerate(_text_converters(owner.table)) if f]
        marks = ", ".join("?" * len(owner.table.columns))
        self._insert = f"INSERT INTO temp.{stage} VALUES ({marks})"

    def write(self, rows: list[Row]) -> None:
        convert = self._convert

        def values(row: Row) -> list[Any]:
            out = list(row)
            for i, f in convert:
                out[i] = f(out[i])
            return out

        self.owner.db.executemany(self._insert, map(values, rows))

    def commit(self, entry: DayEntry) -> None:
        owner = self.owner
        table, db = owner.table, owner.db
        name = quote(table.name)
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(f"DELETE FROM {name} WHERE {quote(table.day_column)} = ?",
                       (self.day.isoformat(),))
            db.execute(f"INSERT OR REPLACE INTO {name} SELECT * FROM temp.{self.stage}")
            db.execute("INSERT OR REPLACE INTO _sync_days VALUES (?, ?, ?, ?)",
                       (table.name, self.day.isoformat(), entry.loaded_at, entry.records))
        self.abort()

    def abort(self) -> None:
        self.owner.db.execute(f"DROP TABLE IF EXISTS temp.{self.stage}")


class SqliteDestination:
    """One table of a SQLite file (see the module)."""

    def __init__(self, path: str, table: SyncTable) -> None:
        self.path, self.table = path, table
        self.shown = f"sqlite:///{path}"
        self._lock = FileLock(os.path.abspath(path) + ".lock", self.shown)
        self._db: sqlite3.Connection | None = None
        self._stages = 0

    @property
    def db(self) -> sqlite3.Connection:
        """The connection (opened on first use)."""
        if self._db is None:
            try:
                self._db = sqlite3.connect(self.path, isolation_level=None,
                                           check_same_thread=False)
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = FULL")
                self._db.execute("PRAGMA busy_timeout = 10000")
            except sqlite3.Error as exc:
                raise DestinationError(f"cannot open {self.path!r}: {exc}",
                                       destination=self.shown) from None
        return self._db

    def lock(self, wait: bool) -> None:
        self._lock.acquire(wait)

    def read_state(self) -> SyncState | None:
        db = self.db
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = '_sync_state'").fetchone() is None:
            return None
        row = db.execute("SELECT config FROM _sync_state WHERE table_name = ?",
                         (self.table.name,)).fetchone()
        if row is None:
            return None
        config = orjson.loads(row[0])
        days = db.execute("SELECT day, loaded_at, records FROM _sync_days WHERE table_name = ?",
                          (self.table.name,)).fetchall()
        config["days"] = {d: {"loaded_at": at, "records": n} for d, at, n in days}
        return SyncState.from_json(config)

    def _check_columns(self) -> None:
        found = [r[1] for r in self.db.execute(f"PRAGMA table_info({quote(self.table.name)})")]
        if found != self.table.names:
            raise DestinationError(f"{self.path!r} holds a {self.table.name} table of other "
                                   "columns; load into another file", destination=self.shown)

    def begin(self, state: SyncState, reset: bool) -> None:
        t = self.table
        columns = ", ".join(f"{quote(c.name)} {_TYPES[c.kind]}" for c in t.columns)
        key = ", ".join(map(quote, t.key))
        db = self.db
        db.executescript(_STATE_DDL)
        db.execute(f"CREATE TABLE IF NOT EXISTS {quote(t.name)} ({columns}, PRIMARY KEY ({key}))")
        db.execute(f"CREATE INDEX IF NOT EXISTS {quote(t.name + '_day')} "
                   f"ON {quote(t.name)} ({quote(t.day_column)})")
        self._check_columns()
        with db:
            db.execute("BEGIN IMMEDIATE")
            if reset:
                db.execute(f"DELETE FROM {quote(t.name)}")
                db.execute("DELETE FROM _sync_days WHERE table_name = ?", (t.name,))
            self._save(state)

    def _save(self, state: SyncState) -> None:
        self.db.execute("INSERT OR REPLACE INTO _sync_state VALUES (?, ?)",
                        (self.table.name, orjson.dumps(config_of(state)).decode()))

    def open_day(self, day: dt.date) -> SqliteDayLoad:
        self._stages += 1
        stage = f"sync_stage_{self._stages}"
        columns = ", ".join(quote(c.name) for c in self.table.columns)
        self.db.execute(f"CREATE TEMP TABLE {stage} ({columns})")
        return SqliteDayLoad(self, day, stage)

    def finish(self, state: SyncState) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self._save(state)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self._lock.release()


__all__ = ["SqliteDestination", "config_of", "quote"]

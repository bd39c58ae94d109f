"""PostgreSQL destination (psycopg 3): rows sent with COPY, a day replaced in one transaction.

A day's load is a transaction on a connection of its own: it deletes the day's rows, copies
the new ones in page by page as they arrive, records the day in `_sync_days`, and commits.
Readers see the previous version of the day until the commit; a killed sync's transaction
is rolled back by the server. A session advisory lock (per table) keeps a second sync out;
the server lets go of it when the holder's connection ends, however it ends. Types: ids,
counters and fen `bigint`, times `timestamptz`, days `date`, texts `text`, `extra` `jsonb`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import Any

import orjson

from .destination import optional, shown_url
from .errors import DestinationError, SyncLockedError
from .sqlite import config_of, quote
from .state import DayEntry, SyncState
from .tables import Row, SyncTable

_TYPES = {"bigint": "bigint", "text": "text", "date": "date", "timestamptz": "timestamptz",
          "json": "jsonb"}
_STATE_DDL = [
    "CREATE TABLE IF NOT EXISTS _sync_state (table_name text PRIMARY KEY, config jsonb NOT NULL)",
    "CREATE TABLE IF NOT EXISTS _sync_days (table_name text NOT NULL, day date NOT NULL, "
    "loaded_at timestamptz NOT NULL, records bigint NOT NULL, PRIMARY KEY (table_name, day))",
]


def _psycopg() -> Any:
    return optional("psycopg", "postgres", "a PostgreSQL destination")


def lock_key(table: str) -> int:
    """The advisory-lock key of a table's syncs (a signed 64-bit integer)."""
    digest = hashlib.blake2b(f"douyin_async.sync:{table}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresDayLoad:
    """A day's transaction: the old rows deleted, the new ones copied in as they come."""

    def __init__(self, owner: PostgresDestination, day: dt.date, conn: Any) -> None:
        self.owner, self.day, self.conn = owner, day, conn
        table = owner.table
        self._copy = (f"COPY {quote(table.name)} ({', '.join(map(quote, table.names))}) "
                      "FROM STDIN")
        conn.execute(f"DELETE FROM {quote(table.name)} WHERE {quote(table.day_column)} = %s",
                     (day,))

    def write(self, rows: list[Row]) -> None:
        with self.conn.cursor() as cur, cur.copy(self._copy) as copy:
            write = copy.write_row
            for row in rows:
                write(row)

    def commit(self, entry: DayEntry) -> None:
        self.conn.execute(
            "INSERT INTO _sync_days VALUES (%s, %s, %s, %s) ON CONFLICT (table_name, day) "
            "DO UPDATE SET loaded_at = excluded.loaded_at, records = excluded.records",
            (self.owner.table.name, self.day, dt.datetime.fromisoformat(entry.loaded_at),
             entry.records))
        self.conn.commit()
        self.owner.give_back(self.conn)

    def abort(self) -> None:
        self.conn.rollback()
        self.owner.give_back(self.conn)


class PostgresDestination:
    """One table of a PostgreSQL database (see the module)."""

    def __init__(self, url: str, table: SyncTable) -> None:
        self.url, self.table = url, table
        self.shown = f"{shown_url(url)} ({table.name})"
        self._session: Any = None
        self._free: list[Any] = []
        self._all: list[Any] = []

    def connect(self, autocommit: bool = False) -> Any:
        """A new connection, named after this process for the messages of other syncs."""
        psycopg = _psycopg()
        try:
            conn = psycopg.connect(self.url, autocommit=autocommit,
                                   application_name=f"douyin-async sync (pid {os.getpid()})")
        except psycopg.Error as exc:
            raise DestinationError(f"cannot connect to {shown_url(self.url)}: "
                                   f"{str(exc).strip()}", destination=self.shown) from None
        self._all.append(conn)
        return conn

    @property
    def session(self) -> Any:
        """The connection that holds the lock and reads and writes the state."""
        if self._session is None:
            self._session = self.connect(autocommit=True)
        return self._session

    def lock(self, wait: bool) -> None:
        key = lock_key(self.table.name)
        if wait:
            self.session.execute("SELECT pg_advisory_lock(%s)", (key,))
            return
        if self.session.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            return
        found = self.session.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s",
            ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF)).fetchone()
        who = found[0] if found and found[0] else "another session"
        raise SyncLockedError(f"another sync ({who}) is loading into {self.shown}; wait for "
                              "it to end (or use --wait)", destination=self.shown)

    def read_state(self) -> SyncState | None:
        s = self.session
        if s.execute("SELECT to_regclass('_sync_state') IS NULL").fetchone()[0]:
            return None
        row = s.execute("SELECT config FROM _sync_state WHERE table_name = %s",
                        (self.table.name,)).fetchone()
        if row is None:
            return None
        config = dict(row[0])
        days = s.execute("SELECT day, loaded_at, records FROM _sync_days "
                         "WHERE table_name = %s", (self.table.name,)).fetchall()
        config["days"] = {d.isoformat(): {
            "loaded_at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "records": n} for d, at, n in days}
        return SyncState.from_json(config)

    def begin(self, state: SyncState, reset: bool) -> None:
        t, s = self.table, self.session
        for ddl in _STATE_DDL:
            s.execute(ddl)
        columns = ", ".join(f"{quote(c.name)} {_TYPES[c.kind]}" for c in t.columns)
        s.execute(f"CREATE TABLE IF NOT EXISTS {quote(t.name)} ({columns}, "
                  f"PRIMARY KEY ({', '.join(map(quote, t.key))}))")
        found = [r[0] for r in s.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND table_schema = current_schema() ORDER BY ordinal_position", (t.name,))]
        if found != t.names:
            raise DestinationError(f"{self.shown} has a {t.name} table of other columns; "
                                   "load into another database or schema",
                                   destination=self.shown)
        with s.transaction():
            if reset:
                s.execute(f"DELETE FROM {quote(t.name)}")
                s.execute("DELETE FROM _sync_days WHERE table_name = %s", (t.name,))
            self._save(state)

    def _save(self, state: SyncState) -> None:
        self.session.execute(
            "INSERT INTO _sync_state VALUES (%s, %s::jsonb) ON CONFLICT (table_name) "
            "DO UPDATE SET config = excluded.config",
            (self.table.name, orjson.dumps(config_of(state)).decode()))

    def open_day(self, day: dt.date) -> PostgresDayLoad:
        conn = self._free.pop() if self._free else self.connect()
        return PostgresDayLoad(self, day, conn)

    def give_back(self, conn: Any) -> None:
        """A day's connection, free for the next day."""
        self._free.append(conn)

    def finish(self, state: SyncState) -> None:
        self._save(state)

    def close(self) -> None:
        for conn in self._all:
            conn.close()
        self._all, self._free, self._session = [], [], None


__all__ = ["PostgresDestination", "lock_key"]

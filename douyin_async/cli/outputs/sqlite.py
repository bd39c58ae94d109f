"""SQLite output: a table per record type keyed by its natural key, upserted page by page.

The checkpoint lives in the same database (``pull_state`` and ``pull_pages``, one pull per record
type), and a page's rows and its checkpoint row are written in one transaction, so a killed
pull never leaves a page half-recorded. Re-running a pull never duplicates rows: an existing
key is updated in place. ``pull_meta`` keeps the totals ``douyin-async status`` shows (units
planned, start time, records written) and the size of the rejects file
(``OUT.rejects.jsonl``), which is appended and fsync'd before the transaction that records
it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from ..exits import FILES, CliError
from .checkpoint import CheckpointState
from .encoders import Rows
from .rejects import RejectsFile
from .rows import Table, fixed_values
from .sinks import changed_parameters, conflict

_STATE_DDL = """
CREATE TABLE IF NOT EXISTS pull_state (
    kind TEXT PRIMARY KEY, params TEXT NOT NULL, complete INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pull_pages (
    kind TEXT NOT NULL, unit TEXT NOT NULL, page INTEGER NOT NULL, done INTEGER NOT NULL,
    total INTEGER, PRIMARY KEY (kind, unit));
CREATE TABLE IF NOT EXISTS pull_meta (kind TEXT PRIMARY KEY, meta TEXT NOT NULL);
"""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_ddl(table: Table) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for a record table."""
    columns = ", ".join(f"{_ident(n)} {t}" for n, t in table.columns)
    key = ", ".join(_ident(n) for n in table.key)
    return f"CREATE TABLE IF NOT EXISTS {_ident(table.name)} ({columns}, PRIMARY KEY ({key}))"


def upsert_sql(table: Table) -> str:
    """``INSERT ... ON CONFLICT DO UPDATE`` of one row of ``table``."""
    names = table.names
    columns = ", ".join(_ident(n) for n in names)
    marks = ", ".join("?" for _ in names)
    key = ", ".join(_ident(n) for n in table.key)
    updates = ", ".join(f"{_ident(n)} = excluded.{_ident(n)}" for n in names
                        if n not in table.key)
    return (f"INSERT INTO {_ident(table.name)} ({columns}) VALUES ({marks}) "
            f"ON CONFLICT ({key}) DO UPDATE SET {updates}")


def read_state(db: sqlite3.Connection, kind: str) -> CheckpointState | None:
    """The checkpoint of the ``kind`` pull in ``db``: parameters, pages, the totals a page
    announced, and the facts ``status`` shows (None: no such pull)."""
    row = db.execute("SELECT params, complete FROM pull_state WHERE kind = ?",
                     (kind,)).fetchone()
    if row is None:
        return None
    state = CheckpointState(params=orjson.loads(row[0]), complete=bool(row[1]))
    pages = db.execute("SELECT * FROM pull_pages WHERE kind = ?", (kind,)).fetchall()
    state.units = {unit: (page, bool(done)) for _, unit, page, done, *_ in pages}
    state.announced = {p[1]: p[4] for p in pages if len(p) > 4 and p[4] is not None}
    found = db.execute("SELECT meta FROM pull_meta WHERE kind = ?", (kind,)).fetchone()
    state.meta = orjson.loads(found[0]) if found else {}
    state.records, state.rejects, state.rejected = (
        int(state.meta.get(name, 0)) for name in ("records", "rejects", "rejected"))
    return state


class SqliteOutput:
    """Rows upserted into ``table``; the pull's checkpoint kept in the same database."""

    def __init__(self, path: str, table: Table, kind: str) -> None:
        self.path = path
        self.table = table
        self.kind = kind
        self._db: sqlite3.Connection | None = None
        self._upsert = upsert_sql(table)
        self._rejects = RejectsFile(path)
        self._meta: dict[str, Any] = {}

    @property
    def rejected(self) -> int:
        """Records quarantined so far (earlier runs of a resumed pull included)."""
        return self._rejects.count

    def _fail(self, exc: sqlite3.Error) -> CliError:
        return CliError(f"cannot write {self.path!r}: {exc}", FILES)

    def open(self, params: dict[str, Any], *, resume: bool, force: bool,
             meta: dict[str, Any] | None = None) -> CheckpointState | None:
        """Create the tables; on resume, read this record type's checkpoint. An unfinished
        pull that recorded no page is no progress: it is simply started again."""
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(_STATE_DDL + table_ddl(self.table) + ";")
            pages = [r[1] for r in self._db.execute("PRAGMA table_info(pull_pages)")]
            if "total" not in pages:  # a database of an earlier version
                self._db.execute("ALTER TABLE pull_pages ADD COLUMN total INTEGER")
            self._check_columns()
            state = read_state(self._db, self.kind)
            if state is not None and not state.units and not state.complete:
                state = None  # nothing recorded: a fresh start
            if resume and state is not None:
                return self._continue(state, params)
            if state is not None and not state.complete and not resume and not force:
                raise conflict(f"{self.path!r} holds an unfinished {self.kind} pull; use "
                               "--resume to continue it or --force to start over")
            self._rejects.start()
            self._meta = {**(meta or {}), "records": 0, "rejects": 0, "rejected": 0}
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("DELETE FROM pull_pages WHERE kind = ?", (self.kind,))
                self._db.execute("INSERT OR REPLACE INTO pull_state VALUES (?, ?, 0)",
                                 (self.kind, orjson.dumps(params).decode()))
                self._save_meta()
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        return None

    def _save_meta(self) -> None:
        assert self._db is not None
        self._db.execute("INSERT OR REPLACE INTO pull_meta VALUES (?, ?)",
                         (self.kind, orjson.dumps(self._meta).decode()))

    def _check_columns(self) -> None:
        """An existing table must have this pull's columns (one with or without ``app``)."""
        assert self._db is not None
        found = [row[1] for row in
                 self._db.execute(f"PRAGMA table_info({_ident(self.table.name)})")]
        if found == self.table.names:
            return
        mine, theirs = "app" in self.table.names, "app" in found
        origin = ("of a pull with --apps (an 'app' column)" if theirs and not mine else
                  "of a pull without --apps (no 'app' column)" if mine and not theirs else
                  "with other columns")
        raise conflict(f"{self.path!r} holds a {self.table.name} table {origin}; "
                       "write to another file")

    def _continue(self, state: CheckpointState, params: dict[str, Any]) -> CheckpointState:
        assert self._db is not None
        if state.params != params:
            raise conflict(f"--resume: {self.path!r} holds another {self.kind} pull "
                           f"({changed_parameters(state.params, params)}); use --force to "
                           "start over")
        self._meta = state.meta
        if not self._rejects.resume(state.rejects, state.rejected):
            raise conflict(f"--resume: {self._rejects.path!r} is shorter than the checkpoint "
                           "says; restore it, or use --force to start over")
        return state

    def write_page(self, unit: str, page: int, done: bool, rows: Rows,
                   rejects: list[dict[str, Any]] | None = None,
                   announced: int | None = None) -> None:
        """Append the rejects (fsync), then upsert the rows and record the page, in one
        transaction."""
        assert self._db is not None
        self._rejects.append(rejects or [])
        self._meta["records"] = int(self._meta.get("records", 0)) + len(rows)
        self._meta["rejects"], self._meta["rejected"] = self._rejects.size, self._rejects.count
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(self._upsert, [fixed_values(r, self.table) for r in rows])
                self._db.execute("INSERT OR REPLACE INTO pull_pages VALUES (?, ?, ?, ?, ?)",
                                 (self.kind, unit, page, int(done), announced))
                self._save_meta()
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def finish(self) -> None:
        """Mark this record type's pull complete."""
        assert self._db is not None
        try:
            with self._db:
                self._db.execute("UPDATE pull_state SET complete = 1 WHERE kind = ?",
                                 (self.kind,))
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def close(self) -> None:
        """Close the database."""
        self._rejects.close()
        if self._db is not None:
            self._db.close()
            self._db = None

"""What a destination must do, and the lock file of the file destinations.

[`open_destination`][douyin_async.sync.urls.open_destination] picks one by URL:

- `postgresql://...` (or `postgres://`):
  [`PostgresDestination`][douyin_async.sync.postgres.PostgresDestination]
- `sqlite:///path` (SQLAlchemy's spelling: `sqlite:////abs/path` for an absolute path):
  [`SqliteDestination`][douyin_async.sync.sqlite.SqliteDestination]
- `file:///path/` or a plain path: a Parquet dataset root,
  [`ParquetDestination`][douyin_async.sync.parquet.ParquetDestination]

Every destination replaces a day atomically: a reader sees the previous version of the day
or the new one, never a part, and a killed sync leaves the previous version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import importlib
import os
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from .errors import DestinationError, SyncLockedError
from .state import DayEntry, SyncState
from .tables import Row


class DayLoad(Protocol):
    """The new version of one day, written aside until it is committed."""

    def write(self, rows: list[Row]) -> None:
        """Add rows to the day."""
        ...

    def commit(self, entry: DayEntry) -> None:
        """Replace the day's rows with the ones written and record the day, at once."""
        ...

    def abort(self) -> None:
        """Drop what was written; the day keeps its previous version."""
        ...


class Destination(Protocol):
    """Where one table's days are loaded, with its sync state."""

    #: The destination as shown to people (no password).
    shown: str

    def lock(self, wait: bool) -> None:
        """Hold the destination for this sync, or raise
        [`SyncLockedError`][douyin_async.sync.errors.SyncLockedError] (`wait`: block)."""
        ...

    def read_state(self) -> SyncState | None:
        """The table's sync state (None: never synced here)."""
        ...

    def begin(self, state: SyncState, reset: bool) -> None:
        """Create what is missing and record the run's options and backfill; `reset` first
        removes every row and loaded day of the table."""
        ...

    def open_day(self, day: dt.date) -> DayLoad:
        """Start the new version of a day."""
        ...

    def finish(self, state: SyncState) -> None:
        """Record the end of the run (its backfill is no longer pending)."""
        ...

    def close(self) -> None:
        """Let go of connections, files and the lock."""
        ...


def optional(module: str, extra: str, what: str) -> Any:
    """An optional dependency, or a [`DestinationError`][douyin_async.sync.errors.DestinationError]
    naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DestinationError(f"{what} needs {module.split('.')[0]}: pip install "
                               f"'douyin-async[{extra}]'") from None


def shown_url(url: str) -> str:
    """A URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class FileLock:
    """An exclusive `flock` on a file beside the destination: the kernel lets go of it when
    the process ends, however it ends, so a stale file never blocks a later sync. The holder
    writes its pid in the file, for the message of a sync that finds it held."""

    def __init__(self, path: str, shown: str) -> None:
        self.path = path
        self.shown = shown
        self._fd: int | None = None

    def acquire(self, wait: bool) -> None:
        """Take the lock (`wait`: block until it is free)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise DestinationError(f"cannot create the lock file {self.path!r}: "
                                   f"{exc.strerror or exc}", destination=self.shown) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            text = os.pread(fd, 32, 0).strip()
            os.close(fd)
            who = f"pid {int(text)}" if text.isdigit() else "pid unknown"
            raise SyncLockedError(f"another sync ({who}) is loading into {self.shown}; wait "
                                  "for it to end (or use --wait)", destination=self.shown
                                  ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock (the file stays: removing it could let two syncs in)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


__all__ = ["DayLoad", "Destination", "FileLock", "optional", "shown_url"]

"""Parquet destination: one dataset directory per table, one hive partition per day.

`ROOT/task_videos/billing_date=2026-12-06/data.parquet` holds one day (the day column lives in
the directory name, as hive partitioning has it: DuckDB's `read_parquet(...,
hive_partitioning = true)`, pyarrow's and Spark's datasets read it back as a column). A day is
written aside (in `_tmp/`, which readers skip) and renamed over its partition's file: a reader
sees the old file or the new one, never a part of one, and never both. The sync state is
`_sync_state.json` in the dataset, replaced the same way after the day's rename; a sync killed
between the two renames loads that day again the next time. A lock file beside the dataset
(`ROOT/task_videos.lock`) keeps a second sync out.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from typing import Any

import orjson

from .destination import FileLock, optional
from .errors import DestinationError
from .state import DayEntry, SyncState
from .tables import Row, SyncTable

#: Rows gathered before they are written as one row group.
ROW_GROUP = 25_000
STATE_FILE = "_sync_state.json"


def _arrow() -> Any:
    optional("pyarrow.parquet", "parquet", "a Parquet destination")
    return optional("pyarrow", "parquet", "a Parquet destination")


def arrow_schema(table: SyncTable) -> Any:
    """The Parquet schema of a table's files (without the day column, which is the
    partition's)."""
    pa = _arrow()
    types = {"bigint": pa.int64(), "text": pa.string(), "date": pa.date32(),
             "timestamptz": pa.timestamp("us", tz="UTC"), "json": pa.string()}
    return pa.schema([(c.name, types[c.kind]) for c in table.columns
                      if c.name != table.day_column])


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(data: bytes, path: str) -> None:
    """Write `data` to `path` at once: a temporary file beside it, synced, renamed over."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path))


class ParquetDayLoad:
    """A day's new file, written in `_tmp/` until the commit renames it into place."""

    def __init__(self, owner: ParquetDestination, day: dt.date, tmp: str) -> None:
        pa = _arrow()
        self.owner, self.day, self.tmp = owner, day, tmp
        self._schema = arrow_schema(owner.table)
        self._writer = pa.parquet.ParquetWriter(tmp, self._schema, compression="snappy")
        names = owner.table.names
        skip = names.index(owner.table.day_column)
        self._take = [i for i in range(len(names)) if i != skip]
        self._batches: list[Any] = []
        self._held = 0

    def write(self, rows: list[Row]) -> None:
        """Turn the rows into Arrow columns at once (compact), written as one row group when
        [`ROW_GROUP`][douyin_async.sync.parquet.ROW_GROUP] rows are held."""
        if not rows:
            return
        pa = _arrow()
        every = list(zip(*rows, strict=True))  # the rows' columns, transposed in one step
        columns: list[Any] = [every[i] for i in self._take]
        self._batches.append(pa.record_batch(columns, schema=self._schema))
        self._held += len(rows)
        if self._held >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if not self._batches:
            return
        pa = _arrow()
        self._writer.write_table(pa.Table.from_batches(self._batches),
                                 row_group_size=self._held)
        self._batches, self._held = [], 0

    def commit(self, entry: DayEntry) -> None:
        self._flush()
        self._writer.close()
        with open(self.tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        owner = self.owner
        part = os.path.join(owner.dataset, f"{owner.table.day_column}={self.day.isoformat()}")
        os.makedirs(part, exist_ok=True)
        os.replace(self.tmp, os.path.join(part, "data.parquet"))
        _fsync_dir(part)
        owner.record(self.day, entry)

    def abort(self) -> None:
        self._writer.close()
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)


class ParquetDestination:
    """One table's dataset under a root directory (see the module)."""

    def __init__(self, root: str, table: SyncTable) -> None:
        self.root, self.table = root, table
        self.dataset = os.path.join(root, table.name)
        self.shown = f"file://{os.path.abspath(root)}/ ({table.name})"
        self._lock = FileLock(os.path.abspath(self.dataset) + ".lock", self.shown)
        self._state: SyncState | None = None
        self._loads = 0

    def _state_path(self) -> str:
        return os.path.join(self.dataset, STATE_FILE)

    def lock(self, wait: bool) -> None:
        try:
            os.makedirs(self.root, exist_ok=True)
        except OSError as exc:
            raise DestinationError(f"cannot create {self.root!r}: {exc.strerror or exc}",
                                   destination=self.shown) from None
        self._lock.acquire(wait)

    def read_state(self) -> SyncState | None:
        try:
            with open(self._state_path(), "rb") as handle:
                return SyncState.from_json(orjson.loads(handle.read()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError) as exc:
            raise DestinationError(f"cannot read {self._state_path()!r}: {exc}",
                                   destination=self.shown) from None

    def begin(self, state: SyncState, reset: bool) -> None:
        _arrow()
        if reset and os.path.isdir(self.dataset):
            shutil.rmtree(self.dataset)
        tmp = os.path.join(self.dataset, "_tmp")
        shutil.rmtree(tmp, ignore_errors=True)  # what a killed sync left
        os.makedirs(tmp, exist_ok=True)
        self._state = state
        self._save()

    def _save(self) -> None:
        assert self._state is not None
        replace_file(orjson.dumps(self._state.to_json(), option=orjson.OPT_INDENT_2),
                     self._state_path())

    def record(self, day: dt.date, entry: DayEntry) -> None:
        """Record a day whose file is in place."""
        assert self._state is not None
        self._state.days[day] = entry
        self._save()

    def open_day(self, day: dt.date) -> ParquetDayLoad:
        self._loads += 1
        tmp = os.path.join(self.dataset, "_tmp", f"{day.isoformat()}-{self._loads}.parquet.tmp")
        return ParquetDayLoad(self, day, tmp)

    def finish(self, state: SyncState) -> None:
        self._state = state
        self._save()
        shutil.rmtree(os.path.join(self.dataset, "_tmp"), ignore_errors=True)

    def close(self) -> None:
        self._lock.release()


__all__ = ["ParquetDestination", "arrow_schema", "replace_file"]

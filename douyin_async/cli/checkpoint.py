"""The page-level checkpoint of a file pull: a JSON-lines file beside the output.

Line 1 (written atomically: temporary file, fsync, rename) holds the pull's query parameters
(with the server and the app, never a secret) and facts for ``douyin-async status`` (units
planned, start time). Every written page appends one line ``{"unit", "page", "done",
"offset", "sha256", "records", "rejects", "rejected"}``: the unit query's key, the page
number, whether it was the unit's last page, the output's size after the page and the SHA-256
of those bytes, the records written so far, and the size and count of the rejects file
(``OUT.rejects.jsonl``). A finished pull appends ``{"complete": true, ...}`` with the same
totals.

The writer appends a page to the output and fsyncs it *before* appending its checkpoint line
(and fsyncing that), so at any moment the checkpoint describes a prefix of the output. A line
cut short by a kill is ignored and cut off when the pull resumes; the output is truncated back
to the last recorded offset, which drops any page written after its last checkpoint line, and
a prefix whose digest differs (the file was edited or re-saved) is refused.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import attrs
import orjson

from ..days import BEIJING
from ..models import Query, TaskVideoQuery
from .exits import FILES, CliError

VERSION = 2


@attrs.define
class CheckpointState:
    """What a checkpoint file says: parameters, the output offset and each unit's progress."""

    params: dict[str, Any]
    offset: int = 0
    units: dict[str, tuple[int, bool]] = attrs.Factory(dict)
    complete: bool = False
    #: Length of the file's intact prefix (a cut last line excluded).
    intact: int = 0
    #: SHA-256 (hex) of the output's first ``offset`` bytes ("" when unknown).
    sha256: str = ""
    #: Records written, and the size and record count of the rejects file.
    records: int = 0
    rejects: int = 0
    rejected: int = 0
    #: Facts for ``status``: ``units`` (planned), ``started`` (ISO time).
    meta: dict[str, Any] = attrs.Factory(dict)
    #: The record total a talent-media unit's last recorded page announced.
    announced: dict[str, int] = attrs.Factory(dict)

    def totals(self) -> dict[str, Any]:
        """The running totals as a checkpoint line carries them."""
        return {"offset": self.offset, "sha256": self.sha256, "records": self.records,
                "rejects": self.rejects, "rejected": self.rejected}

    def take(self, entry: dict[str, Any]) -> None:
        """Adopt the totals of a checkpoint line."""
        self.offset = int(entry["offset"])
        self.sha256 = str(entry.get("sha256", ""))
        self.records = int(entry.get("records", 0))
        self.rejects = int(entry.get("rejects", 0))
        self.rejected = int(entry.get("rejected", 0))

    def start_page(self, key: str) -> int:
        """The page a unit resumes from: 1 if never started, 0 if finished."""
        page, done = self.units.get(key, (0, False))
        return 0 if done else page + 1


def _fail(path: str, exc: OSError, doing: str) -> CliError:
    return CliError(f"cannot {doing} {path!r}: {exc.strerror or exc}", FILES)


def read_checkpoint(path: str) -> CheckpointState | None:
    """The state recorded in a checkpoint file, or None if there is none."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _fail(path, exc, "read checkpoint") from None
    state: CheckpointState | None = None
    position = 0
    number = 0
    while True:
        number += 1
        end = data.find(b"\n", position)
        if end < 0:
            break  # no line, or a line cut short by a kill
        try:
            entry = orjson.loads(data[position:end])
            if not isinstance(entry, dict):
                raise ValueError("not an object")
            if state is None:
                if entry.get("version") != VERSION:
                    raise CliError(f"checkpoint {path!r} was written by another version of "
                                   f"douyin-async (format {entry.get('version')!r}, this one "
                                   f"reads {VERSION}); finish that pull with the version that "
                                   "began it, or start over with --force", FILES)
                state = CheckpointState(params=entry["params"], offset=int(entry["offset"]),
                                        meta=dict(entry.get("meta", {})))
            elif entry.get("complete"):
                state.complete = True
                state.take(entry)
            else:
                unit = str(entry["unit"])
                state.units[unit] = (int(entry["page"]), bool(entry["done"]))
                if entry.get("total") is not None:
                    state.announced[unit] = int(entry["total"])
                state.take(entry)
        except (ValueError, KeyError, TypeError) as exc:
            if data.find(b"\n", end + 1) < 0 and state is not None:
                break  # a last line of garbage: treat it as cut
            raise CliError(f"checkpoint {path!r} is damaged at line {number} ({exc}); "
                           "start over with --force", FILES) from None
        position = end + 1
        if state is not None:
            state.intact = position
    return state


def _line(entry: dict[str, Any]) -> bytes:
    return orjson.dumps(entry) + b"\n"


class CheckpointWriter:
    """Appends page entries to a checkpoint file, each one fsync'd before returning."""

    def __init__(self, path: str, handle: Any) -> None:
        self.path = path
        self._handle = handle

    @classmethod
    def create(cls, path: str, params: dict[str, Any],
               meta: dict[str, Any] | None = None) -> CheckpointWriter:
        """A new checkpoint (replacing any old one atomically) for a pull starting at 0."""
        temporary = path + ".tmp"
        header = _line({"version": VERSION, "params": params, "offset": 0,
                        "meta": meta or {}})
        try:
            with open(temporary, "wb") as handle:
                handle.write(header)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
            _fsync_dir(path)
            return cls(path, open(path, "ab"))  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise _fail(path, exc, "write checkpoint") from None

    @classmethod
    def reopen(cls, path: str, state: CheckpointState) -> CheckpointWriter:
        """Continue a checkpoint, first cutting off a line a kill left half-written."""
        try:
            handle = open(path, "r+b")  # noqa: SIM115 - closed by close()
            handle.truncate(state.intact)
            handle.seek(0, os.SEEK_END)
            os.fsync(handle.fileno())
        except OSError as exc:
            raise _fail(path, exc, "write checkpoint") from None
        return cls(path, handle)

    def _append(self, entry: dict[str, Any]) -> None:
        try:
            self._handle.write(_line(entry))
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as exc:
            raise _fail(self.path, exc, "write checkpoint") from None

    def record(self, unit: str, page: int, done: bool, totals: dict[str, Any],
               announced: int | None = None) -> None:
        """Record that ``page`` of ``unit`` is in the output, with the running ``totals``
        (see [`CheckpointState.totals`][douyin_async.cli.checkpoint.CheckpointState.totals])
        and the record total the page ``announced`` (talent media)."""
        entry = {"unit": unit, "page": page, "done": done, **totals}
        if announced is not None:
            entry["total"] = announced
        self._append(entry)

    def complete(self, totals: dict[str, Any]) -> None:
        """Record that the pull finished, with its final ``totals``."""
        self._append({"complete": True, **totals})

    def close(self) -> None:
        """Close the file."""
        self._handle.close()


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def unit_key(query: Query, app: str | None = None) -> str:
    """A stable text key of a unit query (the same fields give the same key on every run);
    in a pull of many apps, the same query of each app has its own key."""
    if isinstance(query, TaskVideoQuery):
        fields: list[Any] = ["task-video", query.billing_date.isoformat(),
                             query.video_publish_start_time, query.video_publish_end_time,
                             query.douyin_id, query.agency_client_key, query.page_size]
    else:
        fields = ["talent-media", query.plan_id, query.douyin_id, query.content_type,
                  query.page_size]
    if app is not None:
        fields = ["app", app, *fields]
    return orjson.dumps(fields).decode()


def _day(seconds: int) -> str:
    """A moment in Beijing time, the zone the command reads its days in."""
    return dt.datetime.fromtimestamp(seconds, BEIJING).strftime("%Y-%m-%d %H:%M:%S UTC+8")


def describe_unit(query: Query, app: str | None = None) -> str:
    """A unit in the command's terms, for messages."""
    if isinstance(query, TaskVideoQuery):
        text = (f"--billing-date {query.billing_date.isoformat()}, published "
                f"{_day(query.video_publish_start_time)} .. "
                f"{_day(query.video_publish_end_time)}")
    else:
        text = f"--plan-id {query.plan_id}"
    if query.douyin_id is not None:
        text += f", --douyin-id {query.douyin_id}"
    return text if app is None else f"app {app!r}: {text}"

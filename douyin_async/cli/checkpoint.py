"""The page-level checkpoint of a JSONL or CSV pull: a JSON-lines file beside the output.

Line 1 (written atomically: temporary file, fsync, rename) holds the pull's query parameters.
Every written page appends one line ``{"unit", "page", "done", "offset"}``: the unit query's key,
the page number, whether it was the unit's last page, and the output's size after the page.
A finished pull appends ``{"complete": true, "offset": N}``.

The writer appends a page to the output and fsyncs it *before* appending its checkpoint line
(and fsyncing that), so at any moment the checkpoint describes a prefix of the output. A line
cut short by a kill is ignored and cut off when the pull resumes; the output is truncated back
to the last recorded offset, which drops any page written after its last checkpoint line.
"""

from __future__ import annotations

import os
from typing import Any

import attrs
import orjson

from ..models import Query, TaskVideoQuery
from .exits import FILES, CliError

VERSION = 1


@attrs.define
class CheckpointState:
    """What a checkpoint file says: parameters, the output offset and each unit's progress."""

    params: dict[str, Any]
    offset: int = 0
    units: dict[str, tuple[int, bool]] = attrs.Factory(dict)
    complete: bool = False
    #: Length of the file's intact prefix (a cut last line excluded).
    intact: int = 0

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
    while True:
        end = data.find(b"\n", position)
        if end < 0:
            break  # no line, or a line cut short by a kill
        try:
            entry = orjson.loads(data[position:end])
            if not isinstance(entry, dict):
                raise ValueError("not an object")
            if state is None:
                if entry.get("version") != VERSION:
                    raise ValueError(f"unknown version {entry.get('version')!r}")
                state = CheckpointState(params=entry["params"], offset=int(entry["offset"]))
            elif entry.get("complete"):
                state.complete = True
                state.offset = int(entry["offset"])
            else:
                state.units[str(entry["unit"])] = (int(entry["page"]), bool(entry["done"]))
                state.offset = int(entry["offset"])
        except (ValueError, KeyError, TypeError) as exc:
            if data.find(b"\n", end + 1) < 0 and state is not None:
                break  # a last line of garbage: treat it as cut
            raise CliError(f"checkpoint {path!r} is damaged ({exc}); start over with --force",
                           FILES) from None
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
    def create(cls, path: str, params: dict[str, Any]) -> CheckpointWriter:
        """A new checkpoint (replacing any old one atomically) for a pull starting at 0."""
        temporary = path + ".tmp"
        header = _line({"version": VERSION, "params": params, "offset": 0})
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

    def record(self, unit: str, page: int, done: bool, offset: int) -> None:
        """Record that ``page`` of ``unit`` is in the output, which is now ``offset`` long."""
        self._append({"unit": unit, "page": page, "done": done, "offset": offset})

    def complete(self, offset: int) -> None:
        """Record that the pull finished with an output of ``offset`` bytes."""
        self._append({"complete": True, "offset": offset})

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

"""The page-level checkpoint of a file pull: a JSON-lines file beside the output.

Line 1 (written atomically: temporary file, fsync, rename) holds the pull's query parameters
(with the server and the app, never a secret) and facts for ``douyin-async status`` (units
planned, start time). Every written page appends one line ``{"unit", "page", "done",
"offset", "sha256", "records", "rejects", "rejected"}``: the unit query's key, the page
number, whether it was the unit's last page, the output's size after the page and the SHA-256
of those bytes, the records written so far, and the size and count of the rejects file
(``OUT.rejects.jsonl``). A finished pull appends ``{"complete": true, ...}`` with the same
totals.

Every line ends with ``"chain"``: the SHA-256 of the previous line's chain and this line's
bytes before it. The chain covers each unit's progress the way ``sha256`` covers the output:
an edited, dropped or reordered line (a unit marked done, a page number changed) breaks it,
and the pull refuses to resume instead of skipping rows (it holds no secret: it catches edits
and damage, not a forger). Every value is checked for its type
and range; anything else is a damaged checkpoint (exit code ``FILES``). Only a regular file
of at most [`MAX_CHECKPOINT_BYTES`][douyin_async.cli.outputs.checkpoint.MAX_CHECKPOINT_BYTES] is
read: it is opened without following a symbolic link and without blocking (a FIFO cannot
hold the pull up).

The writer appends a page to the output and fsyncs it *before* appending its checkpoint line
(and fsyncing that), so at any moment the checkpoint describes a prefix of the output. A line
cut short by a kill is ignored and cut off when the pull resumes; the output is truncated back
to the last recorded offset, which drops any page written after its last checkpoint line, and
a prefix whose digest differs (the file was edited or re-saved) is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import stat
from typing import Any

import attrs
import orjson

from ...days import BEIJING
from ...models import Query, TaskVideoQuery
from ..exits import FILES, CliError

VERSION = 3
#: The largest checkpoint file read (about a million pages); a larger one is refused.
MAX_CHECKPOINT_BYTES = 1 << 28
#: The largest count a checkpoint may hold (a page number, an offset, records).
_MAX_COUNT = (1 << 63) - 1
_CHAIN_KEY = b',"chain":"'
_CHAIN_TAIL = len(_CHAIN_KEY) + 64 + 2  # ,"chain":"<64 hex digits>"}
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
               | getattr(os, "O_CLOEXEC", 0))


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
    #: The chain digest of the last intact line (the next line chains from it).
    chain: str = ""

    def totals(self) -> dict[str, Any]:
        """The running totals as a checkpoint line carries them."""
        return {"offset": self.offset, "sha256": self.sha256, "records": self.records,
                "rejects": self.rejects, "rejected": self.rejected}

    def take(self, entry: dict[str, Any]) -> None:
        """Adopt the totals of a checkpoint line (checked: a bad value raises ValueError)."""
        totals = (_count(entry, "offset"), _digest(entry.get("sha256", "")),
                  _count(entry, "records", 0), _count(entry, "rejects", 0),
                  _count(entry, "rejected", 0))
        self.offset, self.sha256, self.records, self.rejects, self.rejected = totals

    def start_page(self, key: str) -> int:
        """The page a unit resumes from: 1 if never started, 0 if finished."""
        page, done = self.units.get(key, (0, False))
        return 0 if done else page + 1


def _fail(path: str, exc: OSError, doing: str) -> CliError:
    return CliError(f"cannot {doing} {path!r}: {exc.strerror or exc}", FILES)


def _count(entry: dict[str, Any], key: str, default: int | None = None, low: int = 0) -> int:
    value = entry[key] if default is None else entry.get(key, default)
    if type(value) is not int or not low <= value <= _MAX_COUNT:
        raise ValueError(f"{key} is {str(value)[:40]}")
    return value


def _digest(value: Any) -> str:
    if not isinstance(value, str) or len(value) not in (0, 64) or value.strip(
            "0123456789abcdef"):
        raise ValueError("sha256 is not a digest")
    return value


def _object(entry: dict[str, Any], key: str) -> dict[str, Any]:
    value = entry.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"{key} is not an object")
    return value


def _chained(chain: str, body: bytes) -> str:
    return hashlib.sha256(chain.encode() + body).hexdigest()


def _unchain(line: bytes, chain: str) -> str:
    """The chain of a line that chains from ``chain``; ValueError if it does not."""
    if len(line) <= _CHAIN_TAIL or line[-_CHAIN_TAIL:-_CHAIN_TAIL + len(_CHAIN_KEY)] \
            != _CHAIN_KEY or not line.endswith(b'"}'):
        raise ValueError("no chain digest")
    expected = _chained(chain, line[:-_CHAIN_TAIL] + b"}")
    if line[-66:-2].decode("ascii", "replace") != expected:
        raise ValueError("the chain digest does not match: the line was edited, or a line "
                         "before it was edited, added or removed")
    return expected


def _read_regular(path: str) -> bytes | None:
    """A checkpoint file's bytes: a regular file (no symlink, FIFO or device) of at most
    [`MAX_CHECKPOINT_BYTES`][douyin_async.cli.outputs.checkpoint.MAX_CHECKPOINT_BYTES]."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if os.path.islink(path):
            raise CliError(f"checkpoint {path!r} is a symbolic link, which is not followed; "
                           "start over with --force", FILES) from None
        raise _fail(path, exc, "read checkpoint") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CliError(f"checkpoint {path!r} is not a regular file; start over with "
                           "--force", FILES)
        chunks = []
        left = MAX_CHECKPOINT_BYTES + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise CliError(f"checkpoint {path!r} is larger than {MAX_CHECKPOINT_BYTES:,} "
                           "bytes; start over with --force", FILES)
        return b"".join(chunks)
    except OSError as exc:
        raise _fail(path, exc, "read checkpoint") from None
    finally:
        os.close(fd)


def _adopt(state: CheckpointState, entry: dict[str, Any]) -> None:
    """Fold one page or completion line into the state, checking every value."""
    if "complete" in entry:
        if entry["complete"] is not True:
            raise ValueError("complete is not true")
        state.complete = True
        state.take(entry)
        return
    unit, done = entry["unit"], entry["done"]
    if not isinstance(unit, str) or not isinstance(done, bool):
        raise ValueError("unit or done of the wrong type")
    page = _count(entry, "page", low=1)
    total = None if entry.get("total") is None else _count(entry, "total")
    state.take(entry)
    state.units[unit] = (page, done)
    if total is not None:
        state.announced[unit] = total


def _header(path: str, entry: dict[str, Any], line: bytes) -> CheckpointState:
    if entry.get("version") != VERSION:
        raise CliError(f"checkpoint {path!r} was written by another version of "
                       f"douyin-async (format {str(entry.get('version'))[:20]!r}, this one "
                       f"reads {VERSION}); finish that pull with the version that "
                       "began it, or start over with --force", FILES)
    if not isinstance(entry["params"], dict):
        raise ValueError("params is not an object")
    return CheckpointState(params=entry["params"], offset=_count(entry, "offset"),
                           meta=dict(_object(entry, "meta")), chain=_unchain(line, ""))


def read_checkpoint(path: str) -> CheckpointState | None:
    """The state recorded in a checkpoint file, or None if there is none."""
    data = _read_regular(path)
    if data is None:
        return None
    state: CheckpointState | None = None
    position = 0
    number = 0
    while True:
        number += 1
        end = data.find(b"\n", position)
        if end < 0:
            break  # no line, or a line cut short by a kill
        line = data[position:end]
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            entry = None
        if not isinstance(entry, dict) and state is not None \
                and data.find(b"\n", end + 1) < 0:
            break  # a last line of garbage (not even JSON): treat it as cut
        try:
            if not isinstance(entry, dict):
                raise ValueError("not a JSON object")
            if state is None:
                state = _header(path, entry, line)
            else:
                chain = _unchain(line, state.chain)
                _adopt(state, entry)
                state.chain = chain
        except (ValueError, KeyError, TypeError) as exc:
            raise CliError(f"checkpoint {path!r} is damaged at line {number} ({exc}); "
                           "start over with --force", FILES) from None
        position = end + 1
        if state is not None:
            state.intact = position
    return state


def _line(entry: dict[str, Any], chain: str) -> tuple[bytes, str]:
    """A checkpoint line chained from ``chain``, and its own chain."""
    body = orjson.dumps(entry)
    link = _chained(chain, body)
    return body[:-1] + _CHAIN_KEY + link.encode() + b'"}\n', link


class CheckpointWriter:
    """Appends page entries to a checkpoint file, each one fsync'd before returning."""

    def __init__(self, path: str, handle: Any, chain: str) -> None:
        self.path = path
        self._handle = handle
        self._chain = chain

    @classmethod
    def create(cls, path: str, params: dict[str, Any],
               meta: dict[str, Any] | None = None) -> CheckpointWriter:
        """A new checkpoint (replacing any old one atomically) for a pull starting at 0."""
        temporary = path + ".tmp"
        header, chain = _line({"version": VERSION, "params": params, "offset": 0,
                               "meta": meta or {}}, "")
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)  # a leftover (or a planted link) is never written through
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            with os.fdopen(os.open(temporary, flags, 0o666), "wb") as handle:
                handle.write(header)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
            _fsync_dir(path)
            return cls(path, open(path, "ab"), chain)  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise _fail(path, exc, "write checkpoint") from None

    @classmethod
    def reopen(cls, path: str, state: CheckpointState) -> CheckpointWriter:
        """Continue a checkpoint, first cutting off a line a kill left half-written."""
        try:
            fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
            handle = os.fdopen(fd, "r+b")
            handle.truncate(state.intact)
            handle.seek(0, os.SEEK_END)
            os.fsync(handle.fileno())
        except OSError as exc:
            raise _fail(path, exc, "write checkpoint") from None
        return cls(path, handle, state.chain)

    def _append(self, entry: dict[str, Any]) -> None:
        line, self._chain = _line(entry, self._chain)
        try:
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as exc:
            raise _fail(self.path, exc, "write checkpoint") from None

    def record(self, unit: str, page: int, done: bool, totals: dict[str, Any],
               announced: int | None = None) -> None:
        """Record that ``page`` of ``unit`` is in the output, with the running ``totals``
        (see [`CheckpointState.totals`][douyin_async.cli.outputs.checkpoint.CheckpointState.totals])
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

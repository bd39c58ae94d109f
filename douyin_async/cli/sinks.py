"""Output files: JSONL and CSV with a checkpoint beside them, and JSONL on stdout.

Every method here blocks (it writes and fsyncs); the pull runs them on one writer thread, one
page at a time, in the order the pages arrive. See [`checkpoint`][douyin_async.cli.checkpoint]
for the write order that makes a killed pull resumable, and
[`sqlite`][douyin_async.cli.sqlite] for the SQLite output.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol

import orjson

from .checkpoint import CheckpointState, CheckpointWriter, read_checkpoint
from .exits import CONFLICT, FILES, PIPE_CLOSED, CliError
from .rows import Table, fixed_values

Rows = list[dict[str, Any]]


class Output(Protocol):
    """Where pages go, and where the pull's progress is remembered."""

    def open(self, params: dict[str, Any], *, resume: bool, force: bool) \
            -> CheckpointState | None:
        """Prepare for writing; on resume, the recorded state (None: start from scratch)."""

    def write_page(self, unit: str, page: int, done: bool, rows: Rows) -> None:
        """Write one page's rows durably and record it as written."""

    def finish(self) -> None:
        """Record that the pull is complete."""

    def close(self) -> None:
        """Release files (also after an error)."""


def jsonl_encoder(rows: Rows) -> bytes:
    """Rows as JSON lines (ids stay exact integers)."""
    return b"".join([orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE) for row in rows])


def csv_encoder(table: Table) -> Callable[[Rows], bytes]:
    """A function turning rows into CSV bytes with ``table``'s columns (ids as digits)."""

    def encode(rows: Rows) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows(["" if v is None else v for v in fixed_values(row, table)]
                         for row in rows)
        return buffer.getvalue().encode()

    return encode


def csv_header(table: Table) -> bytes:
    """The CSV header line of ``table``."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(table.names)
    return buffer.getvalue().encode()


def conflict(message: str) -> CliError:
    """A [`CliError`][douyin_async.cli.exits.CliError] for output or checkpoint state that is
    in the way."""
    return CliError(message, CONFLICT)


def _cannot(path: str, exc: OSError) -> CliError:
    return CliError(f"cannot write {path!r}: {exc.strerror or exc}", FILES)


def _sync(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


class FileOutput:
    """A JSONL or CSV file plus its checkpoint ``PATH.ckpt``."""

    def __init__(self, path: str, encode: Callable[[Rows], bytes], preamble: bytes = b"") -> None:
        self.path = path
        self.checkpoint_path = path + ".ckpt"
        self._encode = encode
        self._preamble = preamble
        self._handle: BinaryIO | None = None
        self._checkpoint: CheckpointWriter | None = None
        self._offset = 0

    def open(self, params: dict[str, Any], *, resume: bool, force: bool) \
            -> CheckpointState | None:
        """Start a new output, or on resume cut the output back to its checkpoint."""
        size = os.path.getsize(self.path) if os.path.isfile(self.path) else 0
        if resume:
            state = read_checkpoint(self.checkpoint_path)
            if state is not None:
                return self._continue(state, params, size)
            if size:
                raise conflict(f"{self.path!r} has no checkpoint to resume from; "
                               "use --force to start over")
        elif not force and (size > len(self._preamble) or self._has_progress()):
            raise conflict(f"{self.path!r} or its checkpoint already exists; use --resume to "
                           "continue that pull or --force to overwrite it")
        self._checkpoint = CheckpointWriter.create(self.checkpoint_path, params)
        try:
            self._handle = open(self.path, "wb")  # noqa: SIM115 - closed by close()
            self._handle.write(self._preamble)
            _sync(self._handle)
        except OSError as exc:
            raise _cannot(self.path, exc) from None
        self._offset = len(self._preamble)
        return None

    def _has_progress(self) -> bool:
        """True unless the checkpoint is missing or records no page (nothing to lose)."""
        if not os.path.exists(self.checkpoint_path):
            return False
        try:
            state = read_checkpoint(self.checkpoint_path)
        except CliError:
            return True
        return state is not None and (bool(state.units) or state.complete)

    def _continue(self, state: CheckpointState, params: dict[str, Any], size: int) \
            -> CheckpointState:
        if state.params != params:
            changed = sorted(k for k in {*state.params, *params}
                             if state.params.get(k) != params.get(k))
            raise conflict(f"--resume: {self.checkpoint_path!r} belongs to a pull with different "
                           f"parameters ({', '.join(changed)}); use --force to start over")
        if state.complete:
            return state
        if size < state.offset:
            raise conflict(f"--resume: {self.path!r} is shorter than its checkpoint says; "
                           "use --force to start over")
        try:
            # The output may be missing: a kill can land between checkpoint and output creation.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            self._handle = os.fdopen(fd, "r+b")
            self._handle.truncate(state.offset)
            self._handle.seek(state.offset)
            if state.offset == 0:
                self._handle.write(self._preamble)
            _sync(self._handle)
        except OSError as exc:
            raise _cannot(self.path, exc) from None
        self._offset = self._handle.tell()
        self._checkpoint = CheckpointWriter.reopen(self.checkpoint_path, state)
        return state

    def write_page(self, unit: str, page: int, done: bool, rows: Rows) -> None:
        """Append the rows, fsync, then append and fsync the checkpoint entry."""
        assert self._handle is not None and self._checkpoint is not None
        data = self._encode(rows)
        if data:
            try:
                self._handle.write(data)
                _sync(self._handle)
            except OSError as exc:
                raise _cannot(self.path, exc) from None
            self._offset += len(data)
        self._checkpoint.record(unit, page, done, self._offset)

    def finish(self) -> None:
        """Mark the checkpoint complete (a later ``--resume`` then has nothing to do)."""
        assert self._checkpoint is not None
        self._checkpoint.complete(self._offset)

    def close(self) -> None:
        """Close the output and the checkpoint."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._checkpoint is not None:
            self._checkpoint.close()
            self._checkpoint = None


class StdoutOutput:
    """JSONL on stdout; no checkpoint, so it cannot be resumed."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._stream = stream

    def open(self, params: dict[str, Any], *, resume: bool, force: bool) -> None:
        """Nothing to prepare."""
        if self._stream is None:
            self._stream = sys.stdout.buffer

    def write_page(self, unit: str, page: int, done: bool, rows: Rows) -> None:
        """Write the rows and flush."""
        assert self._stream is not None
        try:
            self._stream.write(jsonl_encoder(rows))
            self._stream.flush()
        except BrokenPipeError:
            # Point stdout at /dev/null so the interpreter's final flush stays quiet.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
            raise CliError("", PIPE_CLOSED) from None

    def finish(self) -> None:
        """Nothing to record."""

    def close(self) -> None:
        """Leave stdout open."""

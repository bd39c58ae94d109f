"""Output files: JSONL and CSV (plain or gzip) with a checkpoint beside them, and JSONL on
stdout.

Every method here blocks (it writes and fsyncs); the pull runs them on one writer thread, one
page at a time, in the order the pages arrive. See
[`checkpoint`][douyin_async.cli.outputs.checkpoint]
for the write order that makes a killed pull resumable, [`sqlite`][douyin_async.cli.outputs.sqlite]
for the SQLite output and [`xlsx`][douyin_async.cli.outputs.xlsx] for spreadsheets.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from typing import Any, BinaryIO, Protocol, TextIO

from ..exits import CONFLICT, FILES, PIPE_CLOSED, CliError
from ..spec import PullSpec
from .checkpoint import CheckpointState, CheckpointWriter, read_checkpoint
from .encoders import Encoder, Rows, csv_encoder, csv_header, jsonl_encoder
from .locks import OutputLock
from .rejects import RejectsFile, check_quarantine


class Output(Protocol):
    """Where pages go, and where the pull's progress is remembered."""

    def open(self, params: dict[str, Any], *, resume: bool, force: bool,
             meta: dict[str, Any] | None = None) -> CheckpointState | None:
        """Prepare for writing; on resume, the recorded state (None: start from scratch)."""

    def write_page(self, unit: str, page: int, done: bool, rows: Rows,
                   rejects: list[dict[str, Any]] | None = None,
                   announced: int | None = None) -> None:
        """Write one page's rows (and its refused records) durably and record the page, with
        the record total it ``announced`` (talent media)."""

    def finish(self) -> None:
        """Record that the pull is complete."""

    def close(self) -> None:
        """Release files (also after an error)."""

    @property
    def rejected(self) -> int:
        """Records quarantined so far, by earlier runs of a resumed pull too."""


def conflict(message: str) -> CliError:
    """A [`CliError`][douyin_async.cli.exits.CliError] for output or checkpoint state that is
    in the way."""
    return CliError(message, CONFLICT)


def _cannot(path: str, exc: OSError) -> CliError:
    return CliError(f"cannot write {path!r}: {exc.strerror or exc}", FILES)


def _sync(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def changed_parameters(recorded: dict[str, Any], params: dict[str, Any]) -> str:
    """What differs between a checkpoint's parameters and this run's, for a message: the
    server and the app with both values (neither holds a secret), other keys by name."""
    changed = sorted(k for k in {*recorded, *params} if recorded.get(k) != params.get(k))
    parts = [f"{k} {recorded.get(k)!r}, now {params.get(k)!r}" if k in ("server", "app")
             else k for k in changed]
    return "; ".join(parts)


def prefix_digest(path: str, size: int) -> Any:
    """The SHA-256 of the first ``size`` bytes of a file (a ``hashlib`` object, to go on
    from)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while size > 0:
            chunk = handle.read(min(size, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            size -= len(chunk)
    return digest


class FileOutput:
    """A JSONL or CSV file (gzip or not) plus its checkpoint ``PATH.ckpt``.

    ``checkpoint`` and ``rejects`` name other places for the checkpoint and the rejects file
    (an ``.xlsx`` output keeps its rows in a side file but its checkpoint beside the ``.xlsx``).
    """

    def __init__(self, path: str, encode: Encoder, preamble: bytes = b"", *,
                 checkpoint: str | None = None, rejects: str | None = None) -> None:
        self.path = path
        self.checkpoint_path = checkpoint or path + ".ckpt"
        self._encode = encode
        self._preamble = preamble
        self._handle: BinaryIO | None = None
        self._checkpoint: CheckpointWriter | None = None
        self._rejects = RejectsFile(rejects or path)
        self._state = CheckpointState(params={})
        self._digest = hashlib.sha256()
        #: This run started the output afresh and has recorded nothing yet: a failure now
        #: removes what it created, so the same command can simply be run again.
        self._untouched = False

    @property
    def rejected(self) -> int:
        """Records quarantined so far (earlier runs of a resumed pull included)."""
        return self._state.rejected

    def open(self, params: dict[str, Any], *, resume: bool, force: bool,
             meta: dict[str, Any] | None = None) -> CheckpointState | None:
        """Start a new output, or on resume check the output against its checkpoint and cut
        it back to the checkpointed prefix."""
        size = os.path.getsize(self.path) if os.path.isfile(self.path) else 0
        if resume:
            state = read_checkpoint(self.checkpoint_path)
            if state is not None and (state.units or state.complete):
                return self._continue(state, params, size)
            # A checkpoint that records no page: what the output holds was never recorded
            # (a kill landed before the first checkpoint line), so start afresh.
            if state is None and size > len(self._preamble):
                raise conflict(f"{self.path!r} has no checkpoint to resume from; "
                               "use --force to start over")
        elif not force and (size > len(self._preamble) or self._has_progress()):
            raise conflict(f"{self.path!r} or its checkpoint already exists; use --resume to "
                           "continue that pull or --force to overwrite it")
        self._rejects.start()
        self._checkpoint = CheckpointWriter.create(self.checkpoint_path, params, meta)
        try:
            self._handle = open(self.path, "wb")  # noqa: SIM115 - closed by close()
            self._handle.write(self._preamble)
            _sync(self._handle)
        except OSError as exc:
            raise _cannot(self.path, exc) from None
        self._digest.update(self._preamble)
        self._state = CheckpointState(params=params, offset=len(self._preamble),
                                      sha256=self._digest.hexdigest())
        self._untouched = True
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
            raise conflict(f"--resume: {self.checkpoint_path!r} belongs to another pull "
                           f"({changed_parameters(state.params, params)}); use --force to "
                           "start over")
        self._state = state
        if state.complete:
            return state
        if size < state.offset:
            raise conflict(f"--resume: {self.path!r} was changed since the pull wrote it (it "
                           f"holds {size:,} bytes, the checkpoint recorded {state.offset:,}); "
                           "restore it, or use --force to start over")
        if state.offset:
            self._digest = prefix_digest(self.path, state.offset)
            if self._digest.hexdigest() != state.sha256:
                raise conflict(f"--resume: {self.path!r} was changed since the pull wrote it "
                               f"(its first {state.offset:,} bytes differ from what the "
                               "checkpoint recorded); restore it, or use --force to start over")
        if not self._rejects.resume(state.rejects, state.rejected):
            raise conflict(f"--resume: {self._rejects.path!r} is shorter than the checkpoint "
                           "says; restore it, or use --force to start over")
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
        if state.offset == 0:
            self._digest.update(self._preamble)
        state.offset = self._handle.tell()
        state.sha256 = self._digest.hexdigest()
        self._checkpoint = CheckpointWriter.reopen(self.checkpoint_path, state)
        return state

    def write_page(self, unit: str, page: int, done: bool, rows: Rows,
                   rejects: list[dict[str, Any]] | None = None,
                   announced: int | None = None) -> None:
        """Append the rows and the rejects, fsync, then append and fsync the checkpoint
        entry."""
        assert self._handle is not None and self._checkpoint is not None
        data = self._encode(rows)
        if data:
            try:
                self._handle.write(data)
                _sync(self._handle)
            except OSError as exc:
                raise _cannot(self.path, exc) from None
            self._digest.update(data)
            self._state.offset += len(data)
            self._state.sha256 = self._digest.hexdigest()
        self._rejects.append(rejects or [])
        state = self._state
        state.records += len(rows)
        state.rejects, state.rejected = self._rejects.size, self._rejects.count
        self._checkpoint.record(unit, page, done, state.totals(), announced)
        self._untouched = False

    def finish(self) -> None:
        """Mark the checkpoint complete (a later ``--resume`` then has nothing to do)."""
        assert self._checkpoint is not None
        self._checkpoint.complete(self._state.totals())
        self._untouched = False

    def close(self) -> None:
        """Close the output and the checkpoint; remove both if this run created them and
        recorded nothing (it failed before its first page)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._checkpoint is not None:
            self._checkpoint.close()
            self._checkpoint = None
        self._rejects.close()
        if self._untouched:
            self._untouched = False
            for path in (self.path, self.checkpoint_path):
                with contextlib.suppress(OSError):
                    os.unlink(path)



class StdoutOutput:
    """JSONL on stdout; no checkpoint, so it cannot be resumed."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._stream = stream

    rejected = 0

    def open(self, params: dict[str, Any], *, resume: bool, force: bool,
             meta: dict[str, Any] | None = None) -> None:
        """Nothing to prepare."""
        if self._stream is None:
            self._stream = sys.stdout.buffer

    def write_page(self, unit: str, page: int, done: bool, rows: Rows,
                   rejects: list[dict[str, Any]] | None = None,
                   announced: int | None = None) -> None:
        """Write the rows and flush (stdout keeps no rejects file)."""
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


def open_output(stack: AsyncExitStack, spec: PullSpec, make: Callable[[PullSpec], Output],
                params: dict[str, Any], units: int, stderr: TextIO
                ) -> tuple[Output, ThreadPoolExecutor, CheckpointState | None] | None:
    """Lock the output of ``spec`` while ``stack`` lives, make it and open its checkpoint:
    the output, its writer thread and the state to resume; None when it is complete."""
    if spec.out != "-":  # one run per output, for the whole life of the pull
        stack.enter_context(OutputLock(spec.out))
    output = make(spec)
    stack.callback(output.close)
    writer = ThreadPoolExecutor(1, thread_name_prefix="douyin-writer")
    stack.callback(writer.shutdown, wait=True)
    meta = {"units": units, "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    state = output.open(params, resume=spec.resume, force=spec.force, meta=meta)
    if state is None or not state.complete:
        return output, writer, state
    if not spec.quiet:
        stderr.write(f"nothing to do: the pull into {spec.out} is already complete\n")
    check_quarantine(output.rejected, spec.out, "row" if spec.kind == "bills" else "record")
    return None


__all__ = ["FileOutput", "Output", "StdoutOutput", "changed_parameters", "conflict", "open_output",
           "csv_encoder", "csv_header", "jsonl_encoder", "prefix_digest"]

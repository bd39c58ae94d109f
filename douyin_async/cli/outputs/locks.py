"""One run per output: an exclusive OS lock on ``OUT.lock`` for the whole life of a pull.

The lock is a ``flock`` on a sidecar file, so the kernel releases it when the process ends,
however it ends (``kill -9`` included): a stale lock file never blocks a later run. The holder
writes its pid into the file, so a second run on the same output can name it. The holder removes
the file while it still holds the lock; a run that locked a file just removed (it opened the
path before the removal) sees that the path no longer names its file and tries again, so two
runs never both believe they hold the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time

from ..exits import FILES, LOCKED, CliError

#: Seconds a run keeps asking for a held lock before it gives up: long enough to outlast a
#: ``status`` probe, which holds the lock for a moment to see whether a run holds it.
PATIENCE = 0.3


def lock_path(out: str) -> str:
    """The lock file of an output: beside the file the path leads to, so two spellings of one
    output (a relative path, a symbolic link) share one lock."""
    return os.path.realpath(out) + ".lock"


def holder_pid(path: str) -> int | None:
    """The pid written in a lock file (None when absent, empty or unreadable)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(32).strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def is_locked(out: str) -> int | None:
    """The pid of the run holding ``out`` now, or None if no run holds it (0: a run whose
    pid is not known yet). It takes a shared lock for a moment; a run starting then waits
    it out (see [`PATIENCE`][douyin_async.cli.outputs.locks.PATIENCE])."""
    path = lock_path(out)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return holder_pid(path) or 0
    finally:
        os.close(fd)
    return None


class OutputLock:
    """The exclusive lock of one output, taken at once or refused with exit code 10."""

    def __init__(self, out: str) -> None:
        self.out = out
        self.path = lock_path(out)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise a [`CliError`][douyin_async.cli.exits.CliError] naming
        the pid of the run that holds it."""
        give_up = time.monotonic() + PATIENCE
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise CliError(f"cannot write {self.path!r} (the lock of {self.out!r}): "
                               f"{exc.strerror or exc}", FILES) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() < give_up:  # perhaps only a status probe: ask again
                    time.sleep(0.02)
                    continue
                pid = holder_pid(self.path)
                who = f"pid {pid}" if pid else "pid unknown"
                raise CliError(f"another run ({who}) is writing {self.out!r}; wait for it "
                               "to end, or stop it", LOCKED) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder removed this file as we opened it: try the new one
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Remove the lock file and let go of the lock."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


__all__ = ["OutputLock", "holder_pid", "is_locked", "lock_path"]

"""Quarantined records (``--on-invalid-record quarantine``): ``OUT.rejects.jsonl``.

With quarantine the client runs with ``invalid_records="collect"``: a record it cannot decode
exactly is left out of its page and handed over in ``page.rejected`` instead of failing the
pull. Each one becomes a line of the rejects file: the unit (its query fields), the page, the
record's position in the page, the field and the reason, and the raw record as the server
sent it.

The rejects file is appended and fsync'd *before* the page's checkpoint line, which records
its size; a resumed pull cuts it back to that size, so a page written twice (before and after
a kill) leaves its rejects once.
"""

from __future__ import annotations

import os
from typing import Any, BinaryIO

import orjson

from ...models import Page
from ..exits import FILES, QUARANTINED, CliError


def rejects_path(out: str) -> str:
    """The rejects file of an output."""
    return out + ".rejects.jsonl"


def check_quarantine(count: int, out: str, word: str = "record") -> None:
    """End a pull that set ``count`` records (or rows) aside with exit code 11."""
    if count:
        what = f"1 {word} was" if count == 1 else f"{count:,} {word}s were"
        raise CliError(f"{what} refused and quarantined in {rejects_path(out)}", QUARANTINED)


def page_rejects(page: Page, unit: str, app: str | None = None) -> list[dict[str, Any]]:
    """One entry per record the client refused on ``page`` (none without quarantine)."""
    entries = []
    for error in page.rejected:
        entry: dict[str, Any] = {} if app is None else {"app": app}
        entry.update({
            "unit": orjson.loads(unit), "page": page.page, "log_id": page.log_id,
            "index": error.index, "field": error.field,
            "reason": error.reason or str(error), "record": error.record})
        entries.append(entry)
    return entries


def _default(value: object) -> str:
    return repr(value)


def encode_rejects(entries: list[dict[str, Any]]) -> bytes:
    """Entries as JSON lines (a value JSON cannot hold is written as its repr)."""
    return b"".join(orjson.dumps(e, default=_default, option=orjson.OPT_APPEND_NEWLINE)
                    for e in entries)


class RejectsFile:
    """The rejects file of one output, opened on the first refused record."""

    def __init__(self, out: str) -> None:
        self.path = rejects_path(out)
        self.size = 0
        self.count = 0
        self._handle: BinaryIO | None = None

    def _fail(self, exc: OSError) -> CliError:
        return CliError(f"cannot write {self.path!r}: {exc.strerror or exc}", FILES)

    def start(self) -> None:
        """A new pull: no rejects yet (an old file is removed)."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise self._fail(exc) from None

    def resume(self, size: int, count: int) -> bool:
        """Continue after ``count`` rejects in ``size`` bytes, cutting off what a kill left
        after them; False when the file is shorter than that (it was changed)."""
        self.size, self.count = size, count
        try:
            actual = os.path.getsize(self.path)
        except FileNotFoundError:
            return size == 0
        except OSError as exc:
            raise self._fail(exc) from None
        if actual < size:
            return False
        if actual > size:
            try:
                os.truncate(self.path, size)
            except OSError as exc:
                raise self._fail(exc) from None
        return True

    def append(self, entries: list[dict[str, Any]]) -> None:
        """Append and fsync ``entries``."""
        if not entries:
            return
        data = encode_rejects(entries)
        try:
            if self._handle is None:
                self._handle = open(self.path, "ab")  # noqa: SIM115 - closed by close()
            self._handle.write(data)
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as exc:
            raise self._fail(exc) from None
        self.size += len(data)
        self.count += len(entries)

    def close(self) -> None:
        """Close the file."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


__all__ = ["RejectsFile", "check_quarantine", "encode_rejects", "page_rejects",
           "rejects_path"]

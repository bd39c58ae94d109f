"""The incremental CSV reader of bill files: bytes in, as they arrive; records out. Pure.

- Encoding, decided once per file from its first bytes: a UTF-8 byte-order mark means UTF-8;
  otherwise a header line that is strict UTF-8 means UTF-8; otherwise GB18030 (a superset of
  GBK and GB2312, which Chinese spreadsheet exports use). Rows are never guessed one by one:
  a byte that is not text in the file's encoding fails the file with a
  [`BillFileError`][douyin_async.bills.records.BillFileError] naming its offset.
- An incremental decoder carries a character split across two chunks.
- Records are cut at newlines outside quotes (a newline ends a record when the record so far
  holds an even number of `"`, as in RFC 4180, where quotes inside a field are doubled), then
  split by the standard `csv` module in strict mode, so quoted fields may hold commas, quotes
  and newlines.
- Blank lines are skipped and not counted. Rows are numbered from 1 (the first row after the
  header); `skip_rows` drops the first rows unread, to resume after rows already delivered.
- A bad row (cells of the wrong count or kind, broken quoting) follows the fail/quarantine
  rule: with `collect=False` it raises its
  [`InvalidRecordError`][douyin_async.errors.InvalidRecordError]; with `collect=True` it is
  handed back beside the records.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable

from ..errors import InvalidRecordError
from .records import BillFileError, BillKind, BillRecord, RowDecoder

#: A header line longer than this is decided on its first bytes.
MAX_HEADER_BYTES = 1 << 20
_GB18030_BOM = b"\x84\x31\x95\x33"


def detect_encoding(head: bytes) -> str:
    """The codec of a bill file from its first bytes (ideally the whole header line)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(_GB18030_BOM):
        return "gb18030"
    line = head.split(b"\n", 1)[0]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(line, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


class _Halt(Exception):
    """The first bad row, in raise mode: stop reading."""


class BillCsvReader:
    """Feed a bill file's bytes in any chunks; get its records back in file order.

    Args:
        kind: `"video"` or `"live"` (decides the key columns).
        endpoint: what errors name as the source (the file's path, never its query).
        skip_rows: rows to pass over unread (already delivered by an earlier run).
        collect: hand bad rows back instead of raising the first.
    """

    def __init__(self, kind: BillKind, *, endpoint: str, skip_rows: int = 0,
                 collect: bool = False) -> None:
        self.kind = kind
        self.endpoint = endpoint
        self.skip_rows = skip_rows
        self.collect = collect
        #: The codec, once the first line decided it.
        self.encoding: str | None = None
        #: Rows read so far (skipped ones included); the last row's number.
        self.rows = 0
        #: Bytes fed so far.
        self.bytes = 0
        self.decoder: RowDecoder | None = None
        self._head = bytearray()
        self._text: codecs.IncrementalDecoder | None = None
        self._tail = ""
        self._pending: list[str] = []
        self._odd = False
        self._finished = False
        #: The bad row that stopped a reader in raise mode (raised again if fed more).
        self.failed: InvalidRecordError | None = None

    def feed(self, data: bytes) -> tuple[list[BillRecord], list[InvalidRecordError]]:
        """Read the next bytes; answer the records and bad rows they complete. In raise mode
        the first bad row ends the reading: it comes back after the records before it, and
        feeding more raises it."""
        if self.failed is not None:
            raise self.failed
        at = self.bytes
        self.bytes += len(data)
        if self._text is None:
            self._head += data
            if b"\n" not in self._head and len(self._head) < MAX_HEADER_BYTES:
                return [], []
            data, at = bytes(self._head), 0
            self._start()
        return self._lines(self._decode(data, at, final=False), final=False)

    def finish(self) -> tuple[list[BillRecord], list[InvalidRecordError]]:
        """The end of the file: the last row (one without a final newline), then checks that
        the file had a header."""
        if self.failed is not None:
            raise self.failed
        if self._finished:
            return [], []
        self._finished = True
        if self._text is None:
            data = bytes(self._head)
            self._start()
            text = self._decode(data, 0, final=True)
        else:
            text = self._decode(b"", self.bytes, final=True)
        out = self._lines(text, final=True)
        if self.decoder is None:
            raise BillFileError("the bill file is empty (no header line)",
                                endpoint=self.endpoint)
        return out

    def _start(self) -> None:
        self.encoding = detect_encoding(bytes(self._head[:MAX_HEADER_BYTES]))
        self._text = codecs.getincrementaldecoder(self.encoding)(errors="strict")
        self._head = bytearray()

    def _decode(self, data: bytes, at: int, *, final: bool) -> str:
        assert self._text is not None
        try:
            return self._text.decode(data, final=final)
        except UnicodeDecodeError as exc:
            raise BillFileError(
                f"bytes at offset {at + max(exc.start, 0)} are not {self.encoding} text "
                f"(the file's encoding, decided by its header line)",
                endpoint=self.endpoint) from None

    def _lines(self, text: str, *, final: bool
               ) -> tuple[list[BillRecord], list[InvalidRecordError]]:
        parts = (self._tail + text).split("\n")
        self._tail = "" if final else parts.pop()
        records: list[str] = []
        pending = self._pending
        odd = self._odd
        for line in parts:
            if '"' in line and line.count('"') & 1:
                odd = not odd
            if odd:
                pending.append(line)
            elif pending:
                pending.append(line)
                records.append("\n".join(pending))
                pending = []
            else:
                records.append(line)
        if final and pending:
            records.append("\n".join(pending))  # an unclosed quote: a bad last row
            pending = []
        self._pending, self._odd = pending, odd
        return self._rows(records)

    def _rows(self, records: list[str]) -> tuple[list[BillRecord], list[InvalidRecordError]]:
        out: list[BillRecord] = []
        bad: list[InvalidRecordError] = []
        reader = csv.reader(records, strict=True)
        while True:
            try:
                self._cells(reader, out, bad)
                return out, bad
            except _Halt:
                return out, bad
            except csv.Error as exc:
                raw = records[reader.line_num - 1]
                if self.decoder is None:
                    raise BillFileError(f"the header line is not valid CSV ({exc})",
                                        endpoint=self.endpoint) from None
                self.rows += 1
                if self.rows > self.skip_rows:
                    error = InvalidRecordError(
                        f"bill file row {self.rows}: not valid CSV ({exc})", field="(row)",
                        reason=f"not valid CSV: {exc}", record=[raw], index=self.rows,
                        snippet=raw[:200], endpoint=self.endpoint)
                    try:
                        self._refuse(error, bad)
                    except _Halt:
                        return out, bad

    def _cells(self, reader: Iterable[list[str]], out: list[BillRecord],
               bad: list[InvalidRecordError]) -> None:
        decoder = self.decoder
        skip = self.skip_rows
        for cells in reader:
            if not cells:
                continue
            if decoder is None:
                decoder = self.decoder = RowDecoder(cells, self.kind, endpoint=self.endpoint)
                continue
            self.rows += 1
            if self.rows <= skip:
                continue
            try:
                out.append(decoder.decode(cells, self.rows))
            except InvalidRecordError as error:
                self._refuse(error, bad)

    def _refuse(self, error: InvalidRecordError, bad: list[InvalidRecordError]) -> None:
        bad.append(error)
        if not self.collect:
            self.failed = error
            raise _Halt


__all__ = ["MAX_HEADER_BYTES", "BillCsvReader", "detect_encoding"]

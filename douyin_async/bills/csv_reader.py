r"""The incremental CSV reader of bill files: bytes in, as they arrive; records out. Pure.

- Encoding, decided once per file from its first bytes: a UTF-8 byte-order mark means UTF-8;
  otherwise a header line that is strict UTF-8 means UTF-8; otherwise GB18030 (a superset of
  GBK and GB2312, which Chinese spreadsheet exports use). Rows are never guessed one by one:
  a byte that is not text in the file's encoding fails the file with a
  [`BillFileError`][douyin_async.bills.records.BillFileError] naming its offset.
- An incremental decoder carries a character split across two chunks.
- Records are cut at line ends outside quotes (a line end ends a record when the record so far
  holds an even number of `"`, as in RFC 4180, where quotes inside a field are doubled), then
  split by the standard `csv` module in strict mode, so quoted fields may hold commas, quotes
  and line ends. The cut is done here, not by `csv.reader`: that reader pulls its lines and
  cannot pause in the middle of a record when the bytes received so far run out.
- A line ends at `\r\n`, `\n` or a lone `\r` (files saved with classic Mac line ends are read
  row by row, never as one line).
- The work is linear in the input: the pieces of an unfinished record are kept in a list and
  joined once, and each new chunk alone is searched. A record is bounded: past `max_record`
  characters (default [`MAX_RECORD_CHARS`][douyin_async.bills.csv_reader.MAX_RECORD_CHARS])
  the file fails with a
  [`BillRecordTooLongError`][douyin_async.errors.BillRecordTooLongError] naming the line the
  record starts on, so an unclosed quote holds at most that much text. A single field is also
  bounded by the `csv` module's field limit (131,072 characters): a longer one is a bad row.
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
import re
from collections.abc import Iterable

from ..errors import BillRecordTooLongError, InvalidRecordError
from .records import BillFileError, BillKind, BillRecord, RowDecoder

#: A header line longer than this is decided on its first bytes.
MAX_HEADER_BYTES = 1 << 20
#: The longest record (a line, or the lines a quoted field joins), in characters, by default.
MAX_RECORD_CHARS = 1 << 20
_GB18030_BOM = b"\x84\x31\x95\x33"
_LINE_END = re.compile(r"\r\n?|\n")
_FIRST_LINE = re.compile(rb"[\r\n]")


def detect_encoding(head: bytes) -> str:
    """The codec of a bill file from its first bytes (ideally the whole header line)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(_GB18030_BOM):
        return "gb18030"
    line = _FIRST_LINE.split(head, maxsplit=1)[0]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(line, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _split(text: str) -> list[str]:
    """`text` cut at its line ends; `str.split` (faster than a pattern) when one kind is used."""
    crs = text.count("\r")
    if not crs:
        return text.split("\n")
    if "\n" not in text:
        return text.split("\r")
    if crs == text.count("\n") == text.count("\r\n"):
        return text.split("\r\n")
    return _LINE_END.split(text)


class _Halt(Exception):
    """The first bad row, in raise mode: stop reading."""


class BillCsvReader:
    """Feed a bill file's bytes in any chunks; get its records back in file order.

    Args:
        kind: `"video"` or `"live"` (decides the key columns).
        endpoint: what errors name as the source (the file's path, never its query).
        skip_rows: rows to pass over unread (already delivered by an earlier run).
        collect: hand bad rows back instead of raising the first.
        max_record: the longest record, in characters; a longer one fails the file.
    """

    def __init__(self, kind: BillKind, *, endpoint: str, skip_rows: int = 0,
                 collect: bool = False, max_record: int = MAX_RECORD_CHARS) -> None:
        self.kind = kind
        self.endpoint = endpoint
        self.skip_rows = skip_rows
        self.collect = collect
        self.max_record = max_record
        #: The codec, once the first line decided it.
        self.encoding: str | None = None
        #: Rows read so far (skipped ones included); the last row's number.
        self.rows = 0
        #: Bytes fed so far.
        self.bytes = 0
        self.decoder: RowDecoder | None = None
        self._head = bytearray()
        self._text: codecs.IncrementalDecoder | None = None
        #: Lines ended so far (the header is line 1).
        self.lines = 0
        self._parts: list[str] = []  # the unfinished record, verbatim
        self._size = 0  # its characters
        self._odd = 0  # 1 when it holds an odd number of quotes
        self._first = 1  # the line it starts on
        self._cr = ""  # a "\r" that ended a chunk: its "\n" may start the next one
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
            if (b"\n" not in data and b"\r" not in data
                    and len(self._head) < MAX_HEADER_BYTES):
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
        if self._cr:
            text, self._cr = self._cr + text, ""
        if not final and text.endswith("\r"):
            text, self._cr = text[:-1], "\r"
        if self._odd or '"' in text:
            records, begin = self._quoted(text)
        else:
            records, begin = self._plain(text)
        parts = self._parts
        if begin < len(text):
            self._size += len(text) - begin
            self._bound(self._size)
            parts.append(text[begin:])
        if final and parts:
            records.append("".join(parts))  # the last row; with an unclosed quote, a bad one
            parts.clear()
        return self._rows(records)

    def _plain(self, text: str) -> tuple[list[str], int]:
        """Cut a chunk without quotes (the common case): every line end ends a record."""
        records = _split(text)
        rest = records.pop()
        if not records:
            return records, 0
        if self._parts:
            self._parts.append(records[0])
            records[0] = "".join(self._parts)
            self._parts.clear()
            self._size = 0
        if max(map(len, records)) > self.max_record:
            at = next(n for n, line in enumerate(records) if len(line) > self.max_record)
            if at:
                self._first = self.lines + 1 + at
            self._bound(len(records[at]))
        self.lines += len(records)
        self._first = self.lines + 1
        return records, len(text) - len(rest)

    def _quoted(self, text: str) -> tuple[list[str], int]:
        """Cut a chunk with quotes: a line end inside a quoted field is the field's."""
        records: list[str] = []
        parts = self._parts
        begin = start = 0  # where the record's text in this chunk begins; the line's
        for end in _LINE_END.finditer(text):
            cut = end.start()
            self.lines += 1
            self._odd ^= text.count('"', start, cut) & 1
            start = end.end()
            if self._odd:
                continue
            self._bound(self._size + cut - begin)
            if parts:
                parts.append(text[begin:cut])
                records.append("".join(parts))
                parts.clear()
                self._size = 0
            else:
                records.append(text[begin:cut])
            begin = start
            self._first = self.lines + 1
        self._odd ^= text.count('"', start) & 1
        return records, begin

    def _bound(self, size: int) -> None:
        if size > self.max_record:
            self._parts.clear()
            raise BillRecordTooLongError(
                f"the record starting on line {self._first} of the bill file is longer than "
                f"{self.max_record} characters (an unclosed quote, or not a bill file)",
                endpoint=self.endpoint, line=self._first, limit=self.max_record)

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

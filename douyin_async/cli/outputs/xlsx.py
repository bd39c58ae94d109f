"""``.xlsx`` output: a spreadsheet built by XlsxWriter in constant-memory mode.

An ``.xlsx`` file is a zip archive and cannot be appended to, so a pull does not write it page
by page. It writes its rows, checkpointed like any file output, to a side file
``OUT.rows.jsonl.gz`` (one gzip member per page), and builds the workbook from that file once
the last page is in: rows streamed into ``OUT.xlsx.tmp``, fsync'd, renamed over ``OUT``, then
the checkpoint marked complete and the side file removed. A pull killed at any moment resumes
like the others; one killed while building builds again.

Every cell is written with its type, never guessed: ids and open ids as text (a spreadsheet
would round a 19-digit number), counters and amounts in fen as integers, ``publish_time`` as
a date-time in Asia/Shanghai (UTC+8, no daylight saving; the header says so), dates as dates,
and text always as a string, so no formula can arise. One sheet per record type; past
1,048,575 rows a sheet continues on the next (``task_videos_2``, ...).

No value is cut. A cell holds at most 32,767 characters
([`MAX_CELL_CHARS`][douyin_async.cli.outputs.xlsx.MAX_CELL_CHARS]): before the workbook is made, the
side file is read once to find longer text. By default (``--xlsx-long-text fail``) the first
such value fails the build with an
[`XlsxCellError`][douyin_async.cli.outputs.xlsx.XlsxCellError] naming its sheet, row, column and
cell, and the pull stays resumable; with ``--xlsx-long-text split`` the column is followed by
continuation columns ``NAME (part 2)``, ``NAME (part 3)``, ... and a long value is written
across them in order (join the parts to get it back). Every XlsxWriter write is checked: a
refused cell is an error, never a silent gap.

XlsxWriter (pure Python, BSD) is chosen over openpyxl's write-only mode because it writes each
cell only through an explicit typed call and, in constant-memory mode, flushes every row to
disk as it goes; it is an optional extra: ``pip install 'douyin-async[xlsx]'``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import os
from collections.abc import Iterator
from typing import Any, Literal

import orjson

from ...days import BEIJING
from ..exits import FILES, USAGE, CliError
from .checkpoint import CheckpointState
from .encoders import gzip_encoder, jsonl_encoder
from .rows import Table, column_kinds, fixed_values
from .sinks import FileOutput, conflict

#: China Standard Time; Asia/Shanghai has kept UTC+8 without daylight saving since 1991.
SHANGHAI = BEIJING
#: Data rows per sheet (Excel's limit is 1,048,576 rows, the header included).
MAX_ROWS = 1_048_575
#: The most characters a cell holds (Excel's limit; XlsxWriter refuses a longer string).
MAX_CELL_CHARS = 32_767
#: Columns a sheet holds (Excel's limit).
MAX_COLUMNS = 16_384
#: What a text value longer than a cell does: fail the build, or go on in continuation columns.
LongText = Literal["fail", "split"]


class XlsxCellError(CliError):
    """A value the workbook cannot hold as it is: text longer than a cell (in ``fail``
    mode), or a cell XlsxWriter refused. Names the sheet, the row (as the spreadsheet numbers
    it, the header being row 1), the column and the cell; exits with ``FILES``."""

    def __init__(self, message: str, *, sheet: str, row: int, column: str, cell: str) -> None:
        super().__init__(message, FILES)
        self.sheet = sheet
        self.row = row
        self.column = column
        self.cell = cell


def _cell(row: int, col: int) -> str:
    """A cell's A1 name from zero-based row and column."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def side_path(out: str) -> str:
    """The side file that holds an ``.xlsx`` pull's rows until the workbook is built."""
    return out + ".rows.jsonl.gz"


def _header(table: Table) -> list[str]:
    return [f"{name} (Asia/Shanghai)" if kind == "datetime" else name
            for name, kind in zip(table.names, column_kinds(table), strict=True)]


def _put(sheet: Any, row: int, col: int, kind: str, value: Any, formats: dict[str, Any]
         ) -> int:
    """Write one value with its type (text across as many cells as it needs); XlsxWriter's
    first refusal code, or 0."""
    if kind == "int":
        return int(sheet.write_number(row, col, value))
    if kind == "datetime":
        local = dt.datetime.fromtimestamp(value, SHANGHAI).replace(tzinfo=None)
        return int(sheet.write_datetime(row, col, local, formats[kind]))
    if kind == "date":
        return int(sheet.write_datetime(row, col, dt.datetime.fromisoformat(value),
                                        formats[kind]))
    text = str(value)
    for part in range(max(1, -(-len(text) // MAX_CELL_CHARS))):
        piece = text[part * MAX_CELL_CHARS:(part + 1) * MAX_CELL_CHARS]
        result = int(sheet.write_string(row, col + part, piece))
        if result:
            return result
    return 0


class XlsxOutput(FileOutput):
    """Rows checkpointed into a side file; the ``.xlsx`` workbook built when the pull ends."""

    def __init__(self, path: str, table: Table, long_text: LongText = "fail") -> None:
        try:
            import xlsxwriter  # noqa: F401
        except ImportError:
            raise CliError(".xlsx output needs XlsxWriter: pip install "
                           "'douyin-async[xlsx]'", USAGE) from None
        super().__init__(side_path(path), gzip_encoder(jsonl_encoder),
                         checkpoint=path + ".ckpt", rejects=path)
        self.out = path
        self.table = table
        self.long_text = long_text

    def open(self, params: dict[str, Any], *, resume: bool, force: bool,
             meta: dict[str, Any] | None = None) -> CheckpointState | None:
        """As for any file output; a workbook already there needs ``--resume`` or
        ``--force`` like any output."""
        if not resume and not force and os.path.exists(self.out):
            raise conflict(f"{self.out!r} already exists; use --force to overwrite it")
        return super().open(params, resume=resume, force=force, meta=meta)

    def finish(self) -> None:
        """Build the workbook from the side file, then mark the pull complete and remove the
        side file."""
        assert self._handle is not None
        self._handle.flush()
        try:
            self._build()
        except OSError as exc:
            raise CliError(f"cannot write {self.out!r}: {exc.strerror or exc}", FILES) from None
        super().finish()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def _sheet_name(self, number: int) -> str:
        return self.table.name if number == 1 else f"{self.table.name}_{number}"

    def _refuse(self, index: int, col: int, why: str, layout: list[int] | None = None
                ) -> XlsxCellError:
        """The error for the value of data row ``index`` (from 0) in column ``col``."""
        sheet = self._sheet_name(index // MAX_ROWS + 1)
        row = index % MAX_ROWS + 1
        column = self.table.names[col]
        cell = _cell(row, col if layout is None else layout[col])
        return XlsxCellError(f"cannot build {self.out!r}: {why} (sheet {sheet!r}, row "
                             f"{row + 1}, column {column!r}, cell {cell})", sheet=sheet,
                             row=row + 1, column=column, cell=cell)

    def _widths(self, kinds: list[str]) -> list[int]:
        """The cells each column needs (1, or more for text split across continuation
        columns); in ``fail`` mode, the first text too long for a cell raises."""
        widths = [1] * len(kinds)
        text = [col for col, kind in enumerate(kinds) if kind not in ("int", "datetime", "date")]
        for index, values in enumerate(self._rows()):
            for col in text:
                value = values[col]
                size = 0 if value is None else len(str(value))
                if size <= MAX_CELL_CHARS:
                    continue
                if self.long_text == "fail":
                    raise self._refuse(
                        index, col, f"a value of {size:,} characters, more than a cell holds "
                        f"({MAX_CELL_CHARS:,}); nothing was cut: run the same command with "
                        "--resume --xlsx-long-text split to write it across continuation "
                        "columns, or choose another output format")
                widths[col] = max(widths[col], -(-size // MAX_CELL_CHARS))
        if sum(widths) > MAX_COLUMNS:
            raise CliError(f"cannot build {self.out!r}: its long text needs {sum(widths):,} "
                           f"columns, more than a sheet holds ({MAX_COLUMNS:,}); choose "
                           "another output format", FILES)
        return widths

    def _build(self) -> None:
        import xlsxwriter

        kinds = column_kinds(self.table)
        widths = self._widths(kinds)
        layout = [sum(widths[:col]) for col in range(len(widths))]
        header = [f"{name} (part {part})" if part > 1 else name
                  for name, width in zip(_header(self.table), widths, strict=True)
                  for part in range(1, width + 1)]
        temporary = self.out + ".tmp"
        options = {"constant_memory": True, "strings_to_numbers": False,
                   "strings_to_formulas": False, "strings_to_urls": False,
                   "tmpdir": os.path.dirname(os.path.abspath(self.out))}
        book = xlsxwriter.Workbook(temporary, options)
        try:
            self._fill(book, kinds, layout, header)
            book.close()
        except BaseException:
            with contextlib.suppress(Exception):
                book.close()  # releases its temporary files; the partial book goes
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, self.out)

    def _fill(self, book: Any, kinds: list[str], layout: list[int], header: list[str]) -> None:
        bold = book.add_format({"bold": True})
        formats = {"datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
                   "date": book.add_format({"num_format": "yyyy-mm-dd"})}
        sheet: Any = None
        row = MAX_ROWS
        sheets = 0

        def check(result: int, index: int, col: int) -> None:
            if result:
                why = {-1: "the cell is outside the sheet",
                       -2: "the text is longer than a cell holds"}.get(result, "refused")
                raise self._refuse(index, col, f"XlsxWriter refused a cell ({why})", layout)

        for index, values in enumerate(self._rows()):
            if row >= MAX_ROWS:
                sheets += 1
                sheet = book.add_worksheet(self._sheet_name(sheets))
                check(sheet.write_row(0, 0, header, bold), index, 0)
                sheet.freeze_panes(1, 0)
                row = 0
            row += 1
            for col, (kind, value) in enumerate(zip(kinds, values, strict=True)):
                if value is not None:
                    check(_put(sheet, row, layout[col], kind, value, formats), index, col)
        if sheet is None:
            sheet = book.add_worksheet(self.table.name)
            check(sheet.write_row(0, 0, header, bold), 0, 0)

    def _rows(self) -> Iterator[list[Any]]:
        with gzip.open(self.path, "rb") as handle:
            for line in handle:
                yield fixed_values(orjson.loads(line), self.table)



__all__ = ["MAX_CELL_CHARS", "MAX_COLUMNS", "MAX_ROWS", "SHANGHAI", "LongText", "XlsxCellError",
           "XlsxOutput", "side_path"]

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
from typing import Any

import orjson

from ..days import BEIJING
from .checkpoint import CheckpointState
from .encoders import gzip_encoder, jsonl_encoder
from .exits import FILES, USAGE, CliError
from .rows import Table, column_kinds, fixed_values
from .sinks import FileOutput, conflict

#: China Standard Time; Asia/Shanghai has kept UTC+8 without daylight saving since 1991.
SHANGHAI = BEIJING
#: Data rows per sheet (Excel's limit is 1,048,576 rows, the header included).
MAX_ROWS = 1_048_575


def side_path(out: str) -> str:
    """The side file that holds an ``.xlsx`` pull's rows until the workbook is built."""
    return out + ".rows.jsonl.gz"


def _header(table: Table) -> list[str]:
    return [f"{name} (Asia/Shanghai)" if kind == "datetime" else name
            for name, kind in zip(table.names, column_kinds(table), strict=True)]


class XlsxOutput(FileOutput):
    """Rows checkpointed into a side file; the ``.xlsx`` workbook built when the pull ends."""

    def __init__(self, path: str, table: Table) -> None:
        try:
            import xlsxwriter  # noqa: F401
        except ImportError:
            raise CliError(".xlsx output needs XlsxWriter: pip install "
                           "'douyin-async[xlsx]'", USAGE) from None
        super().__init__(side_path(path), gzip_encoder(jsonl_encoder),
                         checkpoint=path + ".ckpt", rejects=path)
        self.out = path
        self.table = table

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

    def _build(self) -> None:
        import xlsxwriter

        temporary = self.out + ".tmp"
        options = {"constant_memory": True, "strings_to_numbers": False,
                   "strings_to_formulas": False, "strings_to_urls": False,
                   "tmpdir": os.path.dirname(os.path.abspath(self.out))}
        book = xlsxwriter.Workbook(temporary, options)
        bold = book.add_format({"bold": True})
        moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        header = _header(self.table)
        kinds = column_kinds(self.table)
        sheet: Any = None
        row = MAX_ROWS
        sheets = 0
        for values in self._rows():
            if row >= MAX_ROWS:
                sheets += 1
                name = self.table.name if sheets == 1 else f"{self.table.name}_{sheets}"
                sheet = book.add_worksheet(name)
                sheet.write_row(0, 0, header, bold)
                sheet.freeze_panes(1, 0)
                row = 0
            row += 1
            for col, (kind, value) in enumerate(zip(kinds, values, strict=True)):
                if value is None:
                    continue
                if kind == "int":
                    sheet.write_number(row, col, value)
                elif kind == "datetime":
                    local = dt.datetime.fromtimestamp(value, SHANGHAI).replace(tzinfo=None)
                    sheet.write_datetime(row, col, local, moment)
                elif kind == "date":
                    sheet.write_datetime(row, col, dt.datetime.fromisoformat(value), day)
                else:
                    sheet.write_string(row, col, str(value))
        if sheet is None:
            sheet = book.add_worksheet(self.table.name)
            sheet.write_row(0, 0, header, bold)
        book.close()
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, self.out)

    def _rows(self) -> Iterator[list[Any]]:
        with gzip.open(self.path, "rb") as handle:
            for line in handle:
                yield fixed_values(orjson.loads(line), self.table)



__all__ = ["MAX_ROWS", "SHANGHAI", "XlsxOutput", "side_path"]

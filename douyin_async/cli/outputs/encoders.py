"""Rows as bytes: JSON lines, spreadsheet-safe or plain CSV, and gzip members of either.

**Spreadsheet-safe CSV** (the default) follows OWASP's CSV-injection guidance: a text cell
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``,
so Excel and LibreOffice show it as text instead of evaluating it as a formula (every
talent-media ``content_open_id`` starts with ``@``; a video title may be
``=HYPERLINK(...)``). The decision is made per column type: numbers the program writes
(counters and amounts in fen, ids) are digits and are never escaped, so an amount ``-12``
stays a number while a title ``-1+1`` becomes ``'-1+1``. The file starts with a UTF-8 byte
order mark, so spreadsheets read the Chinese text as UTF-8.

**Plain CSV** (``--csv-plain``) is RFC 4180 as Python's ``csv`` module writes it: values
verbatim, no byte order mark, for programs rather than people.

A gzip output holds one gzip member per page (and one for the CSV header): concatenated
members are one valid gzip stream, and the end of every member is a place where a resumed
pull can cut the file.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable
from typing import Any

import orjson

from .rows import Table, column_kinds, fixed_values

Rows = list[dict[str, Any]]
Encoder = Callable[[Rows], bytes]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The UTF-8 byte order mark that spreadsheet-safe CSV starts with.
BOM = b"\xef\xbb\xbf"


def jsonl_encoder(rows: Rows) -> bytes:
    """Rows as JSON lines (ids stay exact integers)."""
    return b"".join([orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE) for row in rows])


def escape_cell(value: str) -> str:
    """``value`` made inert for a spreadsheet: prefixed with ``'`` when it starts like a
    formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_encoder(table: Table, *, plain: bool = False) -> Encoder:
    """A function turning rows into CSV bytes with ``table``'s columns (ids as digits);
    text columns escaped against formulas unless ``plain``."""
    text_columns = [i for i, kind in enumerate(column_kinds(table)) if kind == "text"]

    def cells(row: dict[str, Any]) -> list[Any]:
        values = ["" if v is None else v for v in fixed_values(row, table)]
        if not plain:
            for i in text_columns:
                value = values[i]
                if isinstance(value, str):
                    values[i] = escape_cell(value)
        return values

    def encode(rows: Rows) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows(cells(row) for row in rows)
        return buffer.getvalue().encode()

    return encode


def csv_header(table: Table, *, plain: bool = False) -> bytes:
    """The CSV header line of ``table`` (after a byte order mark unless ``plain``)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(table.names)
    return (b"" if plain else BOM) + buffer.getvalue().encode()


def gzip_encoder(inner: Encoder) -> Encoder:
    """``inner``'s bytes as one gzip member per call (nothing for no rows)."""

    def encode(rows: Rows) -> bytes:
        data = inner(rows)
        return gzip.compress(data, compresslevel=6, mtime=0) if data else b""

    return encode


def gzip_member(data: bytes) -> bytes:
    """``data`` as one gzip member (nothing for no data)."""
    return gzip.compress(data, compresslevel=6, mtime=0) if data else b""


__all__ = ["BOM", "FORMULA_STARTS", "csv_encoder", "csv_header", "escape_cell",
           "gzip_encoder", "gzip_member", "jsonl_encoder"]

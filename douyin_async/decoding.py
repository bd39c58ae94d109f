"""The page decoder: an answer's bytes to records, one heavy step per event-loop turn.

A 10,000-record page takes tens of milliseconds to parse and structure. Pages decode one at a
time (others wait their turn, so memory holds one page being built), and the decoder yields to
the event loop before the JSON parse and before each chunk of records, so other tasks (a web
app's handlers) never wait for more than one of these steps.

Each of these steps runs with the cyclic garbage collector paused, and puts it back as it
found it before the step ends: no await happens in between, so no other task, and no other
client, ever sees the collector in a state it did not set. A parse or a chunk allocates
thousands of objects; left running, the collector would start a young collection every 700
of them, and every tenth of those sweeps the older generation too, which holds every page in
flight. Paused, it collects once after the step. Measured on realistic 10,000-record pages at
the cap: see [Benchmarks](../benchmarks.md).

Refused records follow the client's `invalid_records` rule: `"raise"` raises the first
[`InvalidRecordError`][douyin_async.errors.InvalidRecordError] (its `record` is the raw
record); `"collect"` keeps the good records and hands the refusals back beside them.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from .endpoints import Answer, Endpoint
from .envelopes import open_envelope
from .errors import InvalidParameterError, InvalidRecordError
from .transport import Response

InvalidRecords = Literal["raise", "collect"]

#: A decoded answer: the answer read from its envelope, its records, and the refused ones.
Decoded = tuple[Answer, list[Any], tuple[InvalidRecordError, ...]]


def _placed(error: InvalidRecordError, offset: int, endpoint: str, answer: Answer,
            page: int | None) -> InvalidRecordError:
    error.index += offset
    error.endpoint = endpoint
    error.log_id = answer.log_id
    where = f"page {page}, " if page is not None else ""
    error.args = (f"{where}record {error.index}: {error.reason} ({error.field})",)
    return error


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The collector off for one synchronous step, then as it was (no await inside)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class PageDecoder:
    """Decodes answers of any endpoint of the table, `chunk` records per loop step."""

    def __init__(self, *, chunk: int = 1000, invalid_records: InvalidRecords = "raise") -> None:
        if invalid_records not in ("raise", "collect"):
            raise InvalidParameterError(
                f"invalid_records must be 'raise' or 'collect', got {invalid_records!r}")
        self.chunk = max(1, chunk)
        self.invalid_records = invalid_records
        self._turn: asyncio.Lock | None = None

    async def decode(self, endpoint: Endpoint[Any], response: Response,
                     page: int | None = None) -> Decoded:
        """Open the envelope (raising its error), read the answer, structure its records."""
        if self._turn is None:
            self._turn = asyncio.Lock()
        async with self._turn:
            await asyncio.sleep(0)
            with _collector_paused():
                envelope = open_envelope(response.body, http_status=response.status,
                                         endpoint=endpoint.path,
                                         header_log_id=response.headers.get("X-Tt-Logid", ""))
                answer = endpoint.read(envelope, endpoint.path)
            records: list[Any] = []
            rejected: list[InvalidRecordError] = []
            raw, size = answer.raw, self.chunk
            for start in range(0, len(raw), size):
                await asyncio.sleep(0)
                part = raw[start:start + size] if len(raw) > size else raw
                if self.invalid_records == "collect":
                    with _collector_paused():
                        good, bad = endpoint.records.split(part)
                    records += good
                    rejected += (_placed(e, start, endpoint.path, answer, page) for e in bad)
                    continue
                try:
                    with _collector_paused():
                        records += endpoint.records.many(part)
                except InvalidRecordError as exc:
                    raise _placed(exc, start, endpoint.path, answer, page) from None
        return answer, records, tuple(rejected)


__all__ = ["Decoded", "InvalidRecords", "PageDecoder"]

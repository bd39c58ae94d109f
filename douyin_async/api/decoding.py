"""The page decoder: an answer's bytes to records, one heavy step per event-loop turn.

A 10,000-record page takes tens of milliseconds to parse and build, so pages decode one at a
time, in steps (the JSON parse, in pieces where `douyin_async.decode.jsonsplit` can cut it,
then chunks of records), with the event loop between steps: a web app's handlers never wait
for more than one step. Each step
pauses the cyclic collector, which would otherwise sweep every page in flight many times per
page (see [Benchmarks](../benchmarks.md)). Refused records follow the client's
`invalid_records` rule.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import orjson

from ..decode.jsonsplit import split_array
from ..errors import DouyinError, InvalidParameterError, InvalidRecordError
from ..http.envelopes import open_envelope
from ..http.transport import Response
from .endpoints import Answer, Decoded, Endpoint

InvalidRecords = Literal["raise", "collect"]

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

    def __init__(self, *, chunk: int = 250, invalid_records: InvalidRecords = "raise",
                 piece_bytes: int = 1 << 19) -> None:
        if invalid_records not in ("raise", "collect"):
            raise InvalidParameterError(
                f"invalid_records must be 'raise' or 'collect', got {invalid_records!r}")
        self.chunk = max(1, chunk)
        self.piece_bytes = max(1, piece_bytes)
        self.invalid_records = invalid_records
        self._turn: asyncio.Lock | None = None

    async def decode(self, endpoint: Endpoint[Any], response: Response,
                     page: int | None = None) -> Decoded:
        """Open the envelope (raising its error), read the answer, structure its records."""
        if self._turn is None:
            self._turn = asyncio.Lock()
        async with self._turn:
            answer = await self._answer(endpoint, response)
            records: list[Any] = []
            rejected: list[InvalidRecordError] = []
            raw, size = answer.raw, self.chunk
            for start in range(0, len(raw), size):
                await asyncio.sleep(0)
                part = raw[start:start + size] if len(raw) > size else raw
                bad: list[InvalidRecordError] = []
                try:
                    with _collector_paused():
                        if self.invalid_records == "collect":
                            good, bad = endpoint.records.split(part)
                        else:
                            good = endpoint.records.many(part)
                except InvalidRecordError as exc:
                    raise _placed(exc, start, endpoint.path, answer, page) from None
                records += good  # before the release: `good` may be `part` itself
                rejected += (_placed(e, start, endpoint.path, answer, page) for e in bad)
                _release(raw, start, len(part))
                del part, good
        return Decoded(answer, records, tuple(rejected))

    async def _answer(self, endpoint: Endpoint[Any], response: Response) -> Answer:
        """The answer read from its envelope, parsed in pieces where it cuts cleanly."""
        key, body = endpoint.records_key, response.body
        split = (split_array(body, key, self.piece_bytes)
                 if key is not None and len(body) > 2 * self.piece_bytes else None)
        if split is not None:
            await asyncio.sleep(0)
            try:
                with _collector_paused():
                    answer = _read(endpoint, response, split.skeleton)
                raw = answer.raw  # the emptied array, in the skeleton's data
                for piece in split.pieces:
                    await asyncio.sleep(0)
                    with _collector_paused():
                        raw += orjson.loads(piece)
                return answer
            except (orjson.JSONDecodeError, DouyinError):
                pass  # not cut cleanly, or an error answer: read as one, exactly
        await asyncio.sleep(0)
        with _collector_paused():
            return _read(endpoint, response, body)


def _release(raw: list[Any], start: int, count: int) -> None:
    """Let go of a built chunk's parsed records (the list keeps its length: the raw count), so
    that they are freed chunk by chunk, not all at once when the page is done."""
    raw[start:start + count] = [None] * count


def _read(endpoint: Endpoint[Any], response: Response, body: bytes) -> Answer:
    envelope = open_envelope(body, http_status=response.status, endpoint=endpoint.path,
                             header_log_id=response.headers.get("X-Tt-Logid", ""))
    return endpoint.read(envelope, endpoint.path)


__all__ = ["Decoded", "InvalidRecords", "PageDecoder"]

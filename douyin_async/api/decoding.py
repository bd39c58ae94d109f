"""The page decoder: an answer's bytes to records, one short step per event-loop turn.

A 10,000-record page takes tens of milliseconds to parse and build. A large answer waits as
bytes (which the collector does not visit) until its page is next in its stream, so that
pages fetched ahead hold no records yet; then large answers decode one at a time in an event
loop, whichever client they are for, and the decoder yields to the event loop before each
step, so other tasks (a web app's handlers) never wait for more than one step. Small answers
wait for neither. The steps of a large answer: its record array is cut out of it unread and
its envelope decoded alone (see [`parse_answer`][douyin_async.decode.answers.parse_answer]);
then each run of about `chunk` records is decoded by msgspec from its bytes (one call when the
run is of one key style, as the platform sends it) and built. A small answer is decoded by one
msgspec call straight into rows when its records look all of one key style. The envelope is
read as the one parse would read it. An answer that is anything else (an error, a malformed or
unusual body) is parsed whole by orjson and its records decoded in chunks: the same records
and the same errors every way.

The decoder leaves the cyclic garbage collector alone (it is the application's: see
[Web apps](../web-apps.md) for `gc.freeze()`). The rows msgspec makes are not tracked by the
collector, so a page adds nothing to its work but the records themselves.

Refused records follow the client's `invalid_records` rule: `"raise"` raises the first
[`InvalidRecordError`][douyin_async.errors.InvalidRecordError] (its `record` is the raw
record); `"collect"` keeps the good records and hands the refusals back beside them.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import attrs

from ..decode.answers import ParsedAnswer, parse_answer
from ..decode.decoder import RecordDecoder
from ..errors import DouyinError, InvalidParameterError, InvalidRecordError
from ..http.envelopes import open_envelope, read_envelope
from ..http.transport import Response
from .endpoints import Answer, Decoded, Endpoint

InvalidRecords = Literal["raise", "collect"]
#: Waits until a page is next in its stream.
Turn = Callable[[], Awaitable[object]]

#: Answers up to this size decode in one step with their first chunk (no yield before:
#: that takes well under a millisecond).
SMALL_BODY = 64 * 1024

def _placed(error: InvalidRecordError, offset: int, endpoint: str, answer: Answer,
            page: int | None) -> InvalidRecordError:
    error.index += offset
    error.endpoint = endpoint
    error.log_id = answer.log_id
    where = f"page {page}, " if page is not None else ""
    error.args = (f"{where}record {error.index}: {error.reason} ({error.field})",)
    return error


class PageDecoder:
    """Decodes answers of any endpoint of the table, `chunk` records per loop step."""

    def __init__(self, *, chunk: int = 250, invalid_records: InvalidRecords = "raise") -> None:
        if invalid_records not in ("raise", "collect"):
            raise InvalidParameterError(
                f"invalid_records must be 'raise' or 'collect', got {invalid_records!r}")
        self.chunk = max(1, chunk)
        self.invalid_records = invalid_records

    async def decode(self, endpoint: Endpoint[Any], response: Response,
                     page: int | None = None, turn: Turn | None = None) -> Decoded:
        """Open the envelope (raising its error), read the answer, structure its records.
        A large answer first waits for ``turn`` (its page is next in its stream: until then
        it is held as bytes, which the collector does not visit)."""
        if len(response.body) <= SMALL_BODY:
            return await self._decode(endpoint, response, page, True)
        if turn is not None:
            await turn()
        async with loop_turn():
            await asyncio.sleep(0)
            return await self._decode(endpoint, response, page, False)

    async def _decode(self, endpoint: Endpoint[Any], response: Response, page: int | None,
                      small: bool) -> Decoded:
        fast = self._parsed(endpoint, response, small)
        if fast is not None:
            decoded = await self._from_rows(endpoint, page, small, *fast)
            if decoded is not None:
                return decoded
        if not small:
            await asyncio.sleep(0)
        answer = _read(endpoint, response, response.body)
        return await self._from_raws(endpoint, page, small, answer)

    def _parsed(self, endpoint: Endpoint[Any], response: Response, small: bool
                ) -> tuple[Answer, ParsedAnswer[Any]] | None:
        """The answer decoded by msgspec (a large one as its records' texts, decoded in
        chunks) and its envelope read, or None (parse it whole)."""
        records, key = endpoint.records, endpoint.records_key
        if not isinstance(records, RecordDecoder) or key is None:
            return None
        try:
            parsed = parse_answer(records, response.body, key, pieces=not small)
            if parsed is None:
                return None  # anything unusual, an envelope only orjson reads right
        except RecursionError:  # nested deeper than msgspec reads: orjson's parse decides
            return None
        try:
            envelope = read_envelope(parsed.envelope, http_status=response.status,
                                     endpoint=endpoint.path,
                                     header_log_id=response.headers.get("X-Tt-Logid", ""))
            return endpoint.read(envelope, endpoint.path), parsed
        except DouyinError:
            return None  # an error answer: parsed whole, it raises its error

    async def _from_rows(self, endpoint: Endpoint[Any], page: int | None, small: bool,
                         answer: Answer, parsed: ParsedAnswer[Any]) -> Decoded | None:
        """The records of a parsed answer, or None when it needs the exact path. A refusal
        is raised once every record is known to parse (as the one parse would have it)."""
        records: list[Any] = []
        rejected: list[InvalidRecordError] = []
        refused: InvalidRecordError | None = None
        for n, (start, stop) in enumerate(parsed.pieces(self.chunk)):
            if n or not small:
                await asyncio.sleep(0)
            if refused is not None:
                if not parsed.parses(start, stop):
                    return None
                continue
            try:
                done = parsed.split(start, stop)
            except RecursionError:  # nested deeper than msgspec reads: orjson's parse decides
                return None
            if done is None:
                return None
            good, bad = done
            bad = [_placed(e, 0, endpoint.path, answer, page) for e in bad]
            if bad and self.invalid_records == "raise":
                refused = bad[0]
            records += good
            rejected += bad
        if refused is not None:
            raise refused
        if len(answer.raw) != parsed.count:  # an array cut out: counted as it was decoded
            answer = attrs.evolve(answer, raw=[None] * parsed.count)
        return Decoded(answer, records, tuple(rejected))

    async def _from_raws(self, endpoint: Endpoint[Any], page: int | None, small: bool,
                         answer: Answer) -> Decoded:
        records: list[Any] = []
        rejected: list[InvalidRecordError] = []
        raw, size = answer.raw, self.chunk
        for start in range(0, len(raw), size):
            if start or not small:
                await asyncio.sleep(0)
            part = raw[start:start + size] if len(raw) > size else raw
            bad: list[InvalidRecordError] = []
            try:
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


_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary())


def loop_turn() -> asyncio.Lock:
    """The turn of large answers in the running event loop: one decodes at a time, whichever
    client it is for, so that the loop holds the records of one page being built, not of
    one per client (the collector's full runs visit each of them)."""
    loop = asyncio.get_running_loop()
    turn = _TURNS.get(loop)
    if turn is None:
        turn = _TURNS[loop] = asyncio.Lock()
    return turn


def _release(raw: list[Any], start: int, count: int) -> None:
    """Let go of a built chunk's parsed records or rows (the list keeps its length), so that
    they are freed chunk by chunk, not all at once when the page is done."""
    raw[start:start + count] = [None] * count


def _read(endpoint: Endpoint[Any], response: Response, body: bytes) -> Answer:
    envelope = open_envelope(body, http_status=response.status, endpoint=endpoint.path,
                             header_log_id=response.headers.get("X-Tt-Logid", ""))
    return endpoint.read(envelope, endpoint.path)


__all__ = ["Decoded", "InvalidRecords", "PageDecoder", "Turn"]

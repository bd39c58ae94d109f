"""An answer's records decoded by msgspec straight from its bytes.

[`parse_answer`][douyin_async.decode.answers.parse_answer] decodes a small answer in one call:
the envelope's keys (all of them: a key the client does not read sends the answer to orjson)
and the record array, as rows of one key style (when samples of the answer show one: msgspec
checks every record), or else as each record's raw JSON text. A large answer's record array
is cut out of it unread (see [`spans`][douyin_async.decode.spans]) and its envelope decoded
alone. Records are then decoded a piece at a time by
[`from_array`][douyin_async.decode.answers.from_array] (each key style at once) or, for
anything msgspec refuses, parsed by orjson and decoded by the record decoder. The envelope
comes back with its record array as many ``None``s, for the caller to read as the one parse
would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import compress
from operator import not_
from typing import Any, Generic, TypeVar

import attrs
import msgspec
import orjson

from ..errors import InvalidRecordError
from .batch import UNSET, Refused, extras, orjson_values
from .decoder import RecordDecoder
from .spans import array_key, locate, run_text, runs, stretches

T = TypeVar("T")
#: Where an answer's key styles are looked for: this many stretches of a 32nd of it, within
#: these bounds (bytes).
SAMPLES, SAMPLE_BYTES, MIN_SAMPLE_BYTES = 9, 8 * 1024, 1024
#: Where the first records' key style is looked for: this many bytes from the record array.
FIRST_RECORDS_BYTES = 2048
_DECODERS: dict[tuple[Any, str], msgspec.json.Decoder[Any]] = {}


def _decoder(row: Any, key: str = "") -> msgspec.json.Decoder[Any]:
    """The decoder of a whole answer (``key``: where its records are) or, without ``key``, of
    an array of records, as ``row``s; one per type and key, made once."""
    found = _DECODERS.get((row, key))
    if found is None:
        if len(_DECODERS) >= 64:
            _DECODERS.clear()
        kind = _answer(row, key) if key else list[row]
        found = _DECODERS[row, key] = msgspec.json.Decoder(kind)
    return found


def from_array(decoder: RecordDecoder[T], blob: bytes,
               texts: Sequence[Any] | None = None) -> list[T] | None:
    """Records from a JSON array of records (``texts``: its records' raw JSON texts, if
    known), each key style's decoded by msgspec at once; None when msgspec refuses any (the
    caller parses them with orjson). An array of one style (what the platform sends) takes
    one decode in its first record's style; otherwise a record's style is guessed from its
    first key's first letter (a capital: PascalCase). msgspec refuses a record of another
    style than its guess."""
    if texts is not None and not texts:
        return []
    last = len(decoder.styles) - 1
    try:
        whole = _records(decoder, 0 if not last or _pascal(blob, 3) else last, blob)
        if whole is not None or not last:
            return whole
        texts = _decoder(msgspec.Raw).decode(blob) if texts is None else texts
        flags = [_pascal(t) for t in texts]
    except (IndexError, _Exact, msgspec.DecodeError):  # too short for a record with a key
        return None
    if all(flags) or not any(flags):
        return None  # one style, refused as it is
    out: list[Any] = [None] * len(texts)
    for style, chosen in ((0, flags), (last, list(map(not_, flags)))):
        try:
            records = _records(decoder, style, _array(list(compress(texts, chosen))))
        except _Exact:
            return None
        if records is None:
            return None
        for at, record in zip(compress(range(len(texts)), chosen), records, strict=True):
            out[at] = record
    return out


class _Exact(Exception):
    """Records msgspec decoded whose ``extra`` only orjson's own parse gets right."""


def _pascal(text: Any, at: int = 2) -> bool:
    """True when the key at ``at`` in a record's text (of an array's first record: at 3)
    starts with a capital letter (PascalCase)."""
    return 65 <= memoryview(text)[at] <= 90


def _records(decoder: RecordDecoder[T], style: int, blob: bytes) -> list[T] | None:
    """The records of a JSON array of one style, or None when msgspec refuses any."""
    try:
        rows, unknown = decoder.types.attempt(style, _decoding(blob))
    except (Refused, msgspec.DecodeError):
        return None
    built = extras(rows, unknown, decoder.known, decoder.no_extra, None)
    if built is None:
        raise _Exact
    return decoder.build(rows, built)


def _decoding(blob: bytes) -> Callable[[Any], Any]:
    return lambda row: _decoder(row).decode(blob)

def parse_answer(decoder: RecordDecoder[T], body: bytes, key: str, *,
                 pieces: bool = False) -> ParsedAnswer[T] | None:
    """An answer's ``data[key]`` decoded from its bytes: as rows of one key style, or,
    when its records may not all be of one style, as each record's raw JSON text; None
    when the answer is neither (anything unusual: the caller parses it with orjson).
    ``pieces``: for the caller to decode a run of records at a time (a large answer: no
    single call takes long), whatever their styles: the record array cut out of the answer
    (see [`spans`][douyin_async.decode.spans]) or, where it cannot be cut, its records' texts."""
    if pieces:
        found = locate(body, key)
        if found is not None:
            try:
                top = _decoder(msgspec.Raw, key).decode(found[0])
            except msgspec.DecodeError:
                top = None
            if top is not None and not top.data.records:
                return _parsed(decoder, top, key, [], None, body, found[1:])
    styles = [] if pieces else _styles_seen(decoder, body, key)
    if len(styles) == 1:
        try:
            top, unknown = decoder.types.attempt(
                styles[0], lambda row: _decoder(row, key).decode(body))
        except Refused as refused:
            if refused.index is None:  # not a record's fault: the envelope's
                return None
        except msgspec.DecodeError:
            return None
        else:
            return _parsed(decoder, top, key, top.data.records, unknown)
    try:
        top = _decoder(msgspec.Raw, key).decode(body)
    except msgspec.DecodeError:
        return None
    return _parsed(decoder, top, key, top.data.records, None)


def _styles_seen(decoder: RecordDecoder[Any], body: bytes, key: str) -> list[int]:
    """The key style of the answer's first records, when their text shows one probe key
    only; else the styles whose probe key shows in ``SAMPLES`` stretches of the answer
    spread over it. A guess, not a scan of every byte: an answer is decoded in the one style
    seen, and msgspec refuses any record of another (the caller then splits by style)."""
    if len(decoder.probes) == 1:
        return [0]
    start = body.find(array_key(key))
    if start >= 0:
        first = [style for style, probe in enumerate(decoder.probes)
                 if body.find(probe, start, start + FIRST_RECORDS_BYTES) >= 0]
        if len(first) == 1:
            return first
    span = min(SAMPLE_BYTES, max(MIN_SAMPLE_BYTES, len(body) // 32))
    where = stretches(0, len(body), SAMPLES, span)
    return [style for style, probe in enumerate(decoder.probes)
            if any(body.find(probe, start, stop) >= 0 for start, stop in where)]


def _answer(row: Any, key: str) -> Any:
    """The type of a whole answer, its records as ``row``s. Every key of the envelope is
    read (none skipped, so that all of its text is checked as orjson checks it)."""
    either = (Any, UNSET)
    data = msgspec.defstruct("AnswerData", [
        ("records", list[row]), ("error_code", *either), ("description", *either)],
        rename={"records": key}, forbid_unknown_fields=True)
    return msgspec.defstruct("Answer", [
        ("data", data), *((name, *either) for name in ENVELOPE_KEYS)],
        forbid_unknown_fields=True)


#: The keys of an answer's envelope the client reads (``douyin_async.http.envelopes``).
ENVELOPE_KEYS = ("err_no", "err_msg", "message", "error_code", "description", "log_id", "extra")


def _parsed(decoder: RecordDecoder[T], top: Any, key: str, rows: list[Any],
            unknown: tuple[str, ...] | None, body: bytes | None = None,
            span: tuple[int, int] = (0, 0)) -> ParsedAnswer[T] | None:
    """The parsed answer of a decoded envelope ``top``, or None when its envelope holds a
    value only orjson's parse reads right (see
    [`orjson_values`][douyin_async.decode.batch.orjson_values])."""
    envelope = {name: value for name, value in msgspec.structs.asdict(top).items()
                if value is not UNSET and name != "data"}
    data = {name: value for name, value in msgspec.structs.asdict(top.data).items()
            if value is not UNSET and name != "records"}
    if not orjson_values([*envelope.values(), *data.values()]):
        return None
    envelope["data"] = {**data, key: [None] * len(top.data.records)}
    return ParsedAnswer(decoder, envelope, rows, unknown, body, span)


@attrs.define
class ParsedAnswer(Generic[T]):
    """An answer's records, decoded by msgspec from its bytes and not yet built.

    ``envelope`` is the answer's envelope, its record array a list of as many ``None``s
    (none, when the array is cut out), for the caller to check. ``rows`` are rows of one key
    style whose Struct reads the ``unknown`` keys, or, with ``unknown`` None, each record's
    raw JSON text (``msgspec.Raw``), or, with ``body``, none: the records lie in ``body`` at
    ``span``. ``count`` is how many records the pieces taken so far held.
    """

    decoder: RecordDecoder[T]
    envelope: dict[str, Any]
    rows: list[Any]
    unknown: tuple[str, ...] | None
    body: bytes | None = None
    span: tuple[int, int] = (0, 0)
    count: int = 0

    def pieces(self, chunk: int) -> Iterator[tuple[int, int]]:
        """The answer's records, about ``chunk`` at a time: where each piece lies, for
        [`split`][douyin_async.decode.answers.ParsedAnswer.split] to take in order."""
        if self.body is not None:
            yield from runs(self.body, *self.span, chunk)
        else:
            for start in range(0, len(self.rows), chunk):
                yield start, min(start + chunk, len(self.rows))

    def split(self, start: int, stop: int
              ) -> tuple[list[T], list[InvalidRecordError]] | None:
        """The records of a piece and the refused ones (indices from the answer's first), or
        None when they need the exact path: an answer parsed whole by orjson (unknown keys
        whose order only orjson keeps, an integer orjson reads otherwise, a record orjson
        refuses, a piece that is not whole records). A piece's rows are let go once built."""
        decoder = self.decoder
        if self.unknown is None:
            done = self._from_array(*self._text(start, stop))
        else:
            rows = self.rows[start:stop]
            built = extras(rows, self.unknown, decoder.known, decoder.no_extra, None)
            done = None if built is None else (decoder.build(rows, built), [])
        if done is not None:
            self.count += len(done[0]) + len(done[1])
            if self.body is None:
                self.rows[start:stop] = [None] * (stop - start)
        return done

    def _text(self, start: int, stop: int) -> tuple[bytes, list[Any] | None]:
        """A piece as a JSON array of records, and its records' texts when known."""
        if self.body is not None:
            return run_text(self.body, start, stop), None
        texts = self.rows[start:stop]
        return _array(texts), texts

    def _from_array(self, blob: bytes, texts: Sequence[Any] | None
                    ) -> tuple[list[T], list[InvalidRecordError]] | None:
        records = from_array(self.decoder, blob, texts)
        if records is not None:
            return records, []
        try:
            raws = _loads_in_answer(blob)
        except orjson.JSONDecodeError:
            return None
        return self.decoder.split(raws, offset=self.count)

    def parses(self, start: int, stop: int) -> bool:
        """True when orjson parses the records of a piece (always, for rows of one style:
        msgspec read every character of them)."""
        if self.unknown is not None:
            return True
        try:
            self.count += len(_loads_in_answer(self._text(start, stop)[0]))
        except orjson.JSONDecodeError:
            return False
        return True


def _loads_in_answer(run: bytes) -> list[Any]:
    """orjson's parse of records (a JSON array of them) as deep as the answer holds them:
    its record array lies two levels down (the answer, its ``data``), so a record nested
    deeper than orjson reads in the whole answer is refused here too."""
    return orjson.loads(b"".join((b"[[", run, b"]]")))[0][0]  # type: ignore[no-any-return]


def _array(texts: Sequence[Any]) -> bytes:
    """A JSON array of raw JSON texts."""
    return b"".join((b"[", b",".join(texts), b"]"))


__all__ = ["ENVELOPE_KEYS", "ParsedAnswer", "from_array", "parse_answer"]

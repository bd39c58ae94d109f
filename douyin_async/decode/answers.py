"""An answer's records decoded by msgspec straight from its bytes.

[`parse_answer`][douyin_async.decode.answers.parse_answer] decodes a whole answer in one call:
the envelope's keys (all of them: a key the client does not read sends the answer to orjson)
and the record array, as rows of one key style (when samples of the answer show one: msgspec
checks every record), or else as each record's raw JSON text, decoded a chunk at a time by
[`from_texts`][douyin_async.decode.answers.from_texts] (each style at once) or, for anything
msgspec refuses, parsed by orjson and decoded by the record decoder. The envelope comes back
with its record array as many ``None``s, for the caller to read as the one parse would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import compress
from operator import not_
from typing import Any, Generic, TypeVar

import attrs
import msgspec
import orjson

from ..errors import InvalidRecordError
from .batch import UNSET, Refused, extras
from .decoder import RecordDecoder

T = TypeVar("T")
#: Where an answer's key styles are looked for: this many stretches of a 32nd of it, within
#: these bounds (bytes).
SAMPLES, SAMPLE_BYTES, MIN_SAMPLE_BYTES = 9, 8 * 1024, 1024
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


def from_texts(decoder: RecordDecoder[T], texts: Sequence[Any]) -> list[T] | None:
    """Records from the raw JSON texts of records (``msgspec.Raw``), each key style's
    decoded by msgspec at once; None when msgspec refuses any (the caller parses them
    with orjson). Texts of one style (what the platform sends) take one decode in the first
    record's style; otherwise a record's style is guessed from its first key's first letter
    (a capital: PascalCase). msgspec refuses a record of another style than its guess."""
    if not texts:
        return []
    last = len(decoder.styles) - 1
    try:
        first = 0 if not last or _pascal(texts[0]) else last
        whole = _records(decoder, first, texts)
        if whole is not None or not last:
            return whole
        flags = [_pascal(t) for t in texts]
    except (IndexError, _Exact):  # a text too short for a record with a key
        return None
    if all(flags) or not any(flags):
        return None  # one style, refused as it is
    out: list[Any] = [None] * len(texts)
    for style, chosen in ((0, flags), (last, list(map(not_, flags)))):
        try:
            records = _records(decoder, style, list(compress(texts, chosen)))
        except _Exact:
            return None
        if records is None:
            return None
        for at, record in zip(compress(range(len(texts)), chosen), records, strict=True):
            out[at] = record
    return out


class _Exact(Exception):
    """Records msgspec decoded whose ``extra`` only orjson's own parse gets right."""


def _pascal(text: Any) -> bool:
    """True when a record's text starts with a capital letter's key (PascalCase)."""
    return 65 <= memoryview(text)[2] <= 90


def _records(decoder: RecordDecoder[T], style: int, texts: Sequence[Any]) -> list[T] | None:
    """The records of texts of one style, or None when msgspec refuses any."""
    try:
        rows, unknown = decoder.types.attempt(style, _decoding(_array(texts)))
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
    ``pieces``: as the records' texts whatever their styles, for the caller to decode a
    chunk at a time (a large answer: no single call takes long)."""
    styles = [] if pieces else _styles_seen(decoder, body)
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
            return ParsedAnswer(decoder, _envelope(top, key), top.data.records, unknown)
    try:
        top = _decoder(msgspec.Raw, key).decode(body)
    except msgspec.DecodeError:
        return None
    return ParsedAnswer(decoder, _envelope(top, key), top.data.records, None)

def _styles_seen(decoder: RecordDecoder[Any], body: bytes) -> list[int]:
    """The key styles whose probe key shows in ``SAMPLES`` stretches of the answer spread
    over it (the whole of a small one): a guess, not a scan of every byte. An answer that
    shows one style is decoded in it, and msgspec refuses any record of another."""
    size = len(body)
    span = min(SAMPLE_BYTES, max(MIN_SAMPLE_BYTES, size // 32))
    if size <= SAMPLES * span:
        spans = [(0, size)]
    else:
        step = (size - span) // (SAMPLES - 1)
        spans = [(i * step, i * step + span) for i in range(SAMPLES)]
    return [style for style, probe in enumerate(decoder.probes)
            if any(body.find(probe, start, stop) >= 0 for start, stop in spans)]


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


def _envelope(top: Any, key: str) -> dict[str, Any]:
    """The answer's envelope, its record array a list of as many ``None``s."""
    envelope = {name: value for name, value in msgspec.structs.asdict(top).items()
                if value is not UNSET and name != "data"}
    data = {name: value for name, value in msgspec.structs.asdict(top.data).items()
            if value is not UNSET and name != "records"}
    envelope["data"] = {**data, key: [None] * len(top.data.records)}
    return envelope


@attrs.define
class ParsedAnswer(Generic[T]):
    """An answer's records, decoded by msgspec from its bytes and not yet built.

    ``envelope`` is the answer's envelope, its record array a list of as many ``None``s,
    for the caller to check. ``rows`` are rows of one key style whose Struct reads the
    ``unknown`` keys, or, with ``unknown`` None, each record's raw JSON text
    (``msgspec.Raw``).
    """

    decoder: RecordDecoder[T]
    envelope: dict[str, Any]
    rows: list[Any]
    unknown: tuple[str, ...] | None

    def split(self, start: int, stop: int
              ) -> tuple[list[T], list[InvalidRecordError]] | None:
        """The records of ``rows[start:stop]`` and the refused ones (indices from ``start``),
        or None when they need the exact path: an answer parsed whole by orjson (unknown keys
        whose order only orjson keeps, an integer orjson reads otherwise, a record orjson
        refuses)."""
        rows = self.rows[start:stop]
        decoder = self.decoder
        if self.unknown is None:
            records = from_texts(decoder, rows)
            if records is not None:
                return records, []
            try:
                raws = orjson.loads(_array(rows))
            except orjson.JSONDecodeError:
                return None
            return decoder.split(raws, offset=start)
        built = extras(rows, self.unknown, decoder.known, decoder.no_extra, None)
        return None if built is None else (decoder.build(rows, built), [])

    def parses(self, start: int, stop: int) -> bool:
        """True when orjson parses the records of ``rows[start:stop]`` (always, for rows of
        one style: msgspec read every character of them)."""
        if self.unknown is not None:
            return True
        try:
            orjson.loads(_array(self.rows[start:stop]))
        except orjson.JSONDecodeError:
            return False
        return True


def _array(texts: Sequence[Any]) -> bytes:
    """A JSON array of raw JSON texts."""
    return b"".join((b"[", b",".join(texts), b"]"))


__all__ = ["ENVELOPE_KEYS", "ParsedAnswer", "from_texts", "parse_answer"]

"""Where a large answer's records lie in its bytes, found without a pass over them.

The record array is found by its key, and cut into runs of records where one record ends and
the next begins (the bytes ``},{``), about ``chunk`` records apart; each run is then decoded
as a JSON array of its own. The cuts are guesses that decoding checks: a cut that falls
inside a string or inside a record's nested value leaves its run with an unterminated string
or value, which no JSON parser accepts, so when every run decodes, the runs hold exactly the
array's records, in order. The answer with its array emptied must hold the array's key once
and no escape (a key spelled with escapes cannot hide elsewhere), and must decode with an empty
array there: then the array cut out is the one the answer holds at that key.
"""

from __future__ import annotations

from collections.abc import Iterator

#: Where one record ends and the next begins, in an answer without whitespace between them.
CUT = b"},{"
#: A first record longer than this (or an array whose records are spaced out) is not cut: the
#: caller splits the answer another way.
FIRST_RECORD_MAX = 64 * 1024
#: Where the records' size is measured: this many stretches of this many bytes, spread over
#: the array (one long record among short ones does not make every run long).
SAMPLES, SAMPLE_BYTES = 4, 16 * 1024


def array_key(key: str) -> bytes:
    """The bytes that open the record array at ``key`` as the platform writes it:
    ``"key":[``."""
    return b'"' + key.encode() + b'":['


def locate(body: bytes, key: str) -> tuple[bytes, int, int] | None:
    """The answer with its record array ``data.<key>`` emptied, and where the array's records
    lie in ``body`` (``start``, ``stop``: from after its ``[`` to its ``]``); None when the
    answer does not look as the platform writes one (the caller then takes another way)."""
    opening = array_key(key)
    at = body.find(opening)
    if at < 0:
        return None
    start = at + len(opening)
    name = opening[:-2]
    stop = body.rfind(b"]")
    if stop < start:
        return None
    rest = b"".join((body[:start], body[stop:]))
    if b"\\" in rest or rest.count(name) != 1:
        return None
    if stop - start > FIRST_RECORD_MAX and body.find(CUT, start, start + FIRST_RECORD_MAX) < 0:
        return None
    return rest, start, stop


def runs(body: bytes, start: int, stop: int, chunk: int) -> Iterator[tuple[int, int]]:
    """Runs of about ``chunk`` records of ``body[start:stop]``, as (start, stop) offsets: each
    ends at a record's ``}`` and the next starts after the comma that follows it."""
    step = max(1, chunk * _record_bytes(body, start, stop))
    while start < stop:
        cut = body.find(CUT, start + step - 2, stop)
        end = stop if cut < 0 else cut + 1
        yield start, end
        start = end + 1


def _record_bytes(body: bytes, start: int, stop: int) -> int:
    """The records' mean size, from the cuts in ``SAMPLES`` stretches spread over the array
    (the whole array when there is no cut in them: one run)."""
    where = stretches(start, stop, SAMPLES, SAMPLE_BYTES)
    cuts = sum(body.count(CUT, at, end) for at, end in where)
    return sum(end - at for at, end in where) // cuts if cuts else stop - start


def stretches(start: int, stop: int, count: int, span: int) -> list[tuple[int, int]]:
    """``count`` stretches of ``span`` bytes spread evenly over ``start:stop``, the first at
    its start and the last at its end; the whole of it when they would cover it."""
    size = stop - start
    if size <= count * span:
        return [(start, stop)]
    step = (size - span) // (count - 1)
    return [(start + i * step, start + i * step + span) for i in range(count)]


def run_text(body: bytes, start: int, stop: int) -> bytes:
    """The records of ``body[start:stop]`` as a JSON array."""
    return b"".join((b"[", memoryview(body)[start:stop], b"]"))


__all__ = ["CUT", "FIRST_RECORD_MAX", "SAMPLES", "SAMPLE_BYTES", "array_key", "locate",
           "run_text", "runs", "stretches"]

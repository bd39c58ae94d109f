"""A large answer cut into pieces that parse one at a time, with the same result as one parse.

`orjson.loads` of a 10,000-record page is one call of over 20 ms, during which the event loop
runs nothing else. [`split_array`][douyin_async.decode.jsonsplit.split_array] cuts the body of such
an
answer, as bytes and without parsing it, into a skeleton (the answer with its record array
emptied) and pieces of that array (each a JSON array of whole records), so that the page
decoder can parse them in separate loop steps and put the records back in the skeleton's
emptied array.

Why the pieces give exactly what one parse gives. The array is found by its key written
compactly (`"video_daily_data_list":[`): the key's first occurrence in the body, and none
after the array (within it, a record may hold anything: it is parsed whole); the cuts
are made where a `}`, a comma and a `{` are followed by a key (`},{"`). Within a string every
`"` is escaped, so such a place is between two records of the array, or inside a nested value
a record holds, or just before the end of a string that ends in `},{`. In the last two cases
the piece before the cut is not valid JSON: it ends with an object that is never closed, or
inside an open string. The end of the array is the first `}]` after the last cut at
which the skeleton is valid JSON: any earlier one leaves the array's own `]` unmatched in the
skeleton. So when the skeleton and every piece parse, the cuts were all between records, and
the records of the pieces, in order, are the array's. When anything does not hold (no compact
key, the key twice, a piece that does not parse), the decoder parses the whole body instead,
and its answer, or its error, is the one parse's. (For the same reason, a string that spells
the key never matches it.)
"""

from __future__ import annotations

from itertools import pairwise

import attrs
import orjson

_CUT = b'},{"'
_END = b"}]"


@attrs.frozen
class SplitBody:
    """An answer cut for parsing in steps: its `skeleton` (the record array emptied) and the
    array's items as `pieces`, each a JSON array of whole records, in order."""

    skeleton: bytes
    pieces: tuple[bytes, ...]


def split_array(body: bytes, key: str, piece_bytes: int) -> SplitBody | None:
    """`body` cut into a skeleton and pieces of about `piece_bytes` bytes of the array under
    `key`, or None when it does not cut cleanly (see the module docstring): the array is
    empty or small, its key is not written compactly, it stands again after the array, or no
    end is found.
    The pieces are checked only when parsed: a piece that does not parse means "parse the
    whole body"."""
    name = orjson.dumps(key)
    at = body.find(name)
    if at < 0 or body[at + len(name):at + len(name) + 2] != b":[":
        return None
    start = at + len(name) + 2  # the first byte inside the array
    if body[start:start + 1] != b"{":
        return None
    cuts = [start]
    while True:
        cut = body.find(_CUT, cuts[-1] + piece_bytes)
        if cut < 0:
            break
        cuts.append(cut + 2)  # the next piece starts at the '{'
    found = _array_end(body, start, cuts[-1]) if len(cuts) > 1 else None
    if found is None or body.find(name, found[0]) >= 0:
        return None
    end, skeleton = found
    bounds = [*cuts, end + 2]
    view = memoryview(body)
    pieces = tuple(b"".join((b"[", view[a:b - 1], b"]")) for a, b in pairwise(bounds))
    return SplitBody(skeleton, pieces)


def _array_end(body: bytes, start: int, last_cut: int) -> tuple[int, bytes] | None:
    """The index of the `}` that closes the array's last record, and the skeleton: the first
    `}]` after the last cut at which the skeleton parses (its `]` is the array's)."""
    head = body[:start]
    end = body.find(_END, last_cut)
    while end >= 0:
        skeleton = head + body[end + 1:]
        try:
            orjson.loads(skeleton)
        except orjson.JSONDecodeError:
            end = body.find(_END, end + 1)
            continue
        return end, skeleton
    return None


__all__ = ["SplitBody", "split_array"]

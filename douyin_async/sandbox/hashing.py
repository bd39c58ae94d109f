"""Seeded, stateless randomness: every generated value is a hash of the seed and its coordinates.

Nothing is drawn from a stream, so any record can be produced alone, in any order, and two
sandboxes with the same seed agree on every byte.
"""

from __future__ import annotations

import hashlib
import struct

_PAIR = struct.Struct("<BQQ")


class Hasher:
    """Keyed BLAKE2b over the textual form of some coordinates, as a 256-bit integer."""

    def __init__(self, seed: int, purpose: str = "data") -> None:
        key = hashlib.blake2b(f"{purpose}:{seed}".encode(), digest_size=32).digest()
        self._base = hashlib.blake2b(key=key, digest_size=32)

    def bits(self, *parts: int | str) -> int:
        """256 pseudo-random bits for these coordinates."""
        h = self._base.copy()
        h.update("\x1f".join(map(str, parts)).encode())
        return int.from_bytes(h.digest(), "little")

    def pair(self, tag: int, a: int, b: int) -> int:
        """256 pseudo-random bits for ``(tag, a, b)``; a fast path for non-negative int64s."""
        h = self._base.copy()
        h.update(_PAIR.pack(tag, a, b))
        return int.from_bytes(h.digest(), "little")

    def raw(self, size: int, *parts: int | str) -> bytes:
        """``size`` pseudo-random bytes for these coordinates."""
        out = b""
        block = 0
        while len(out) < size:
            out += self.bits(*parts, block).to_bytes(32, "little")
            block += 1
        return out[:size]

def split(value: int, *widths: int) -> list[int]:
    """Cut ``value`` into fields of the given bit widths, lowest bits first."""
    out = []
    for width in widths:
        out.append(value & ((1 << width) - 1))
        value >>= width
    return out

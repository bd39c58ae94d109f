"""The batch path: raw records checked and converted by msgspec, in C, into plain Structs.

For each key style of a record class, [`StructTypes`][douyin_async.decode.batch.StructTypes]
makes a msgspec Struct whose fields take that style's keys, with types that accept no more
than the reference checks do (``douyin_async.decode.fields``): int64 integers, unix seconds in
range, strings, ``YYYY-MM-DD`` dates; no coercion (msgspec's strict mode). The Structs refuse
unknown keys (``forbid_unknown_fields``): a key the client does not know is learned from
msgspec's error, becomes a field of its own (default ``UNSET``, so a record without it holds
no such key) and the batch is decoded again; the key then stays learned for later pages. A
key of another style is never learned: a record holding one mixes styles or spells a field
twice, and goes to the reference decoder. The Structs hold no references the collector
needs to follow (``gc=False``), so decoding a page adds nothing to its work but the records.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Annotated, Any

import msgspec

from .fields import INT64_MAX, INT64_MIN, MAX_UNIX_SECONDS, Field, Kind

I64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
UNIX_SECONDS = Annotated[int, msgspec.Meta(ge=0, le=MAX_UNIX_SECONDS)]
UNSET: Any = msgspec.UNSET
_REQUIRED = msgspec.NODEFAULT

#: Each kind's msgspec type and default: never more lenient than the kind's check. A null
#: optional integer decodes as None; the build turns it into 0.
STRUCT_TYPES: dict[Kind, tuple[Any, Any]] = {
    Kind.INT: (I64, _REQUIRED), Kind.OPT_INT: (I64 | None, 0), Kind.STR: (str, _REQUIRED),
    Kind.OPT_STR: (str | None, None), Kind.TIME: (UNIX_SECONDS, _REQUIRED),
    Kind.OPT_DATE: (dt.date | None, None),
}
#: Unknown keys a Struct reads at most, and learned per batch at most: a batch with more
#: sends the records holding the others to the reference.
MAX_UNKNOWN = 8
#: msgspec's error for an unknown key of a record (at ``$[i]``, or ``$.data.<key>[i]``).
_UNKNOWN_KEY = re.compile(r"Object contains unknown field `(.*)` - at `\$[^`\[]*\[\d+\]`", re.S)
#: What msgspec does not take in a field's name: such a key goes to the reference.
_UNNAMEABLE = re.compile(r'[\\"\x00-\x1f]')
_RECORD_AT = re.compile(r"`\$[^`\[]*\[(\d+)\]")


class Refused(Exception):
    """msgspec refused a batch; ``index`` is the first refused record's (None: not known)."""

    def __init__(self, index: int | None) -> None:
        super().__init__(index)
        self.index = index


class StructTypes:
    """The Struct types of one record class, per key style and learned unknown keys."""

    def __init__(self, name: str, fields: Sequence[Field], styles: Sequence[Sequence[str]],
                 known: frozenset[str]) -> None:
        self.name = name
        self.fields = tuple(fields)
        self.styles = tuple(tuple(keys) for keys in styles)
        self.known = known
        #: The unknown keys learned so far, per style.
        self.unknown: list[tuple[str, ...]] = [()] * len(self.styles)
        self._types: dict[tuple[int, tuple[str, ...]], Any] = {}

    def struct(self, style: int, unknown: tuple[str, ...]) -> Any:
        """The Struct of a style: the record's fields in its order (``astuple`` gives them
        so), then ``x0``, ``x1``, ... for the unknown keys."""
        made = self._types.get((style, unknown))
        if made is None:
            fields = [(f.name, *STRUCT_TYPES[f.kind]) for f in self.fields]
            fields += [(f"x{i}", Any, UNSET) for i in range(len(unknown))]
            rename = {f.name: key for f, key in zip(self.fields, self.styles[style],
                                                    strict=True)}
            rename.update((f"x{i}", key) for i, key in enumerate(unknown))
            made = msgspec.defstruct(f"{self.name}Row", fields, rename=rename, kw_only=True,
                                     forbid_unknown_fields=True, gc=False)
            self._types[style, unknown] = made
        return made

    def attempt(self, style: int, run: Callable[[Any], Any]) -> tuple[Any, tuple[str, ...]]:
        """``run(struct)`` with the style's Struct, learning unknown keys as msgspec meets
        them; the result and the unknown keys its Struct reads, or
        [`Refused`][douyin_async.decode.batch.Refused]."""
        unknown = self.unknown[style]
        learned = 0
        while True:
            try:
                return run(self.struct(style, unknown)), unknown
            except msgspec.ValidationError as error:
                text = str(error)
                found = _UNKNOWN_KEY.fullmatch(text)
                key = found.group(1) if found else None
                if (key is None or key in self.known or key in unknown
                        or learned >= MAX_UNKNOWN or _UNNAMEABLE.search(key)):
                    at = _RECORD_AT.search(text)
                    raise Refused(int(at.group(1)) if at else None) from None
                if len(unknown) >= MAX_UNKNOWN:  # keys of older pages make room
                    unknown = ()
                learned += 1
                unknown = self.unknown[style] = (*unknown, key)


def extras(rows: Sequence[Any], unknown: tuple[str, ...], known: frozenset[str],
           no_extra: Any, raws: Sequence[Any] | None) -> list[Any] | None:
    """Each row's ``extra``: its unknown keys and values, or ``no_extra``. A record holding
    two or more takes them from its raw dict, in the server's order. Rows decoded from bytes
    (no ``raws``) answer None for what only orjson's own parse gets right: two unknown keys in
    one record (their order), an integer orjson reads otherwise."""
    if not unknown:
        return [no_extra] * len(rows)
    columns = [list(map(attrgetter(f"x{i}"), rows)) for i in range(len(unknown))]
    kinds = [set(map(type, column)) for column in columns]
    if raws is None and not all(map(orjson_values, columns, kinds)):
        return None
    if len(unknown) == 1:
        key = unknown[0]
        if type(UNSET) not in kinds[0]:  # every record holds the key (a dict display is
            return [{key: v} for v in columns[0]]  # twice as fast as dict.fromkeys)
        return [no_extra if v is UNSET else {key: v} for v in columns[0]]
    out: list[Any] = []
    for i, values in enumerate(zip(*columns, strict=True)):
        present = [(key, v) for key, v in zip(unknown, values, strict=True) if v is not UNSET]
        if len(present) < 2:
            out.append(dict(present) if present else no_extra)
        elif raws is None:
            return None
        else:
            out.append({k: v for k, v in raws[i].items() if k not in known})
    return out


_DATETIMES: Any = list[dt.datetime]


def unix_datetimes(seconds: list[int]) -> list[dt.datetime]:
    """Aware UTC datetimes of unix seconds already checked (0 .. ``MAX_UNIX_SECONDS``), made
    in C: what ``datetime.fromtimestamp(s, UTC)`` makes of each."""
    made: list[dt.datetime] = msgspec.convert(seconds, _DATETIMES, strict=False)
    return made


#: The integers orjson reads as integers; it reads larger ones as floats, msgspec does not.
_JSON_INT_MIN, _JSON_INT_MAX = INT64_MIN, 2**64 - 1
_SCALARS = frozenset({str, float, bool, type(None), type(UNSET)})


def orjson_values(values: Sequence[Any], kinds: set[type] | None = None) -> bool:
    """True when ``values`` (decoded by msgspec) are what orjson makes of the same JSON:
    no integer outside int64 .. uint64, at any depth. ``kinds``: their types, if known."""
    kinds = set(map(type, values)) if kinds is None else kinds
    if kinds <= _SCALARS:
        return True
    if int in kinds:
        ints = values if kinds == {int} else [v for v in values if v.__class__ is int]
        if min(ints) < _JSON_INT_MIN or max(ints) > _JSON_INT_MAX:
            return False
    return (list not in kinds or all(orjson_values(v) for v in values if v.__class__ is list)
            ) and (dict not in kinds or all(orjson_values(list(v.values()))
                                            for v in values if v.__class__ is dict))


__all__ = ["MAX_UNKNOWN", "STRUCT_TYPES", "UNSET", "Refused", "StructTypes", "extras",
           "orjson_values", "unix_datetimes"]

"""The record decoder behind ``douyin_async.decode.converter``.

A ``RecordDecoder`` knows one record class as a table of ``Field``s (name, kind, accepted key
spellings; see ``douyin_async.decode.fields``) and decodes raw records two ways that give the
same records and the same errors:

- ``one``, the reference: one record from its raw dict, field by field, in Python;
- ``split`` and ``many``, the batch path: msgspec checks and converts the records of one key
  style at once, in C, into plain Structs (see ``douyin_async.decode.batch``), and one Python
  loop builds the records from them. ``douyin_async.decode.answers`` does the same from an
  answer's bytes.

The batch path accepts no more than the reference does; a record it refuses goes through the
reference, so an error is always the reference's own, and a good record comes out the same
either way. A page whose records mix key styles is split by style first. Neither path changes
the raw dicts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import compress
from operator import attrgetter, not_
from typing import Any, Generic, TypeVar

import attrs
import msgspec
import orjson

from ..errors import InvalidRecordError
from .batch import Refused, StructTypes, extras
from .fields import MISSING, VALUE_CHECKS, BadValue, Field, Kind

T = TypeVar("T")
_QUOTE_CHARS = 200
#: Records converted and built at a time: their rows stay in the CPU's caches until built.
BLOCK = 500
#: Builds records from rows (msgspec Structs) and their ``extra``s, without checks.
Build = Callable[[Sequence[Any], Iterable[Any]], list[Any]]


def quote(record: Any) -> str:
    """A record as short JSON text (keys sorted) for error messages."""
    try:
        text = orjson.dumps(record, default=repr,
                            option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        text = repr(record)
    return text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS - 3] + "..."


def plain_twin(cls: type[Any]) -> type[Any]:
    """A plain class whose instances have the layout of ``cls``'s (the same slots).

    Records are filled as its instances, whose attributes take ordinary stores (the fastest
    way CPython has to fill an object), and then get their record class: assigning
    ``__class__`` between two classes of the same layout skips the frozen ``__setattr__``.
    """
    return type(f"_Plain{cls.__name__}", (), {"__slots__": cls.__slots__})


class RecordDecoder(Generic[T]):
    """Decodes raw JSON objects into records of one class (see the module docstring).

    ``fields`` are the class's fields in attribute order (``extra`` excluded), each with the
    keys it may arrive under. ``styles`` are the key spellings of whole records (PascalCase
    and snake_case), told apart by the presence of ``probe``. ``build`` makes records from
    rows of the batch path; by default a generic loop, enough for small pages.
    """

    def __init__(self, cls: type[T], fields: Sequence[Field], *, build: Build | None = None,
                 probe: str | None = None) -> None:
        names = [f.name for f in fields]
        declared = [a.name for a in attrs.fields(cls) if a.name != "extra"]  # type: ignore[arg-type]
        if names != declared:
            raise TypeError(f"fields {names} do not match {cls.__qualname__} ({declared})")
        if getattr(cls, "__slots__", None) != (*names, "extra"):
            raise TypeError(f"{cls.__qualname__} must be slotted: its fields, then extra")
        self.cls = cls
        self.fields = tuple(fields)
        self.names = tuple(names)
        self.known = frozenset(key for f in fields for key in f.keys)
        spellings = max(len(f.keys) for f in fields)
        self.styles = tuple(tuple(f.keys[min(i, len(f.keys) - 1)] for f in fields)
                            for i in range(spellings))
        self.probe = probe
        self.plain = plain_twin(cls)
        #: The ``extra`` of a record without unknown keys (the class's shared default).
        self.no_extra = attrs.fields_dict(cls)["extra"].default  # type: ignore[arg-type]
        self.types = StructTypes(cls.__name__, fields, self.styles, self.known)
        self.build: Build = build or self._build_any
        self._checks = tuple(VALUE_CHECKS[f.kind] for f in fields)
        at = next((i for i, f in enumerate(fields) if probe in f.keys), 0)
        #: Per style, its spelling of the probe's key as JSON text: an answer holding one
        #: style's only is decoded in that style (a guess msgspec checks).
        self.probes = [orjson.dumps(keys[at]) + b":" for keys in self.styles]

    # -- one record: the reference --------------------------------------------------------

    def one(self, raw: Any, index: int = -1) -> T:
        """One record from its raw JSON object; raises
        [`InvalidRecordError`][douyin_async.errors.InvalidRecordError]. ``raw`` is not changed."""
        if not isinstance(raw, Mapping):
            raise self.refuse(raw, index, "", "not a JSON object")
        values: list[Any] = []
        for field, check in zip(self.fields, self._checks, strict=True):
            found = [key for key in field.keys if key in raw]
            if len(found) > 1:
                raise self.refuse(raw, index, field.name,
                                  f"given twice, as {found[0]!r} and {found[1]!r}")
            try:
                values.append(check(raw[found[0]] if found else MISSING))
            except BadValue as bad:
                raise self.refuse(raw, index, field.name, str(bad)) from None
        known = self.known
        extra = {key: value for key, value in raw.items() if key not in known}
        return self._fill(values, extra or self.no_extra)

    def __call__(self, raw: Any) -> T:
        return self.one(raw)

    def refuse(self, raw: Any, index: int, field: str, reason: str) -> InvalidRecordError:
        """The error for a refused record (both paths build their errors here)."""
        where = f"record {index}" if index >= 0 else "record"
        what = f"field {field!r} {reason}" if field else reason
        text = quote(raw)
        return InvalidRecordError(f"{where} refused: {what}", field=field, reason=reason,
                                  record=raw, index=index, snippet=text)

    def _fill(self, values: Iterable[Any], extra: Any) -> T:
        record: Any = self.plain()
        for name, value in zip(self.names, values, strict=True):
            setattr(record, name, value)
        record.extra = extra
        record.__class__ = self.cls
        return record  # type: ignore[no-any-return]

    def _build_any(self, rows: Sequence[Any], extras: Iterable[Any]) -> list[Any]:
        get = attrgetter(*self.names)
        kinds = [f.kind for f in self.fields]
        return [self._fill([finish(kind, v) for kind, v in zip(kinds, get(row), strict=True)],
                           extra)
                for row, extra in zip(rows, extras, strict=True)]

    # -- many records: the batch path -----------------------------------------------------

    def many(self, raws: Sequence[Any], *, offset: int = 0) -> list[T]:
        """The records of ``raws``, in order; raises the first refused record's
        [`InvalidRecordError`][douyin_async.errors.InvalidRecordError] (its ``index`` is its
        position in ``raws`` plus ``offset``)."""
        records, errors = self.split(raws, offset=offset)
        if errors:
            raise errors[0]
        return records

    def split(
        self, raws: Sequence[Any], *, offset: int = 0
    ) -> tuple[list[T], list[InvalidRecordError]]:
        """The good records of ``raws`` in order, and one error per refused record (in order)."""
        if not isinstance(raws, list):
            raws = list(raws)
        if not raws:
            return [], []
        flags = self._probed(raws)
        if all(flags) or not any(flags):
            style = 0 if flags[0] else len(self.styles) - 1
            records, errors, _ = self._group(raws, style, offset)
            return records, errors
        out: list[Any] = [None] * len(raws)
        errors = []
        for style, chosen in ((0, flags), (len(self.styles) - 1, list(map(not_, flags)))):
            where = list(compress(range(len(raws)), chosen))
            records, refused, bad = self._group(list(compress(raws, chosen)), style,
                                                [offset + p for p in where])
            for at, record in zip([p for i, p in enumerate(where) if i not in bad], records,
                                  strict=True):
                out[at] = record
            errors += refused
        if errors:
            errors.sort(key=lambda e: e.index)
            out = [r for r in out if r is not None]
        return out, errors

    def _probed(self, raws: list[Any]) -> list[bool]:
        """Per record, True when it holds the probe key (PascalCase), else False."""
        probe = self.probe
        if probe is None:
            return [True]
        try:
            return [probe in raw for raw in raws]
        except TypeError:
            return [isinstance(raw, Mapping) and probe in raw for raw in raws]

    def _group(
        self, raws: list[Any], style: int, where: int | list[int]
    ) -> tuple[list[T], list[InvalidRecordError], set[int]]:
        """Records of one key style through msgspec, a refused one through the reference;
        ``where`` is the index of ``raws[0]`` or each one's index. Also the positions (in
        ``raws``) of the refused records."""
        records: list[T] = []
        errors: list[InvalidRecordError] = []
        bad: set[int] = set()
        pos = 0
        while pos < len(raws):
            part = raws[pos:pos + BLOCK] if pos or len(raws) > BLOCK else raws
            try:
                rows, unknown = self.types.attempt(style, _converting(part))
                stop = len(part)
            except Refused as refused:
                stop = refused.index if refused.index is not None else 0
                rows, unknown = self.types.attempt(style, _converting(part[:stop]))
            built = extras(rows, unknown, self.known, self.no_extra, part)
            assert built is not None  # with the raw dicts at hand, always
            records += self.build(rows, built)
            pos += stop
            if stop < len(part):
                index = where[pos] if isinstance(where, list) else where + pos
                try:
                    records.append(self.one(raws[pos], index))
                except InvalidRecordError as error:
                    errors.append(error)
                    bad.add(pos)
                pos += 1
        return records, errors, bad


def _converting(raws: list[Any]) -> Callable[[Any], list[Any]]:
    return lambda row: msgspec.convert(raws, list[row])  # type: ignore[valid-type]


def finish(kind: Kind, value: Any) -> Any:
    """A batch row's value as the record holds it: a null optional integer is 0, unix
    seconds are a UTC datetime."""
    if kind is Kind.TIME:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return 0 if value is None and kind is Kind.OPT_INT else value

"""The record decoder behind ``douyin_async.decode.converter``.

A ``RecordDecoder`` knows one record class as a table of ``Field``s (name, kind, accepted key
spellings; see ``douyin_async.decode.fields``) and decodes raw JSON objects two ways that give
the same records and the same errors:

- ``one``, the reference: one record, field by field;
- ``split`` and ``many``, the batch path, which works on whole columns with C-level builtins
  instead of a Python call per record: the records are split by key style
  (``dict.__contains__`` of a probe key), each style's records are merged over the defaults
  of the optional fields (``defaults | raw``) and read with one ``operator.itemgetter`` call
  each, the rows are turned into columns (``zip(*rows)``), and
  each column is checked at once: ``set(map(type, column))`` for the types, ``min``/``max``
  for the ranges, ``map(datetime.fromtimestamp, ...)`` for the times, one parse per distinct
  date. Unknown keys are found with one ``set().union(*raws)`` and read by the same
  ``itemgetter``. Only then are the records built (see ``build`` below).

Anything the column checks do not pass (a missing required key, a value of another type, a
key spelled in two styles) sends the records of that batch through the reference, so an
error is always the reference's own, and a good record comes out the same either way. Neither
path changes the raw dicts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import compress, repeat
from operator import itemgetter, not_
from typing import Any, Generic, TypeVar

import attrs
import orjson

from ..errors import InvalidRecordError
from .fields import (
    BATCH_DEFAULTS,
    COLUMN_CHECKS,
    MISSING,
    VALUE_CHECKS,
    BadValue,
    Field,
    MissingType,
)

T = TypeVar("T")
_QUOTE_CHARS = 200

def quote(record: Any) -> str:
    """A record as short JSON text (keys sorted) for error messages."""
    try:
        text = orjson.dumps(record, default=repr,
                            option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        text = repr(record)
    return text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS - 3] + "..."


class RecordDecoder(Generic[T]):
    """Decodes raw JSON objects into records of one class (see the module docstring).

    ``fields`` are the class's fields in attribute order (``extra`` excluded), each with the
    keys it may arrive under; ``fill`` makes records from rows of converted values (fields in
    that order, then the record's ``extra``), without checks.
    ``styles`` are the key spellings of whole records (PascalCase and snake_case), told apart
    by the presence of ``probe``; a record may use either, and the batch path decodes each
    style's records column by column.
    """

    def __init__(
        self,
        cls: type[T],
        fields: Sequence[Field],
        fill: Callable[[Iterable[tuple[Any, ...]]], list[T]],
        *,
        probe: str | None = None,
    ) -> None:
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
        self._fill = fill
        #: The ``extra`` of a record without unknown keys (the class's shared default).
        self.no_extra = attrs.fields_dict(cls)["extra"].default  # type: ignore[arg-type]
        self._checks = tuple(VALUE_CHECKS[f.kind] for f in fields)
        self._columns = tuple(COLUMN_CHECKS[f.kind] for f in fields)
        self._defaults = tuple(BATCH_DEFAULTS.get(f.kind, MISSING) for f in fields)
        #: per style, the keys of the other styles only: a record of this style holding one
        #: mixes styles or spells a field twice, and goes to the reference.
        self._foreign = tuple(frozenset(self.known - set(keys)) for keys in self.styles)
        self._getters: dict[tuple[int, tuple[str, ...]], Any] = {}

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
        return self._fill([(*values, extra or self.no_extra)])[0]

    def __call__(self, raw: Any) -> T:
        return self.one(raw)

    def refuse(self, raw: Any, index: int, field: str, reason: str) -> InvalidRecordError:
        """The error for a refused record (both paths build their errors here)."""
        where = f"record {index}" if index >= 0 else "record"
        what = f"field {field!r} {reason}" if field else reason
        text = quote(raw)
        return InvalidRecordError(f"{where} refused: {what}", field=field, reason=reason,
                                  record=raw, index=index, snippet=text)

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
        if set(map(type, raws)) != {dict}:
            return self._reference(raws, range(offset, offset + len(raws)))
        probe = self.probe
        flags = list(map(dict.__contains__, raws, repeat(probe))) if probe else [True]
        if all(flags) or not any(flags):
            style = 0 if flags[0] else len(self.styles) - 1
            return self._group(raws, style, range(offset, offset + len(raws)))
        out: list[Any] = [None] * len(raws)
        errors: list[InvalidRecordError] = []
        positions = range(len(raws))
        for style, chosen in ((0, flags), (len(self.styles) - 1, list(map(not_, flags)))):
            where = list(compress(positions, chosen))
            records, refused = self._group(list(compress(raws, chosen)), style,
                                           list(map(offset.__add__, where)))
            if refused:
                bad = {e.index - offset for e in refused}
                where = [i for i in where if i not in bad]
                errors += refused
            deque(map(out.__setitem__, where, records), maxlen=0)
        if errors:
            errors.sort(key=lambda e: e.index)
            out = [r for r in out if r is not None]
        return out, errors

    def _group(
        self, raws: list[dict[str, Any]], style: int, indices: Sequence[int]
    ) -> tuple[list[T], list[InvalidRecordError]]:
        """Records of one key style, column by column; the reference for anything unusual."""
        columns = self._tidy(raws, style)
        unknown: tuple[str, ...] = ()
        if columns is None:
            seen = set().union(*raws)
            if not seen.isdisjoint(self._foreign[style]):  # other spellings: the reference
                return self._reference(raws, indices)  # sorts out mixed or doubled keys
            unknown = tuple(seen - self.known)
            getter, defaults = self._getter(style, unknown)
            # Each record merged over the defaults of its missing fields, then its values read
            # in one call: several times faster than one dict.get pass per field.
            columns = list(zip(*map(getter, map(defaults.__or__, raws)), strict=True))
        converted: list[Iterable[Any]] = []
        for column, convert in zip(columns, self._columns, strict=False):
            done = convert(column, set(map(type, column)))
            if done is None:
                return self._reference(raws, indices)
            converted.append(done)
        extras = (self._extras(raws, unknown, columns[len(self.fields):]) if unknown
                  else [self.no_extra] * len(raws))
        return self._fill(zip(*converted, extras, strict=True)), []

    def _tidy(self, raws: list[dict[str, Any]], style: int) -> list[tuple[Any, ...]] | None:
        """The columns when every record holds exactly the style's keys (no key missing, none
        unknown), or None."""
        if set(map(len, raws)) != {len(self.fields)}:
            return None
        try:
            return list(zip(*map(self._getter(style, ())[0], raws), strict=True))
        except KeyError:
            return None

    def _getter(
        self, style: int, unknown: tuple[str, ...]
    ) -> tuple[Callable[[dict[str, Any]], tuple[Any, ...]], dict[str, Any]]:
        cached = self._getters.get((style, unknown))
        if cached is None:
            keys = self.styles[style]
            defaults = dict(zip(keys, self._defaults, strict=True))
            defaults.update(dict.fromkeys(unknown, MISSING))
            if len(self._getters) >= 64:
                self._getters.clear()
            cached = self._getters[style, unknown] = (itemgetter(*keys, *unknown), defaults)
        return cached

    def _extras(
        self, raws: list[dict[str, Any]], unknown: tuple[str, ...], values: list[tuple[Any, ...]]
    ) -> list[Any]:
        """Each record's ``extra``: its unknown keys in the server's order, or the default."""
        if len(unknown) == 1 and MissingType not in set(map(type, values[0])):
            return list(map(dict.fromkeys, repeat(unknown), values[0]))
        known = self.known
        return [{key: value for key, value in raw.items() if key not in known}
                if any(value is not MISSING for value in found) else self.no_extra
                for raw, *found in zip(raws, *values, strict=True)]

    def _reference(
        self, raws: Sequence[Any], indices: Sequence[int]
    ) -> tuple[list[T], list[InvalidRecordError]]:
        records: list[T] = []
        errors: list[InvalidRecordError] = []
        for raw, index in zip(raws, indices, strict=True):
            try:
                records.append(self.one(raw, index))
            except InvalidRecordError as error:
                errors.append(error)
        return records, errors

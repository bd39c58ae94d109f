"""Field kinds: how one raw JSON value, or a whole column of them, is checked and converted.

Each ``Kind`` has two functions that follow the same rule: one for a single value (the
reference, used per record) and one for a whole column (the batch path), which checks the
column at once with C-level builtins and answers ``None`` when any value in it needs a closer
look. The rules are listed in ``douyin_async.decode.converter``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import Any

import attrs

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Unix seconds accepted for a timestamp: 1970-01-01 .. 9999-12-31T23:59:59 UTC. Milli- and
#: nanosecond values lie beyond and are refused.
MAX_UNIX_SECONDS = 253_402_300_799


class Kind(enum.Enum):
    """How a field's raw JSON value is checked and converted."""

    INT = "int"  #: a JSON integer in int64, required
    OPT_INT = "optional int"  #: a JSON integer in int64; missing or null -> 0
    STR = "str"  #: a JSON string, required
    OPT_STR = "optional str"  #: a JSON string; missing or null -> None
    TIME = "unix seconds"  #: a JSON integer in 0..MAX_UNIX_SECONDS -> aware UTC datetime
    OPT_DATE = "optional date"  #: a ``YYYY-MM-DD`` string -> date; missing or null -> None


@attrs.frozen
class Field:
    """One record field: its attribute name, kind and the keys it may arrive under."""

    name: str
    kind: Kind
    keys: tuple[str, ...]


class MissingType:
    """The value of a key that is not there (a type of its own, so type sets show it)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = MissingType()
_NONE = type(None)


class BadValue(Exception):
    """A value a field refuses; the message is the reason."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _absent(value: Any) -> str:
    return "missing" if value is MISSING else "null"


def _check_int(value: Any) -> int:
    if value.__class__ is int:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        raise BadValue(f"outside int64: {value}")
    if value is MISSING or value is None:
        raise BadValue(_absent(value))
    raise BadValue(f"not an integer: {_shown(value)}")


def _check_opt_int(value: Any) -> int:
    return 0 if value is MISSING or value is None else _check_int(value)


def _check_str(value: Any) -> str:
    if value.__class__ is str:
        return value
    if value is MISSING or value is None:
        raise BadValue(_absent(value))
    raise BadValue(f"not a string: {_shown(value)}")


def _check_opt_str(value: Any) -> str | None:
    return None if value is MISSING or value is None else _check_str(value)


def _check_time(value: Any) -> dt.datetime:
    if value.__class__ is int and 0 <= value <= MAX_UNIX_SECONDS:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if value is MISSING or value is None:
        raise BadValue(_absent(value))
    raise BadValue(f"not unix seconds in 0..{MAX_UNIX_SECONDS}: {_shown(value)}")


def parse_date(value: str) -> dt.date:
    """A ``YYYY-MM-DD`` string as a date; anything else (other ISO forms too) raises."""
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.isoformat() != value:
        raise BadValue(f"not a YYYY-MM-DD date: {_shown(value)}")
    return parsed


def _check_opt_date(value: Any) -> dt.date | None:
    if value is MISSING or value is None:
        return None
    if value.__class__ is not str:
        raise BadValue(f"not a YYYY-MM-DD date: {_shown(value)}")
    return parse_date(value)


VALUE_CHECKS: dict[Kind, Callable[[Any], Any]] = {
    Kind.INT: _check_int, Kind.OPT_INT: _check_opt_int, Kind.STR: _check_str,
    Kind.OPT_STR: _check_opt_str, Kind.TIME: _check_time, Kind.OPT_DATE: _check_opt_date,
}


# -- whole columns: the same rules, or None when a column holds anything unusual -----------

def _int_column(column: Sequence[Any], types: set[type]) -> Sequence[Any] | None:
    if types != {int}:
        return None
    if min(column) < INT64_MIN or max(column) > INT64_MAX:
        return None
    return column


def _opt_int_column(column: Sequence[Any], types: set[type]) -> Sequence[Any] | None:
    if types != {int}:
        if not types <= {int, MissingType, _NONE}:
            return None
        if int not in types:
            return [0] * len(column)
        column = [v if v.__class__ is int else 0 for v in column]
    return _int_column(column, {int})


def _str_column(column: Sequence[Any], types: set[type]) -> Sequence[Any] | None:
    return column if types == {str} else None


def _opt_str_column(column: Sequence[Any], types: set[type]) -> Sequence[Any] | None:
    if types == {str}:
        return column
    if not types <= {str, MissingType, _NONE}:
        return None
    return [None if v is MISSING else v for v in column] if MissingType in types else column


def _time_column(column: Sequence[Any], types: set[type]) -> Iterable[Any] | None:
    if types != {int} or min(column) < 0 or max(column) > MAX_UNIX_SECONDS:
        return None
    return map(dt.datetime.fromtimestamp, column, repeat(dt.UTC))


def _opt_date_column(column: Sequence[Any], types: set[type]) -> Iterable[Any] | None:
    if not types <= {str, MissingType, _NONE}:
        return None
    dates: dict[Any, dt.date | None] = {MISSING: None, None: None}
    try:
        for text in set(column) - dates.keys():
            dates[text] = parse_date(text)
    except BadValue:
        return None
    return map(dates.__getitem__, column)


#: What a batch reads for a missing key, by kind (the fields' own defaults where they have one).
BATCH_DEFAULTS: dict[Kind, Any] = {Kind.OPT_INT: 0, Kind.OPT_STR: None, Kind.OPT_DATE: None}

COLUMN_CHECKS: dict[Kind, Callable[[Sequence[Any], set[type]], Iterable[Any] | None]] = {
    Kind.INT: _int_column, Kind.OPT_INT: _opt_int_column, Kind.STR: _str_column,
    Kind.OPT_STR: _opt_str_column, Kind.TIME: _time_column, Kind.OPT_DATE: _opt_date_column,
}

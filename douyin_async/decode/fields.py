"""Field kinds: how one raw JSON value, or a whole column of them, is checked and converted.

Each ``Kind`` has a check of one value (the reference, used per record) and a msgspec type
that accepts no more than that check does (the batch path, see
``douyin_async.decode.batch``). The rules are listed in ``douyin_async.decode.converter``.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from collections.abc import Callable, Mapping
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
    """The value of a key that is not there, as the reference checks see it."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = MissingType()


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

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])")


@functools.lru_cache(maxsize=4096)
def snake(key: str) -> str:
    """A key in snake_case: `TalentProfit1d` and `talent_profit_1d` both read
    `talent_profit_1d`."""
    return _CAMEL.sub("_", key).lower()


def snake_keys(extra: Mapping[str, Any]) -> dict[str, Any]:
    """A record's unknown keys under one spelling, snake_case: what every output keeps."""
    return {snake(key): value for key, value in extra.items()}

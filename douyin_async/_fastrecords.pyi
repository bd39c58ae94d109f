import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

def build(
    raws: list[Any],
    cls: type[T],
    keys: tuple[str, ...],
    names: tuple[str, ...],
    kinds: bytes,
    slow: Callable[[Any], T],
    utc: dt.tzinfo,
    date_cache: dict[str, dt.date],
    parse_date: Callable[[str], dt.date],
) -> list[T]: ...

"""The exit code of a sync's error: raised here, or recorded by a queue as its class name
(one table for both, so a unit's error ends `sync --queue` as it ends a local sync)."""

from __future__ import annotations

from ..errors import DouyinError
from ..sync.errors import DestinationError, StateConflictError, SyncLockedError
from . import exits
from .exits import CliError

#: A sync's own errors and their codes; the client's errors follow
#: [`code_for_class`][douyin_async.cli.exits.code_for_class].
_SYNC_CODES: tuple[tuple[type[DouyinError], int], ...] = (
    (SyncLockedError, exits.LOCKED), (StateConflictError, exits.CONFLICT),
    (DestinationError, exits.FILES))


def _code_of(cls: type[DouyinError]) -> int:
    for known, code in _SYNC_CODES:
        if issubclass(cls, known):
            return code
    return exits.code_for_class(cls)


def exit_code(error: BaseException) -> int:
    """The exit code of an error of a sync."""
    if isinstance(error, CliError):
        return error.code
    if isinstance(error, DouyinError):
        return _code_of(type(error))
    return exits.INTERNAL


#: The same codes by class name, as a queue records a unit's error (others: API).
BY_NAME: dict[str, int] = {cls.__name__: _code_of(cls) for cls in (
    *(known for known, _ in _SYNC_CODES), *exits.CODED_ERRORS)}

__all__ = ["BY_NAME", "exit_code"]

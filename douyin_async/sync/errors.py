"""The errors of a sync, in the client's hierarchy: a destination that cannot be used, a
state that does not fit the run, another sync holding the destination."""

from __future__ import annotations

from ..errors import DouyinError


class SyncError(DouyinError):
    """A sync could not run or finish; `destination` names where it loads (never a
    password: URLs are shown without theirs)."""

    def __init__(self, message: str, *, destination: str = "") -> None:
        super().__init__(message)
        self.destination = destination


class DestinationError(SyncError):
    """The destination cannot be opened, read or written (a file, a database, a table of
    other columns)."""


class StateConflictError(SyncError):
    """The destination's sync state does not fit this run: other query options, another
    server or app, or no state where one is needed (a first sync without a start day)."""


class SyncLockedError(SyncError):
    """Another sync holds the destination."""


__all__ = ["DestinationError", "StateConflictError", "SyncError", "SyncLockedError"]

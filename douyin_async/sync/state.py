"""The sync state a destination keeps beside its data, and the days a run loads.

The state of one table: the query options, the server and the app it loads from (never a
secret), the days loaded (when, how many records), and an unfinished backfill. A day is
recorded in the same transaction (or, for Parquet, just after the rename) that replaces its
rows, so the state never claims a day the table does not hold in full.

[`plan_days`][douyin_async.sync.state.plan_days] is the one rule of which days a run loads:
a backfill (`since`, optional `until`) loads exactly its days, skipping those a killed run of
the same backfill already loaded; a later run loads each day after the last one loaded up to
yesterday (Beijing) and loads the `lookback` days before them again; a run with nothing new
loads nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from .errors import StateConflictError


@attrs.define
class DayEntry:
    """One loaded day: when it was loaded (ISO 8601, UTC) and its record count."""

    loaded_at: str
    records: int


@attrs.define
class SyncState:
    """What a destination knows of one table's syncs."""

    table: str
    options: dict[str, Any]
    server: str
    app: str
    days: dict[dt.date, DayEntry] = attrs.Factory(dict)
    #: An unfinished backfill: `since`, `until` (ISO days) and `started` (ISO moment).
    pending: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        """The state as JSON-ready values."""
        return {"table": self.table, "options": self.options, "server": self.server,
                "app": self.app, "pending": self.pending,
                "days": {d.isoformat(): attrs.asdict(e) for d, e in sorted(self.days.items())}}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> SyncState:
        """The state of [`to_json`][douyin_async.sync.state.SyncState.to_json]'s values."""
        days = {dt.date.fromisoformat(d): DayEntry(**e) for d, e in value["days"].items()}
        return cls(table=value["table"], options=value["options"], server=value["server"],
                   app=value["app"], days=days, pending=value.get("pending"))


def differences(state: SyncState, options: dict[str, Any], server: str, app: str) -> list[str]:
    """What differs between a stored state and this run, one phrase each."""
    found = [f"{name}: {before!r} then, {now!r} now"
             for name in sorted(set(state.options) | set(options))
             if (before := state.options.get(name)) != (now := options.get(name))]
    if state.server != server:
        found.append(f"server: {state.server!r} then, {server!r} now")
    if state.app != app:
        found.append(f"app: {state.app!r} then, {app!r} now")
    return found


def day_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """The days from `first` to `last`, both included."""
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


@attrs.frozen
class DayPlan:
    """The days a run loads: `new` ones and `again` (look-back or redone), in order, and
    the backfill it runs (None for a daily run)."""

    new: tuple[dt.date, ...]
    again: tuple[dt.date, ...]
    backfill: dict[str, str] | None = None

    @property
    def days(self) -> list[dt.date]:
        """Every day to load, in order."""
        return sorted({*self.new, *self.again})


def plan_days(state: SyncState | None, *, yesterday: dt.date, since: dt.date | None,
              until: dt.date | None, lookback: int, started: str) -> DayPlan:
    """The days a run loads (see the module's rule). `started` is the run's start (ISO),
    recorded with a backfill so that its re-run can tell the days it loaded."""
    loaded = state.days if state is not None else {}
    if since is not None:
        last = until or max(since, yesterday)
        if last < since:
            raise StateConflictError(f"--until {last} is before --since {since}")
        if last > yesterday:
            raise StateConflictError(f"{last} is not over yet: the last day a sync can load "
                                     f"is yesterday, {yesterday} (Beijing time)")
        backfill = {"since": since.isoformat(), "until": last.isoformat(), "started": started}
        pending = state.pending if state is not None else None
        done: set[dt.date] = set()
        if pending and (pending["since"], pending["until"]) == (backfill["since"],
                                                                backfill["until"]):
            backfill = pending  # a killed backfill, again: keep what it loaded
            done = {d for d, e in loaded.items() if e.loaded_at >= pending["started"]}
        todo = [d for d in day_range(since, last) if d not in done]
        return DayPlan(tuple(d for d in todo if d not in loaded),
                       tuple(d for d in todo if d in loaded), backfill)
    if not loaded:
        raise StateConflictError("nothing loaded yet: the first sync needs --since DATE")
    last_loaded = max(loaded)
    if last_loaded >= yesterday:
        return DayPlan((), ())
    new = day_range(last_loaded + dt.timedelta(days=1), yesterday)
    again = [d for d in day_range(last_loaded - dt.timedelta(days=lookback - 1), last_loaded)
             if d in loaded] if lookback > 0 else []
    return DayPlan(tuple(new), tuple(again))


__all__ = ["DayEntry", "DayPlan", "SyncState", "day_range", "differences", "plan_days"]

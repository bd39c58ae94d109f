"""Running a sync: the days to load, pulled concurrently, each replaced atomically.

[`SyncRun`][douyin_async.sync.runner.SyncRun] holds the destination for the whole run
(a second sync is refused, or waits), reads the table's state, refuses other query options,
server or app than the state's (unless `force`, which starts over), plans the days
([`plan_days`][douyin_async.sync.state.plan_days]) and loads them: `days_at_once` days are
pulled at once with the one client (a task-video day's windows all at once too), each page's
rows are written to its day's new version as they come, and a day is committed when its last
page is in. Destination work runs on one thread, so the event loop keeps the requests going.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from typing import Any, Protocol, TypeVar

import attrs

from ..api.merge import merge
from ..client import DouyinClient
from ..days import beijing_day
from ..errors import InvalidParameterError
from .destination import DayLoad, Destination
from .errors import DestinationError, StateConflictError
from .state import DayEntry, DayPlan, SyncState, differences, plan_days
from .units import Batch, Source

T = TypeVar("T")

#: Page writes handed to the writer thread and not yet done, at most.
WRITES_AHEAD = 2


class SyncProgress(Protocol):
    """What a run tells as it goes (the command's progress lines)."""

    def on_start(self, days: int) -> None:
        """The run loads `days` days (0: the server's data date, not known yet)."""

    def on_records(self, count: int) -> None:
        """Rows written to a day's new version."""

    def on_day(self, day: dt.date, records: int) -> None:
        """A day was committed."""


class _Quiet:
    def on_start(self, days: int) -> None:
        pass

    def on_records(self, count: int) -> None:
        pass

    def on_day(self, day: dt.date, records: int) -> None:
        pass


@attrs.frozen
class SyncPlan:
    """What a run would do: the days (new ones, ones loaded again) and a request floor."""

    table: str
    plan: DayPlan
    reset: bool
    state: SyncState | None

    @property
    def days(self) -> list[dt.date]:
        """Every day to load, in order."""
        return self.plan.days


@attrs.frozen
class SyncReport:
    """What a run did: the days committed and their records."""

    table: str
    days: dict[dt.date, int]
    #: Why nothing was loaded (None when the run loaded days).
    nothing: str | None = None

    @property
    def records(self) -> int:
        """Records loaded in all."""
        return sum(self.days.values())


def _iso_now(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="microseconds")


@attrs.define
class SyncRun:
    """One sync of one table into one destination (see the module)."""

    client: DouyinClient
    destination: Destination
    source: Source
    #: The server and app the data comes from, as the state records them (no secret).
    server: str
    app: str
    since: dt.date | None = None
    until: dt.date | None = None
    lookback: int = 3
    force: bool = False
    wait: bool = False
    clock: Callable[[], float] = time.time
    days_at_once: int = 3
    progress: SyncProgress = attrs.Factory(_Quiet)
    _writer: ThreadPoolExecutor | None = attrs.field(default=None, init=False)

    def plan(self, state: SyncState | None) -> SyncPlan:
        """The days this run loads, given the destination's `state`; refuses a state of
        other options, server or app unless `force`."""
        table = self.source.table.name
        if self.lookback < 0:
            raise InvalidParameterError(f"--lookback must be 0 or more, got {self.lookback}")
        reset = False
        if state is not None:
            found = differences(state, self.source.options(), self.server, self.app)
            if found and not self.force:
                raise StateConflictError(
                    f"{self.destination.shown} holds a {table} sync of other options ("
                    + "; ".join(found) + "); use --force to start over",
                    destination=self.destination.shown)
            reset = self.force
        elif self.force:
            reset = True
        if reset:
            state = None
        now = self.clock()
        if not self.source.dated:  # the server's data date: one snapshot a run
            if self.since is not None or self.until is not None:
                raise InvalidParameterError(
                    f"{table} has no day to ask for: the server answers its current data "
                    "date; leave out --since and --until")
            return SyncPlan(table, DayPlan((), ()), reset, state)
        yesterday = beijing_day(now) - dt.timedelta(days=1)
        days = plan_days(state, yesterday=yesterday, since=self.since, until=self.until,
                         lookback=self.lookback, started=_iso_now(now))
        return SyncPlan(table, days, reset, state)

    async def _do(self, call: Callable[..., T], *args: Any) -> T:
        return await self._future(call, *args)

    async def dry_run(self) -> SyncPlan:
        """The plan, from the destination's state as it is now (nothing is locked or
        written)."""
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="douyin-sync")
        try:
            return self.plan(await self._do(self.destination.read_state))
        finally:
            await self._do(self.destination.close)
            self._writer.shutdown()

    async def run(self) -> SyncReport:
        """Load the planned days; raises on the first failure, leaving every day that was
        not committed as it was."""
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="douyin-sync")
        try:
            await self._do(self.destination.lock, self.wait)
            plan = self.plan(await self._do(self.destination.read_state))
            if self.source.dated and not plan.days:
                return await self._nothing(plan)
            previous = plan.state.days if plan.state is not None else {}
            state = SyncState(plan.table, self.source.options(), self.server, self.app,
                              dict(previous), plan.plan.backfill)
            await self._do(self.destination.begin, state, plan.reset)
            self.progress.on_start(len(plan.days))
            done = await self._load(state, plan.days)
            state.pending = None
            await self._do(self.destination.finish, state)
            return SyncReport(plan.table, done)
        finally:
            await self._do(self.destination.close)
            self._writer.shutdown()

    async def prepare(self) -> SyncPlan:
        """Plan the run and record it (its backfill mark) in the destination, under the
        lock, without loading a day: the units of the plan are then loaded one by one,
        by [`load_units`][douyin_async.sync.runner.SyncRun.load_units]."""
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="douyin-sync")
        try:
            await self._do(self.destination.lock, self.wait)
            plan = self.plan(await self._do(self.destination.read_state))
            previous = plan.state.days if plan.state is not None else {}
            state = SyncState(plan.table, self.source.options(), self.server, self.app,
                              dict(previous), plan.plan.backfill)
            await self._do(self.destination.begin, state, plan.reset)
            return plan
        finally:
            await self._do(self.destination.close)
            self._writer.shutdown()

    async def load_units(self, days: list[dt.date], started: str) -> dict[dt.date, int]:
        """Load `days` (none: the server's data date) without the run's lock, skipping the
        days committed at or after `started` (ISO): a unit loaded again after its commit
        leaves the destination as it is. The records of each day, loaded now or before."""
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="douyin-sync")
        try:
            state = await self._do(self.destination.read_state)
            if state is None:
                shown = self.destination.shown
                raise StateConflictError(f"{shown} holds no {self.source.table.name} sync: the "
                                         "run that planned this unit was removed",
                                         destination=shown)
            fresh = {d: e.records for d, e in state.days.items() if e.loaded_at >= started}
            todo = [d for d in days if d not in fresh]
            if (days and not todo) or (not days and fresh):
                return {d: fresh[d] for d in days} if days else fresh  # loaded already
            return await self._load(state, todo)
        finally:
            await self._do(self.destination.close)
            self._writer.shutdown()

    async def finish(self) -> None:
        """Record the end of a run whose units were loaded one by one."""
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="douyin-sync")
        try:
            state = await self._do(self.destination.read_state)
            if state is not None and state.pending is not None:
                state.pending = None
                await self._do(self.destination.finish, state)
        finally:
            await self._do(self.destination.close)
            self._writer.shutdown()

    async def _nothing(self, plan: SyncPlan) -> SyncReport:
        """The report of a run with no day to load (a backfill whose days were all loaded
        by its stopped run is over: its mark is removed)."""
        assert plan.state is not None
        backfill = plan.plan.backfill
        if backfill is None:
            return SyncReport(plan.table, {}, f"nothing new: {plan.table} holds every day up "
                              f"to {max(plan.state.days)} (yesterday, Beijing time)")
        plan.state.pending = None
        await self._do(self.destination.finish, plan.state)
        return SyncReport(plan.table, {}, f"nothing to do: {plan.table} holds every day from "
                          f"{backfill['since']} to {backfill['until']}")

    async def _load(self, state: SyncState, days: list[dt.date]) -> dict[dt.date, int]:
        streams = self.source.streams(self.client, days, self.clock)
        loads: dict[dt.date, DayLoad] = {}
        counts: dict[dt.date, int] = {}
        done: dict[dt.date, int] = {}

        todo = iter(streams)

        async def worker(put: Callable[[Batch], Any]) -> None:
            for stream in todo:  # the next day, when this worker's day is in
                async with aclosing(stream()) as batches:
                    async for batch in batches:
                        await put(batch)

        workers = [worker] * min(self.days_at_once, len(streams))
        writing: deque[asyncio.Future[tuple[dt.date, int]]] = deque()
        try:
            async with aclosing(merge(workers, buffer=max(2, self.days_at_once))) as batches:
                async for batch in batches:
                    load = loads.get(batch.day)
                    if load is None:
                        load = loads[batch.day] = await self._do(self.destination.open_day,
                                                                 batch.day)
                        counts[batch.day] = 0
                    if batch.records:
                        # the writer thread writes while the next pages come; the writes
                        # of a day run in order, before its commit
                        writing.append(self._future(_write, load, batch))
                        if len(writing) > WRITES_AHEAD:
                            self._written(await writing.popleft(), counts)
                    for day in batch.closes:
                        while writing:
                            self._written(await writing.popleft(), counts)
                        entry = DayEntry(_iso_now(self.clock()), counts[day])
                        await self._do(loads.pop(day).commit, entry)
                        state.days[day] = entry
                        done[day] = entry.records
                        self.progress.on_day(day, entry.records)
        finally:
            await asyncio.gather(*writing, return_exceptions=True)
            for load in loads.values():
                await self._do(load.abort)
        return done

    def _future(self, call: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        assert self._writer is not None
        shown = self.destination.shown

        def guarded() -> T:
            try:
                return call(*args)
            except Exception as exc:
                if not _is_storage_error(exc):
                    raise
                text = " ".join(str(exc).split()) or type(exc).__name__
                raise DestinationError(f"{shown}: {text}", destination=shown) from exc

        return asyncio.get_running_loop().run_in_executor(self._writer, guarded)

    def _written(self, done: tuple[dt.date, int], counts: dict[dt.date, int]) -> None:
        day, rows = done
        counts[day] += rows
        self.progress.on_records(rows)


def _is_storage_error(exc: Exception) -> bool:
    """An error of the destination's storage: the file system, SQLite, PostgreSQL, Arrow."""
    module = type(exc).__module__
    return isinstance(exc, OSError) or module.startswith(("sqlite3", "psycopg", "pyarrow"))


def _write(load: DayLoad, batch: Batch) -> tuple[dt.date, int]:
    rows = batch.rows()
    load.write(rows)
    return batch.day, len(rows)


__all__ = ["SyncPlan", "SyncProgress", "SyncReport", "SyncRun"]

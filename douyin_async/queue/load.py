"""Planning a run's units, and loading one unit as a local sync loads a day.

[`plan_units`][douyin_async.queue.load.plan_units] plans each app's days under the
destination's lock and records the run there (its backfill mark), as a local sync does before
its first day; [`load_unit`][douyin_async.queue.load.load_unit] loads one unit with
[`SyncRun.load_units`][douyin_async.sync.runner.SyncRun.load_units]: a day committed since the
run started is left as it is, so the destination's state decides whether a unit is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from ..auth import TokenProvider
from ..bills.hosts import server_host
from ..client import DouyinClient
from ..sync.runner import SyncRun, _iso_now
from ..sync.units import START_MARGIN, Source
from ..sync.urls import open_destination
from .units import Unit, app_table, check_tables, source_json, with_password, without_password


@attrs.frozen
class AppAccess:
    """One app as a process knows it: its credentials, rate and shared-quota name."""

    name: str
    token: str | TokenProvider = attrs.field(repr=False)
    rate: float
    quota: str
    #: The app as the destination's state records it (never a secret).
    label: str


#: The credentials of an app, by the name a unit carries and the server (raises when this
#: process does not know the app).
AccessOf = Callable[[str, str], AppAccess]


@attrs.frozen
class RunSpec:
    """What every unit of a run shares."""

    source: Source
    into: str
    base_url: str
    server: str
    since: Any = None
    until: Any = None
    lookback: int = 3
    force: bool = False
    wait: bool = False


async def plan_units(spec: RunSpec, apps: Sequence[AppAccess], run: str,
                     clock: Callable[[], float] = time.time) -> list[Unit]:
    """Plan and record each app's run; the units to load (app by app, day by day)."""
    check_tables(spec.source.table, [a.name for a in apps])
    moment = clock()
    started = _iso_now(moment)
    units = []
    async with DouyinClient("planning", base_url=spec.base_url, clock=clock) as client:
        for app in apps:
            table = app_table(spec.source.table, app.name)
            runner = SyncRun(client, open_destination(spec.into, table), spec.source,
                             server=spec.server, app=app.label, since=spec.since,
                             until=spec.until, lookback=spec.lookback, force=spec.force,
                             wait=spec.wait, clock=lambda: moment)
            plan = await runner.prepare()
            spec.source.streams(client, plan.days, lambda: moment)  # every day checked now
            days: list[str | None] = [d.isoformat() for d in plan.days] \
                if spec.source.dated else [None]
            units += [Unit(run=run, app=app.name, day=day, source=source_json(spec.source),
                           into=without_password(spec.into), base_url=spec.base_url,
                           server=spec.server, app_label=app.label, moment=moment,
                           started=started, rate=app.rate) for day in days]
    return units


async def finish_apps(spec: RunSpec, apps: Sequence[AppAccess]) -> None:
    """Record the end of each app's run (its backfill mark removed)."""
    async with DouyinClient("planning", base_url=spec.base_url) as client:
        for app in apps:
            table = app_table(spec.source.table, app.name)
            await SyncRun(client, open_destination(spec.into, table), spec.source,
                          server=spec.server, app=app.label).finish()


def unit_clock(unit: Unit, now: float) -> float:
    """The moment a unit asks as of: its run's, while that is fresh enough for the API's age
    rule (then every attempt asks the same windows), else now."""
    return unit.moment if 0 <= now - unit.moment <= START_MARGIN / 2 else now


async def load_unit(unit: Unit, access: AppAccess, *, into: str | None = None,
                    limiter: Any = None,
                    clock: Callable[[], float] = time.time) -> tuple[int, int]:
    """Load one unit; its records and the requests sent. `into` is this process's own
    destination URL (with its password), used when it names the unit's destination."""
    moment = unit_clock(unit, clock())
    frozen: Callable[[], float] = lambda: moment  # noqa: E731
    source = _source(unit)
    destination = open_destination(with_password(unit.into, into), unit.table)
    async with DouyinClient(access.token, base_url=unit.base_url, rate_limit=access.rate,
                            limiter=limiter, clock=frozen,
                            bill_hosts_allowed=server_host(unit.base_url)) as client:
        runner = SyncRun(client, destination, source, server=unit.server,
                         app=unit.app_label, clock=frozen)
        done = await runner.load_units(unit.days, unit.started)
        return sum(done.values()), client.stats.requests


def _source(unit: Unit) -> Source:
    from .units import source_of

    return source_of(unit.source)


__all__ = ["AccessOf", "AppAccess", "RunSpec", "finish_apps", "load_unit", "plan_units",
           "unit_clock"]

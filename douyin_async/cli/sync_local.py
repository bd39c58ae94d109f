"""``sync ... --processes N``: the apps of a sync over N local processes (see
[`douyin_async.queue.local`][douyin_async.queue.local]). A process reads the apps' credentials
itself (the apps file, the environment); it is handed names only."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import attrs

from ..bills.hosts import server_host
from ..client import DouyinClient
from ..queue.load import RunSpec
from ..queue.local import run_groups, spread_apps
from ..queue.units import app_table
from ..sync import SyncRun, open_destination
from . import exits
from .sync_exits import BY_NAME

#: The options a process needs (no secret: the credentials are read again).
_KEYS = ("apps_file", "access_token_file", "rate_limit", "redis_url", "days_at_once",
         "max_concurrency", "timeout", "max_retries")


@attrs.frozen
class Group:
    """The apps of one process, and what it needs to load them."""

    spec: RunSpec
    apps: tuple[str, ...]
    options: dict[str, Any]
    sandbox_token: str | None


def load_group(group: Group) -> list[tuple[str, int, str | None, str | None]]:
    """Load each app of `group` in turn (in a process of the pool): (app, records, error
    class, message) each."""
    return asyncio.run(_group(group))


async def _group(group: Group) -> list[tuple[str, int, str | None, str | None]]:
    from .queue_access import accesses, limiters

    o, spec = group.options, group.spec
    known = {a.name: a for a in accesses(o["apps_file"], o["access_token_file"],
                                         o["rate_limit"], spec.base_url, group.sandbox_token)}
    redis = None
    if o["redis_url"]:
        from .shared_quota import open_redis

        redis = await open_redis(o["redis_url"])
    limiter = limiters(redis)
    out: list[tuple[str, int, str | None, str | None]] = []
    try:
        for name in group.apps:
            app = known[name]
            try:
                async with DouyinClient(app.token, base_url=spec.base_url, rate_limit=app.rate,
                                        limiter=limiter(app.quota, app.rate),
                                        max_concurrency=o["max_concurrency"],
                                        timeout=o["timeout"], max_retries=o["max_retries"],
                                        bill_hosts_allowed=server_host(spec.base_url)) as client:
                    run = SyncRun(client, open_destination(spec.into, app_table(
                        spec.source.table, name)), spec.source, server=spec.server,
                        app=app.label, since=spec.since, until=spec.until,
                        lookback=spec.lookback, force=spec.force, wait=spec.wait,
                        days_at_once=o["days_at_once"])
                    out.append((name, (await run.run()).records, None, None))
            except Exception as exc:  # reported by the parent, one line per app
                out.append((name, 0, type(exc).__name__,
                            " ".join(str(exc).split()) or type(exc).__name__))
    finally:
        if redis is not None:
            try:
                await limiter.aclose()
            finally:
                await redis.aclose()
    return out


async def run_processes(spec: RunSpec, apps: list[str], opts: dict[str, Any],
                        sandbox_token: str | None) -> int:
    """Load `apps` over `--processes` processes; the exit status."""
    options = {key: opts[key] for key in _KEYS}
    if spec.into.startswith("sqlite:"):  # one lock per SQLite file: the processes take turns
        spec = attrs.evolve(spec, wait=True)
    groups = [Group(spec, tuple(g), options, sandbox_token)
              for g in spread_apps(apps, opts["processes"] or 1)]
    results = [r for done in await run_groups(load_group, groups) for r in done]
    code = exits.OK
    for name, records, kind, message in results:
        shown = name or "app"
        if kind is None:
            if not opts["quiet"]:
                sys.stderr.write(f"douyin-async sync: {shown}: {records:,} records\n")
        else:
            sys.stderr.write(f"douyin-async sync: error: {shown}: {message}\n")
            code = code or BY_NAME.get(kind, exits.API)
    return code


__all__ = ["Group", "load_group", "run_processes"]

"""``sync ... --queue URL`` and ``sync ... --processes N``: one sync spread over workers.

With `--queue`, the run's units (app x day) are planned and recorded in the destination as a
local sync records them, enqueued as procrastinate jobs, and followed to their end (unless
`--detach`): the exit status is the local sync's, or that of the first unit that failed for
good. With `--processes N`, N local processes share the apps (each app in exactly one
process, so its quota stays in one limiter, unless `--redis-url` shares it). With `--apps`,
each app loads into its own table (`task_videos_shop_a`).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import click

from ..queue.load import AppAccess, RunSpec, finish_apps, plan_units
from . import exits
from .exits import CliError
from .spec import SandboxOptions
from .sync_exits import BY_NAME
from .sync_local import run_processes


def spread_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of a spread sync."""
    options = [
        click.option("--queue", "queue_url", metavar="URL",
                     help="enqueue the run's units in this PostgreSQL for `douyin-async "
                          "worker`s, and follow them to the end"),
        click.option("--detach", is_flag=True, help="with --queue: enqueue and return"),
        click.option("--processes", type=click.IntRange(1), metavar="N",
                     help="load the apps in N local processes (no queue server)"),
        click.option("--apps", "apps_file", metavar="FILE",
                     help="many apps, each with its credentials and quota, each into its "
                          "own table"),
        click.option("--redis-url", metavar="URL",
                     help="with --processes: each app's quota kept in Redis"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@contextlib.asynccontextmanager
async def _server(opts: dict[str, Any]) -> AsyncIterator[tuple[str, str | None, str]]:
    """The server's URL, the embedded sandbox's token (if any), the server as recorded."""
    if not opts["sandbox"]:
        if not opts["base_url"]:
            raise CliError("no server: give --base-url (or set DOUYIN_BASE_URL), or --sandbox",
                           exits.USAGE)
        yield opts["base_url"], None, opts["base_url"].rstrip("/")
        return
    if opts["base_url"]:
        raise CliError("--sandbox and --base-url exclude each other", exits.USAGE)
    from .apps import load_apps
    from .embedded import embedded_sandbox

    apps = load_apps(opts["apps_file"]) if opts["apps_file"] else ()
    seed = opts["sandbox_seed"]
    options = SandboxOptions(latency=opts["sandbox_latency"], seed=seed,
                             realistic=opts["sandbox_realistic"])
    async with embedded_sandbox(options, apps) as (url, token):
        yield url, token, f"embedded sandbox (seed {'default' if seed is None else seed})"


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


async def spread(source: Any, opts: dict[str, Any], since: Any, until: Any) -> int:
    """Run the sync of `source` over a queue's workers or local processes."""
    from .queue_access import accesses

    if opts["queue_url"] and opts["processes"]:
        raise CliError("--queue and --processes exclude each other", exits.USAGE)
    if opts["detach"] and not opts["queue_url"]:
        raise CliError("--detach needs --queue", exits.USAGE)
    if opts["queue_url"] and not opts["into"].startswith(("postgresql://", "postgres://")):
        raise CliError("--queue loads into PostgreSQL only: its workers commit the days of one "
                       "table at once, which a file destination cannot take", exits.USAGE)
    async with _server(opts) as (url, token, server):
        apps = accesses(opts["apps_file"], opts["access_token_file"], opts["rate_limit"], url,
                        token)
        spec = RunSpec(source, opts["into"], url, server, since=since, until=until,
                       lookback=opts["lookback"], force=opts["force"], wait=opts["wait"])
        if not opts["queue_url"]:
            return await run_processes(spec, [a.name for a in apps], opts, token)
        return await _queued(spec, apps, opts)


async def _queued(spec: RunSpec, apps: list[AppAccess], opts: dict[str, Any]) -> int:
    from ..queue.jobs import enqueue, ensure_schema, new_run_queue, queue_app
    from ..queue.worker import follow

    queue_url = opts["queue_url"]
    await ensure_schema(queue_url)
    run = new_run_queue()
    units = await plan_units(spec, apps, run)
    app = queue_app(queue_url)
    async with app.open_async():
        await enqueue(app, run, units)
        quiet = opts["quiet"]
        if not quiet:
            _say(f"douyin-async sync: {len(units)} unit(s) of {len(apps)} app(s) queued as "
                 f"{run}")
        if opts["detach"]:
            sys.stdout.write(f"{run}\n")
            return exits.OK
        shown: list[tuple[int, int, int]] = []

        def seen(counts: Any) -> None:
            now = (counts["done"], counts["failed"], counts["running"])
            if not quiet and (not shown or shown[-1] != now):
                shown.append(now)
                _say(f"units: {counts['done']} done, {counts['failed']} failed, "
                     f"{counts['running']} running, {counts['queued']} queued; "
                     f"{counts.records:,} records")

        started = time.monotonic()
        counts = await follow(app, run, seen)
    failed_apps = {e[0] for e in counts.errors}
    await finish_apps(spec, [a for a in apps if a.name not in failed_apps])
    for app_name, day, _kind, message in counts.errors:
        _say(f"douyin-async sync: error: unit {app_name or 'app'} {day or 'current'}: "
             f"{message}")
    if not quiet:
        _say(f"douyin-async sync: {counts['done']} unit(s) loaded, {counts['failed']} failed, "
             f"{counts.records:,} records in {time.monotonic() - started:.1f}s")
    if counts["failed"]:
        kinds = [e[2] for e in counts.errors]
        return BY_NAME.get(kinds[0], exits.API) if kinds else exits.API
    return exits.OK


def is_spread(opts: dict[str, Any]) -> bool:
    """Whether the options ask for a spread sync."""
    return bool(opts.get("queue_url") or opts.get("processes") or opts.get("apps_file"))


__all__ = ["is_spread", "spread", "spread_options"]

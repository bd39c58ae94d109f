"""``douyin-async worker``: take the units of spread syncs from a queue until stopped.

    douyin-async worker --queue postgresql://etl@db/warehouse --apps apps.toml \
        --redis-url redis://quota-host/0

Each unit is loaded exactly as a local sync loads a day (see
[`douyin_async.queue`][douyin_async.queue]). SIGTERM or Ctrl-C: the current unit is finished
(or, after `--stop-timeout` seconds, abandoned and put back in the queue), then the worker
ends with 0.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import click

from . import exits
from .exits import CliError

PROG = "douyin-async worker"


@click.command("worker")
@click.option("--queue", "queue_url", required=True, envvar="DOUYIN_QUEUE_URL", metavar="URL",
              help="the PostgreSQL holding the queue (or $DOUYIN_QUEUE_URL)")
@click.option("--apps", "apps_file", metavar="FILE",
              help="the apps whose units this worker loads, with their credentials")
@click.option("--access-token-file", metavar="FILE",
              help="without --apps: a file holding the access token (else the environment)")
@click.option("--into", metavar="URL",
              help="the destination with its password, for units that name it without")
@click.option("--rate-limit", type=click.FloatRange(min=0, min_open=True), default=10.0,
              show_default=True, help="requests per second of an app without its own rate")
@click.option("--redis-url", metavar="URL",
              help="keep each app's quota in Redis, shared with every worker")
@click.option("--concurrency", type=click.IntRange(1), default=1, show_default=True,
              help="units loaded at once")
@click.option("--heartbeat", type=click.FloatRange(min=0, min_open=True), default=10.0,
              show_default=True, help="seconds between heartbeats")
@click.option("--stalled-after", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True,
              help="seconds without a heartbeat before a worker's units are taken again")
@click.option("--stalled-check", type=click.IntRange(1, 59), default=5, show_default=True,
              help="seconds between checks for such units")
@click.option("--attempts", type=click.IntRange(1), default=5, show_default=True,
              help="attempts at a unit failing for a transient reason")
@click.option("--stop-timeout", type=click.FloatRange(0), metavar="SECONDS",
              help="on SIGTERM, abandon the current unit after this long (default: finish)")
@click.option("--verbose", "-v", is_flag=True, help="log each unit")
def worker(queue_url: str, apps_file: str | None, access_token_file: str | None,
           into: str | None, rate_limit: float, redis_url: str | None, concurrency: int,
           heartbeat: float, stalled_after: float, stalled_check: int, attempts: int,
           stop_timeout: float | None, verbose: bool) -> None:
    """Take units of spread syncs from the queue and load them, until stopped."""
    from ..queue.worker import WorkerSettings

    settings = WorkerSettings(concurrency=concurrency, attempts=attempts, heartbeat=heartbeat,
                              stalled_after=stalled_after, stalled_check=stalled_check,
                              stop_timeout=stop_timeout, into=into)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    try:
        asyncio.run(_work(queue_url, apps_file, access_token_file, rate_limit, redis_url,
                          settings))
        code = exits.OK
    except KeyboardInterrupt:
        code = exits.OK
    except CliError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        code = exc.code
    except Exception as exc:  # one line, never a traceback
        from .sync_exits import exit_code

        sys.stderr.write(f"{PROG}: error: {' '.join(str(exc).split()) or type(exc).__name__}\n")
        code = exit_code(exc)
    raise SystemExit(code)


async def _work(queue_url: str, apps_file: str | None, token_file: str | None, rate: float,
                redis_url: str | None, settings: Any) -> None:
    from ..queue.jobs import ensure_schema
    from ..queue.worker import run_worker, worker_app
    from .queue_access import limiters, resolver

    redis = None
    if redis_url is not None:
        from .shared_quota import open_redis

        redis = await open_redis(redis_url)
    await ensure_schema(queue_url)
    shared = limiters(redis)  # without Redis, none: each client paces itself
    app = worker_app(queue_url, resolver(apps_file, token_file, rate), settings, shared)
    try:
        await run_worker(app, settings)
    finally:
        try:
            await shared.aclose()
        finally:
            if redis is not None:
                await redis.aclose()


if __name__ == "__main__":  # pragma: no cover - the subprocess tests' entry
    worker(prog_name=PROG)

"""``douyin-async sync``: daily loads of task videos, talent media or bills into PostgreSQL,
a Parquet dataset or SQLite (see [`douyin_async.sync`][douyin_async.sync]).

    douyin-async sync task-videos  --into postgresql://etl@db/warehouse --since 2026-11-01
    douyin-async sync talent-media --into file:///data/douyin/ --plan-id 7089... --douyin-id dy1
    douyin-async sync bills        --into sqlite:///bills.sqlite --since -30d --live

`--since` is needed once; each later run loads the days after the last one loaded up to
yesterday (Beijing time) and loads the last `--lookback` days again. `--since A --until B`
loads exactly those days. Errors are one line on stderr, with the exit codes of `pull`
([`EXIT_CODES`][douyin_async.cli.exits.EXIT_CODES]).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import click

from ..bills.hosts import server_host
from ..client import DouyinClient
from ..days import beijing_day
from ..errors import DouyinError, InvalidParameterError
from ..sync import (
    BillSource,
    SyncRun,
    TalentMediaSource,
    TaskVideoSource,
    open_destination,
)
from ..sync.units import Source
from . import exits
from .dates import parse_day
from .exits import CliError
from .spec import SandboxOptions, read_ids_file
from .sync_exits import exit_code
from .sync_spread import is_spread, spread, spread_options
from .terminal.sync_progress import SyncLines, plan_lines

PROG = "douyin-async sync"


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every ``sync`` subcommand has."""
    options = [
        click.option("--into", required=True, metavar="URL",
                     help="postgresql://..., sqlite:///FILE, or a Parquet dataset root "
                          "(file:///DIR/ or a path)"),
        click.option("--since", metavar="DATE",
                     help="first day to load (YYYY-MM-DD, yesterday or -Nd; Beijing days); "
                          "needed by the first sync"),
        click.option("--until", metavar="DATE",
                     help="with --since: the last day of a backfill (default: yesterday)"),
        click.option("--lookback", type=click.IntRange(0), default=3, show_default=True,
                     help="days before the new ones loaded again (late data)"),
        click.option("--force", is_flag=True,
                     help="start over: remove the table's rows and state first"),
        click.option("--wait", is_flag=True, help="wait for another sync of the destination"),
        click.option("--dry-run", is_flag=True, help="print the days and requests, load none"),
        click.option("--quiet", "-q", is_flag=True, help="no progress, no summary"),
        click.option("--days-at-once", type=click.IntRange(1), default=3, show_default=True,
                     help="days pulled at once"),
        click.option("--base-url", envvar="DOUYIN_BASE_URL", metavar="URL",
                     help="the API server (or $DOUYIN_BASE_URL)"),
        click.option("--access-token-file", metavar="FILE",
                     help="a file holding the access token (else the environment)"),
        click.option("--rate-limit", type=click.FloatRange(min=0, min_open=True), default=10.0,
                     show_default=True, help="requests per second"),
        click.option("--max-concurrency", type=click.IntRange(1), default=10, show_default=True),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0,
                     show_default=True, help="seconds per request"),
        click.option("--max-retries", type=click.IntRange(0), default=5, show_default=True),
        click.option("--sandbox", is_flag=True, help="load from an embedded sandbox server"),
        click.option("--sandbox-seed", type=int, help="the sandbox's seed"),
        click.option("--sandbox-realistic", is_flag=True, help="the sandbox's realistic profile"),
        click.option("--sandbox-latency", type=click.FloatRange(0), help="sandbox answer delay"),
    ]
    for option in reversed(options):
        command = option(command)
    return spread_options(command)


@click.group(name="sync", short_help="Load Beijing days into PostgreSQL, Parquet or SQLite.")
def sync() -> None:
    """Load promotion data into PostgreSQL, Parquet or SQLite, a Beijing day at a time: each
    day replaced in one step, the state kept in the destination."""


@sync.command("task-videos")
@_common
@click.option("--douyin-id", help="only this author's videos")
@click.option("--agency-client-key", help="only this agency's authors")
@click.option("--page-size", type=click.IntRange(1, 10_000), default=10_000, show_default=True)
def task_videos(douyin_id: str | None, agency_client_key: str | None, page_size: int,
                **common: Any) -> None:
    """Task videos of each billing date: every video the API lets one ask about."""
    _main(lambda: TaskVideoSource(douyin_id, agency_client_key, page_size), common, page_size)


@sync.command("talent-media")
@_common
@click.option("--plan-id", type=click.IntRange(1), required=True, help="commission plan")
@click.option("--douyin-id", "douyin_ids", multiple=True, help="a talent (repeatable)")
@click.option("--douyin-ids-file", metavar="FILE", help="talents, one per line")
@click.option("--content-type", type=click.Choice(["1", "2", "3"]), default="3",
              show_default=True, help="1 short videos, 2 live rooms, 3 both")
@click.option("--page-size", type=click.IntRange(1, 100), default=100, show_default=True)
def talent_media(plan_id: int, douyin_ids: tuple[str, ...], douyin_ids_file: str | None,
                 content_type: str, page_size: int, **common: Any) -> None:
    """Talent media of a plan at the server's current data date (rows carry that date)."""
    def source() -> Source:
        talents = list(douyin_ids) + (read_ids_file(douyin_ids_file) if douyin_ids_file
                                      else [])
        if not talents:
            raise CliError("give at least one talent: --douyin-id or --douyin-ids-file",
                           exits.USAGE)
        return TalentMediaSource(plan_id, tuple(dict.fromkeys(talents)), int(content_type),
                                 page_size)

    _main(source, common, None)


@sync.command("bills")
@_common
@click.option("--agency", is_flag=True, help="the agency's bill files")
@click.option("--live", is_flag=True, help="the live-room file of each day as well")
def bills(agency: bool, live: bool, **common: Any) -> None:
    """Bill files of each settlement date (video file; live-room file with --live)."""
    _main(lambda: BillSource(agency, live), common, None)


def _day(text: str | None, option: str, now: float) -> Any:
    return None if text is None else parse_day(text, option, beijing_day(now))


@contextlib.asynccontextmanager
async def _server(opts: dict[str, Any]) -> AsyncIterator[tuple[str, Any, str, str]]:
    """The server's URL, the token, and the server and app as the state records them."""
    if opts["sandbox"]:
        if opts["base_url"]:
            raise CliError("--sandbox and --base-url exclude each other", exits.USAGE)
        from .embedded import embedded_sandbox

        seed = opts["sandbox_seed"]
        options = SandboxOptions(latency=opts["sandbox_latency"], seed=seed,
                                 realistic=opts["sandbox_realistic"])
        async with embedded_sandbox(options) as (url, token):
            yield url, token, f"embedded sandbox (seed {'default' if seed is None else seed})", \
                "sandbox token"
        return
    if not opts["base_url"]:
        raise CliError("no server: give --base-url (or set DOUYIN_BASE_URL), or --sandbox",
                       exits.USAGE)
    from .credentials import token_source
    from .identity import _source

    access = token_source(opts["access_token_file"], opts["base_url"])
    yield opts["base_url"], access, opts["base_url"].rstrip("/"), \
        _source(access, opts["access_token_file"])


async def _sync(source: Source, opts: dict[str, Any], page_size: int | None) -> int:
    now = time.time()
    since, until = _day(opts["since"], "--since", now), _day(opts["until"], "--until", now)
    if until is not None and since is None:
        raise CliError("--until needs --since", exits.USAGE)
    if is_spread(opts):
        return await spread(source, opts, since, until)
    async with _server(opts) as (url, access, server, app):
        async with DouyinClient(access, base_url=url, rate_limit=opts["rate_limit"],
                                max_concurrency=opts["max_concurrency"],
                                timeout=opts["timeout"], max_retries=opts["max_retries"],
                                bill_hosts_allowed=server_host(url)) as client:
            live = sys.stderr.isatty()
            progress = SyncLines(sys.stderr, source.table.name, live=live,
                                 quiet=opts["quiet"])
            run = SyncRun(client, open_destination(opts["into"], source.table), source,
                          server=server, app=app, since=since, until=until,
                          lookback=opts["lookback"], force=opts["force"], wait=opts["wait"],
                          days_at_once=opts["days_at_once"], progress=progress)
            if opts["dry_run"]:
                plan = await run.dry_run()
                sys.stdout.write("".join(f"{line}\n" for line in
                                         plan_lines(run, plan, page_size)))
                return exits.OK
            ticker = asyncio.ensure_future(progress.run())
            try:
                report = await run.run()
            finally:
                ticker.cancel()
                await asyncio.gather(ticker, return_exceptions=True)
            progress.done(report, run.destination.shown)
    return exits.OK


def _say(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {' '.join(message.split())}\n")
    sys.stderr.flush()


async def _guarded(source: Source, opts: dict[str, Any], page_size: int | None) -> int:
    """The sync, cancelled by SIGTERM like Ctrl-C (every day not committed stays as it was)."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    terminated: list[bool] = []

    def on_term() -> None:
        terminated.append(True)
        task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, on_term)
    try:
        return await _sync(source, opts, page_size)
    except asyncio.CancelledError:
        if terminated:
            raise SystemExit(exits.TERMINATED) from None
        raise


def _main(source: Callable[[], Source], opts: dict[str, Any], page_size: int | None) -> None:
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # a parent's ignore stays
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = asyncio.run(_guarded(source(), opts, page_size))
    except SystemExit as stop:
        if stop.code == exits.TERMINATED:
            _say("terminated (SIGTERM): the days loaded are kept; run again to load the rest")
        raise
    except KeyboardInterrupt:
        _say("interrupted: the days loaded are kept; run again to load the rest")
        code = exits.INTERRUPTED
    except (CliError, DouyinError) as exc:
        if isinstance(exc, DouyinError) and not isinstance(exc, InvalidParameterError):
            from .terminal.messages import describe

            message = describe(exc, opts["base_url"])
        else:
            message = str(exc)
        _say(message)
        code = exit_code(exc)
    except OSError as exc:
        _say(f"{exc.strerror or exc}" + (f": {exc.filename!r}" if exc.filename else ""))
        code = exits.FILES
    except Exception as exc:  # one line, never a traceback
        _say(f"unexpected {type(exc).__name__}: {exc}")
        code = exits.INTERNAL
    raise SystemExit(code)


if __name__ == "__main__":  # pragma: no cover - the subprocess tests' entry
    sync(prog_name=PROG)

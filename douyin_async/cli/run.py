"""Running a pull: output, server, clients, pages written one by one, progress.

A pull runs one [`DouyinClient`][douyin_async.DouyinClient] per app (one app unless
``--apps``), all on one aiohttp session, each with its own limiter: paced in the process, or
with ``--redis-url`` a [`RedisRateLimiter`][douyin_async.pacing.redis_limiter.RedisRateLimiter]
shared with other processes. The pages of every app merge into the one output as they arrive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, aclosing
from typing import Any, TextIO

import aiohttp
import attrs

from ..api.merge import merge
from ..api.streams import unit_queries
from ..auth import TokenProvider
from ..client import DouyinClient
from ..errors import DouyinError, InvalidParameterError
from ..models import MAX_START_AGE_SECONDS, Page, Query, TalentMediaPage
from .credentials import app_token_source, quota_name, token_source
from .embedded import pull_server
from .exits import CONFLICT, USAGE, CliError, exit_code_for
from .identity import checkpoint_params
from .outputs.checkpoint import CheckpointState, describe_unit, unit_key
from .outputs.encoders import (
    Encoder,
    csv_encoder,
    csv_header,
    gzip_encoder,
    gzip_member,
    jsonl_encoder,
)
from .outputs.rejects import check_quarantine, page_rejects
from .outputs.rows import page_rows, table_for
from .outputs.sinks import FileOutput, Output, StdoutOutput, open_output
from .outputs.sqlite import SqliteOutput
from .shared_quota import open_redis, redis_limiter
from .spec import PullSpec
from .terminal.progress import Progress, Totals


def make_output(spec: PullSpec) -> Output:
    """The output a pull writes to, chosen by ``--out``."""
    table = table_for(spec.kind, apps=spec.apps is not None)
    if spec.out == "-":
        return StdoutOutput()
    if spec.fmt == "sqlite":
        return SqliteOutput(spec.out, table, spec.kind)
    if spec.fmt == "xlsx":
        from .outputs.xlsx import XlsxOutput

        return XlsxOutput(spec.out, table,
                          "split" if spec.xlsx_long_text == "split" else "fail")
    encode: Encoder = jsonl_encoder
    preamble = b""
    if spec.fmt.startswith("csv"):
        encode = csv_encoder(table, plain=spec.csv_plain)
        preamble = csv_header(table, plain=spec.csv_plain)
    if spec.fmt.endswith(".gz"):
        encode, preamble = gzip_encoder(encode), gzip_member(preamble)
    return FileOutput(spec.out, encode, preamble)


@attrs.define(eq=False)
class AppPull:
    """One app's part of a pull: its client and the units it still has to fetch."""

    #: The app's name; None for the one app of a pull without ``--apps``.
    name: str | None
    client: DouyinClient
    rate: float
    units: list[Query] = attrs.Factory(list)
    starts: dict[Query, int] = attrs.Factory(dict)

    def plan(self, queries: Sequence[Query], state: CheckpointState | None) -> None:
        """Cut the queries into units; on resume, note where each unit continues. The client
        checks the units still to fetch (finished ones are not asked again), each on its
        own, so one that has aged past the API's 90 days is named."""
        if state is None:
            self.units = self.client.units(queries)
            return
        self.units = unit_queries(queries)
        self.starts = {u: state.start_page(unit_key(u, self.name)) for u in self.units}
        for unit in self.pending:
            try:
                self.client.units([unit])
            except InvalidParameterError:
                oldest = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=MAX_START_AGE_SECONDS)
                raise CliError(
                    f"--resume: the unfinished unit {describe_unit(unit, self.name)} starts "
                    f"more than 90 days ago (limit: {oldest:%Y-%m-%d %H:%M:%S} UTC), past what "
                    "the API keeps; the units done so far are kept, but this one cannot be "
                    "completed: start a new pull with --force and a --published-from within "
                    "the last 90 days", USAGE) from None

    @property
    def pending(self) -> list[Query]:
        """The units with pages left to fetch."""
        return [u for u in self.units if self.starts.get(u, 1) >= 1]

    @property
    def units_done(self) -> int:
        """Units a resumed pull has nothing left of."""
        return sum(1 for start in self.starts.values() if start <= 0)


def _write(output: Output, page: Page, app: str | None,
           announced: dict[str, int]) -> tuple[str, int, int]:
    """Write one page; refuse a resumed talent-media unit whose record total changed since
    the interrupted run (its pages would not fit together)."""
    key = unit_key(page.query, app)
    total = page.total if isinstance(page, TalentMediaPage) else None
    before = announced.pop(key, None)
    if before is not None and total is not None and total != before:
        raise CliError(
            f"--resume: the server now counts {total:,} records for "
            f"{describe_unit(page.query, app)}, {before:,} when the interrupted run wrote its "
            "first pages; the data changed between the runs, so the pages would not fit "
            "together: start over with --force", CONFLICT)
    rows = page_rows(page, app)
    rejects = page_rejects(page, key, app)
    output.write_page(key, page.page, page.is_last, rows, rejects, total)
    return key, len(rows), len(rejects)


async def _clients(spec: PullSpec, stack: AsyncExitStack, url: str,
                   access: str | TokenProvider | None, session: aiohttp.ClientSession,
                   redis: Any) -> list[AppPull]:
    """One client per app on the shared session, each closed when ``stack`` unwinds."""
    if spec.apps is None:
        assert access is not None
        apps: list[tuple[str | None, str | TokenProvider, float, str | None]] = [
            (None, access, spec.rate_limit,
             await quota_name(access) if redis is not None else None)]
    else:
        apps = [(app.name, app_token_source(app, url, session), app.rate or spec.rate_limit,
                 app.quota_name) for app in spec.apps]
    pulls = []
    for name, source, rate, quota in apps:
        limiter = None
        if redis is not None:
            assert quota is not None
            limiter = redis_limiter(redis, quota, rate)
            stack.push_async_callback(limiter.aclose)
        collect: dict[str, Any] = ({"invalid_records": "collect"}
                                   if spec.on_invalid_record == "quarantine" else {})
        client = DouyinClient(source, base_url=url, rate_limit=rate, limiter=limiter,
                              session=session, max_concurrency=spec.max_concurrency,
                              timeout=spec.timeout, max_retries=spec.max_retries, **collect)
        stack.push_async_callback(client.close)
        pulls.append(AppPull(name, client, rate))
    return pulls


Put = Callable[[tuple[AppPull, Page]], Awaitable[None]]


async def merged_pages(pulls: Sequence[AppPull], progress: Progress
                       ) -> AsyncGenerator[tuple[AppPull, Page], None]:
    """The pages of every app as they arrive. The first error stops every app and is raised
    (with the app's name, in a pull of many apps)."""
    def feeder(pull: AppPull) -> Callable[[Put], Awaitable[None]]:
        async def feed(put: Put) -> None:
            try:
                async with aclosing(pull.client.pull(pull.pending,
                                                     start_pages=pull.starts)) as pages:
                    async for page in pages:
                        await put((pull, page))
            except DouyinError as exc:
                if pull.name is None:
                    raise
                raise CliError(f"app {pull.name!r}: {exc}", exit_code_for(exc)) from None
            if pull.name is not None:
                progress.app_done(pull.name)

        return feed

    async with aclosing(merge([feeder(p) for p in pulls], buffer=max(2, len(pulls)))) as merged:
        async for item in merged:
            yield item


async def run_pull(spec: PullSpec, stderr: TextIO | None = None) -> None:
    """Pull every page of ``spec`` into its output, resuming if asked.

    Raises [`DouyinError`][douyin_async.errors.DouyinError] for API failures (and Redis ones)
    and [`CliError`][douyin_async.cli.exits.CliError] for file and state problems; nothing is
    fetched when the output cannot be opened. Cancelling it (Ctrl-C, SIGTERM) lets the page
    being written finish, then closes the output and its checkpoint.
    """
    stderr = stderr or sys.stderr
    if spec.kind == "bills":
        from .bills import run_bills

        return await run_bills(spec, stderr, make_output)
    live = stderr.isatty() and not spec.log_json
    token = None  # resolved first: missing credentials fail before the output is touched
    if spec.apps is None and spec.sandbox is None and spec.base_url is not None:
        token = token_source(spec.access_token_file, spec.base_url)
    loop = asyncio.get_running_loop()
    # Unwound in reverse: clients and limiters, session, sandbox, writer, output, Redis.
    async with AsyncExitStack() as stack:
        redis = None
        if spec.redis_url is not None:  # checked before the output is touched
            redis = await open_redis(spec.redis_url)
            stack.push_async_callback(redis.aclose)
        units = len(unit_queries(spec.queries)) * (len(spec.apps) if spec.apps else 1)
        opened = open_output(stack, spec, make_output, checkpoint_params(spec, token), units,
                             stderr)
        if opened is None:
            return
        output, writer, state = opened
        announced = dict(state.announced) if state is not None else {}
        url, access = await stack.enter_async_context(pull_server(spec, token))
        connector = aiohttp.TCPConnector(
            limit=2 * spec.max_concurrency * (len(spec.apps) if spec.apps else 1))
        session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))
        pulls = await _clients(spec, stack, url, access, session, redis)
        for pull in pulls:
            pull.plan(spec.queries, state)
        named = {p.name: p.client.stats for p in pulls if p.name is not None}
        progress = Progress(
            pulls[0].client.stats if len(pulls) == 1 and not named
            else Totals([p.client.stats for p in pulls]),
            stderr, units_total=sum(len(p.units) for p in pulls),
            units_done=sum(p.units_done for p in pulls),
            rate_cap=sum(p.rate for p in pulls), live=live, quiet=spec.quiet,
            interval=spec.progress_interval, apps=named or None, out=spec.out,
            json=spec.log_json)
        progress.rejected = output.rejected
        ticker = asyncio.ensure_future(progress.run())
        try:
            async with aclosing(merged_pages(pulls, progress)) as pages:
                async for pull, page in pages:
                    key, count, refused = await loop.run_in_executor(
                        writer, _write, output, page, pull.name, announced)
                    progress.rejected += refused
                    total = page.page_count if isinstance(page, TalentMediaPage) else None
                    progress.on_page(key, page.page, count, page.is_last, total, pull.name)
            await loop.run_in_executor(writer, output.finish)
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            progress.clear()
        progress.report(stderr)
        check_quarantine(output.rejected, spec.out)

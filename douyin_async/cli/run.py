"""Running a pull: output, server, clients, pages written one by one, progress.

A pull runs one :class:`~douyin_async.DouyinClient` per app (one app unless ``--apps``), all
on one aiohttp session, each with its own limiter: paced in the process, or with
``--redis-url`` a :class:`~douyin_async.redis_limiter.RedisRateLimiter` shared with other
processes. The pages of every app merge into the one output as they arrive.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
from typing import Any, TextIO

import aiohttp
import attrs

from ..auth import TokenProvider
from ..client import DouyinClient
from ..errors import DouyinError
from ..models import Page, Query, TalentMediaPage
from ..pagination import merge
from .checkpoint import CheckpointState, unit_key
from .credentials import app_token_source, quota_name, token_source
from .embedded import embedded_sandbox
from .exits import CliError, exit_code_for
from .progress import Progress, Totals
from .rows import page_rows, table_for
from .shared_quota import open_redis, redis_limiter
from .sinks import FileOutput, Output, StdoutOutput, csv_encoder, csv_header, jsonl_encoder
from .spec import PullSpec
from .sqlite import SqliteOutput


def make_output(spec: PullSpec) -> Output:
    """The output a pull writes to, chosen by ``--out``."""
    table = table_for(spec.kind, apps=spec.apps is not None)
    if spec.out == "-":
        return StdoutOutput()
    if spec.fmt == "sqlite":
        return SqliteOutput(spec.out, table, spec.kind)
    if spec.fmt == "csv":
        return FileOutput(spec.out, csv_encoder(table), csv_header(table))
    return FileOutput(spec.out, jsonl_encoder)


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
        """Cut the queries into units; on resume, note where each unit continues."""
        self.units = self.client.units(queries)
        if state is not None:
            self.starts = {u: state.start_page(unit_key(u, self.name)) for u in self.units}

    @property
    def units_done(self) -> int:
        """Units a resumed pull has nothing left of."""
        return sum(1 for start in self.starts.values() if start <= 0)


@asynccontextmanager
async def _server(
    spec: PullSpec, token: str | TokenProvider | None
) -> AsyncIterator[tuple[str, str | TokenProvider | None]]:
    if spec.sandbox is not None:
        async with embedded_sandbox(spec.sandbox, spec.apps or ()) as (url, sandbox_token):
            yield url, sandbox_token
        return
    assert spec.base_url is not None
    yield spec.base_url, token


def _write(output: Output, page: Page, app: str | None) -> tuple[str, int]:
    rows = page_rows(page, app)
    key = unit_key(page.query, app)
    output.write_page(key, page.page, page.is_last, rows)
    return key, len(rows)


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
        client = DouyinClient(source, base_url=url, rate_limit=rate, limiter=limiter,
                              session=session, max_concurrency=spec.max_concurrency,
                              timeout=spec.timeout, max_retries=spec.max_retries)
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
                async with aclosing(pull.client.pull(pull.units,
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

    Raises :class:`~douyin_async.errors.DouyinError` for API failures (and Redis ones) and
    :class:`~.exits.CliError` for file and state problems; nothing is fetched when the output
    cannot be opened.
    """
    stderr = stderr or sys.stderr
    if spec.kind == "bills":
        from .bills import run_bills

        return await run_bills(spec, stderr)
    live = stderr.isatty()
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
        output = make_output(spec)
        stack.callback(output.close)
        writer = ThreadPoolExecutor(1, thread_name_prefix="douyin-writer")
        stack.callback(writer.shutdown, wait=True)
        state = output.open(spec.params, resume=spec.resume, force=spec.force)
        if state is not None and state.complete:
            if not spec.quiet:
                stderr.write(f"nothing to do: the pull into {spec.out} is already complete\n")
            return
        url, access = await stack.enter_async_context(_server(spec, token))
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
            interval=spec.progress_interval, apps=named or None)
        ticker = asyncio.ensure_future(progress.run())
        try:
            async with aclosing(merged_pages(pulls, progress)) as pages:
                async for pull, page in pages:
                    key, count = await loop.run_in_executor(writer, _write, output, page,
                                                            pull.name)
                    total = page.page_count if isinstance(page, TalentMediaPage) else None
                    progress.on_page(key, page.page, count, page.is_last, total, pull.name)
            await loop.run_in_executor(writer, output.finish)
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            progress.clear()
        if not spec.quiet:
            for line in progress.app_lines():
                stderr.write(line + "\n")
            stderr.write(progress.summary() + "\n")
            stderr.flush()

"""Running a pull: output, server, client, pages written one by one, progress."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
from typing import TextIO

from ..auth import TokenProvider
from ..client import DouyinClient
from ..models import Page, TalentMediaPage
from .checkpoint import unit_key
from .credentials import token_source
from .embedded import embedded_sandbox
from .progress import Progress
from .rows import page_rows, table_for
from .sinks import FileOutput, Output, StdoutOutput, csv_encoder, csv_header, jsonl_encoder
from .spec import PullSpec
from .sqlite import SqliteOutput


def make_output(spec: PullSpec) -> Output:
    """The output a pull writes to, chosen by ``--out``."""
    table = table_for(spec.kind)
    if spec.out == "-":
        return StdoutOutput()
    if spec.fmt == "sqlite":
        return SqliteOutput(spec.out, table, spec.kind)
    if spec.fmt == "csv":
        return FileOutput(spec.out, csv_encoder(table), csv_header(table))
    return FileOutput(spec.out, jsonl_encoder)


@asynccontextmanager
async def _server(
    spec: PullSpec, token: str | TokenProvider | None
) -> AsyncIterator[tuple[str, str | TokenProvider]]:
    if spec.sandbox is not None:
        async with embedded_sandbox(spec.sandbox) as (url, sandbox_token):
            yield url, sandbox_token
        return
    assert spec.base_url is not None and token is not None
    yield spec.base_url, token


def _write(output: Output, page: Page) -> tuple[str, int]:
    rows = page_rows(page)
    key = unit_key(page.query)
    output.write_page(key, page.page, page.is_last, rows)
    return key, len(rows)


async def run_pull(spec: PullSpec, stderr: TextIO | None = None) -> None:
    """Pull every page of ``spec`` into its output, resuming if asked.

    Raises :class:`~douyin_async.errors.DouyinError` for API failures and
    :class:`~.exits.CliError` for file and state problems; nothing is fetched when the output
    cannot be opened.
    """
    stderr = stderr or sys.stderr
    live = stderr.isatty()
    token = None  # resolved first: missing credentials fail before the output is touched
    if spec.sandbox is None and spec.base_url is not None:
        token = token_source(spec.access_token_file, spec.base_url)
    output = make_output(spec)
    writer = ThreadPoolExecutor(1, thread_name_prefix="douyin-writer")
    loop = asyncio.get_running_loop()
    try:
        state = output.open(spec.params, resume=spec.resume, force=spec.force)
        if state is not None and state.complete:
            if not spec.quiet:
                stderr.write(f"nothing to do: the pull into {spec.out} is already complete\n")
            return
        async with AsyncExitStack() as stack:
            url, access = await stack.enter_async_context(_server(spec, token))
            client = await stack.enter_async_context(DouyinClient(
                access, base_url=url, rate_limit=spec.rate_limit,
                max_concurrency=spec.max_concurrency, timeout=spec.timeout,
                max_retries=spec.max_retries))
            units = client.units(spec.queries)
            starts = {u: state.start_page(unit_key(u)) for u in units} if state else {}
            progress = Progress(client.stats, stderr, units_total=len(units),
                                units_done=sum(1 for s in starts.values() if s <= 0),
                                rate_cap=spec.rate_limit, live=live, quiet=spec.quiet,
                                interval=spec.progress_interval)
            ticker = asyncio.ensure_future(progress.run())
            try:
                async with aclosing(client.pull(spec.queries, start_pages=starts)) as pages:
                    async for page in pages:
                        key, count = await loop.run_in_executor(writer, _write, output, page)
                        total = page.page_count if isinstance(page, TalentMediaPage) else None
                        progress.on_page(key, page.page, count, page.is_last, total)
                await loop.run_in_executor(writer, output.finish)
            finally:
                ticker.cancel()
                await asyncio.gather(ticker, return_exceptions=True)
                progress.clear()
            if not spec.quiet:
                stderr.write(progress.summary() + "\n")
                stderr.flush()
    finally:
        writer.shutdown(wait=True)
        output.close()

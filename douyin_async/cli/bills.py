"""``douyin-async pull bills``: bill files into JSONL, CSV or SQLite, resumable by date and row.

One unit per settlement date (``--bill-date A..B``): its bill links are asked for (through the
client: paced, retried, with the token), then its file is streamed and written in batches of
rows. Each batch is written with a checkpoint entry holding the number of the last row read,
so a killed pull resumed with ``--resume`` asks for fresh links and skips the rows already
written. Rows carry the file they come from (``agency``, ``kind``, ``file_date``) and their
``row`` number, the natural key of the output: no two rows of a file collapse into one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, aclosing
from typing import Any, TextIO

import aiohttp
import attrs
import orjson

from ..bills.download import BillBatch, BillProgress, DownloadPolicy
from ..bills.hosts import server_host
from ..bills.records import BillKind, BillRecord
from ..client import DouyinClient
from ..http.retry import RetryPolicy
from .credentials import token_source
from .embedded import pull_server
from .identity import checkpoint_params
from .outputs.rejects import check_quarantine
from .outputs.sinks import Output, open_output
from .spec import PullSpec


def _value(value: Any) -> Any:
    """Times as unix seconds and dates as ``YYYY-MM-DD``, as the other pulls write them."""
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    return value.isoformat() if isinstance(value, dt.date) else value


def batch_rows(batch: BillBatch, agency: bool) -> list[dict[str, Any]]:
    """Output rows of a batch: the file's context, the row number, the fields, and the columns
    the header table does not know in one ``extra`` object (under the file's own names)."""
    rows = []
    context = {"agency": int(agency), "kind": batch.kind, "file_date": batch.bill_date}
    names = [f.name for f in attrs.fields(BillRecord) if f.name not in ("extra", "row")]
    for record in batch.records:
        row: dict[str, Any] = {**context, "row": record.row}
        row.update((name, _value(getattr(record, name))) for name in names)
        if record.extra:
            row["extra"] = dict(record.extra)
        rows.append(row)
    return rows


def batch_rejects(batch: BillBatch, unit: str) -> list[dict[str, Any]]:
    """The quarantine entries of a batch's bad rows (``--on-invalid-record quarantine``):
    the file, the batch's last row, the bad row's number, field, reason and raw cells."""
    return [{"unit": orjson.loads(unit), "page": batch.last_row, "index": error.index,
             "field": error.field, "reason": error.reason, "record": error.record}
            for error in batch.rejected]


def _quarantine(spec: PullSpec) -> bool:
    return spec.on_invalid_record == "quarantine"


def unit_key(bill_date: str, agency: bool, kind: BillKind) -> str:
    """The checkpoint key of one file."""
    return orjson.dumps(["bills", bill_date, agency, kind]).decode()


def _mib(n: int | None) -> str:
    return "?" if n is None else f"{n / 2**20:.1f} MiB"


@attrs.define
class BillsProgress:
    """Bytes and rows of the file being read, files done, and a summary."""

    stream: TextIO
    files: int
    live: bool
    quiet: bool
    interval: float = 5.0
    done: int = 0
    rows: int = 0
    rejected: int = 0
    bytes: int = 0
    current: str = ""
    file: BillProgress = attrs.Factory(BillProgress)
    started: float = attrs.Factory(time.monotonic)

    def line(self) -> str:
        """The progress line."""
        f = self.file
        seconds = max(time.monotonic() - self.started, 1e-9)
        speed = (self.bytes + f.bytes_received) / seconds / 2**20
        return (f"bills: {self.done}/{self.files} files; {self.current}: "
                f"{_mib(f.bytes_received)} of {_mib(f.bytes_total)}, row {f.rows:,}; "
                f"{self.rows + f.records:,} rows written, {self.rejected + f.rejected} refused; "
                f"{speed:.1f} MiB/s")

    def show(self) -> None:
        """Print the progress line (in place on a terminal)."""
        if not self.quiet:
            self.stream.write(("\r\033[K" if self.live else "") + self.line()
                              + ("" if self.live else "\n"))
            self.stream.flush()

    async def run(self) -> None:
        """Show the line every `interval` seconds (every half second on a terminal)."""
        while True:
            await asyncio.sleep(0.5 if self.live else self.interval)
            self.show()

    def finish_file(self) -> None:
        """The current file is written."""
        self.done += 1
        self.rows += self.file.records
        self.rejected += self.file.rejected
        self.bytes += self.file.bytes_received

    def summary(self) -> str:
        """The last line of a pull."""
        seconds = time.monotonic() - self.started
        return (f"done: {self.done} files, {self.rows:,} rows, {self.rejected} refused, "
                f"{_mib(self.bytes)} in {seconds:.1f} s")


async def _pull_file(client: DouyinClient, output: Output, writer: ThreadPoolExecutor,
                     spec: PullSpec, day: str, start_row: int, progress: BillsProgress) -> None:
    agency = bool(spec.params["agency"])
    kind: BillKind = "live" if spec.params["live"] else "video"
    key = unit_key(day, agency, kind)
    progress.current, progress.file = f"{day} {kind}", BillProgress()
    policy = DownloadPolicy(timeout=spec.timeout, retry=RetryPolicy(max_retries=spec.max_retries))
    loop = asyncio.get_running_loop()
    batches = client.bill_batches(day, agency=agency, kind=kind, start_row=start_row,
                                  batch_rows=spec.params["batch_rows"], policy=policy,
                                  progress=progress.file)
    async with aclosing(batches):
        async for batch in batches:
            page: tuple[Any, ...] = (key, batch.last_row, batch.done, batch_rows(batch, agency))
            if _quarantine(spec):  # the rejects go to the output's rejects file
                page += (batch_rejects(batch, key),)
            await loop.run_in_executor(writer, output.write_page, *page)
    progress.finish_file()


async def run_bills(spec: PullSpec, stderr: TextIO,
                    make_output: Callable[[PullSpec], Output]) -> None:
    """Pull the bill files of ``spec`` into its output (made by ``make_output``), resuming if
    asked: the same lock, checkpoint identity and quarantine as the other pulls."""
    token = None
    if spec.sandbox is None and spec.base_url is not None:
        token = token_source(spec.access_token_file, spec.base_url)
    loop = asyncio.get_running_loop()
    dates: Sequence[str] = spec.params["bill_dates"]
    async with AsyncExitStack() as stack:
        opened = open_output(stack, spec, make_output, checkpoint_params(spec, token),
                             len(dates), stderr)
        if opened is None:
            return
        output, writer, state = opened
        url, access = await stack.enter_async_context(pull_server(spec, token))
        assert access is not None
        session = await stack.enter_async_context(aiohttp.ClientSession())
        # The server the pull talks to (a sandbox's 127.0.0.1 too) may serve the bill files.
        client = DouyinClient(access, base_url=url, rate_limit=spec.rate_limit, session=session,
                              max_concurrency=spec.max_concurrency, timeout=spec.timeout,
                              max_retries=spec.max_retries,
                              invalid_records="collect" if _quarantine(spec) else "raise",
                              bill_hosts_allowed=server_host(url))
        stack.push_async_callback(client.close)
        kind: BillKind = "live" if spec.params["live"] else "video"
        progress = BillsProgress(stderr, len(dates), live=stderr.isatty(), quiet=spec.quiet,
                                 interval=spec.progress_interval)
        ticker = asyncio.ensure_future(progress.run())
        try:
            for day in dates:
                start = 1 if state is None else state.start_page(
                    unit_key(day, bool(spec.params["agency"]), kind))
                if start <= 0:
                    progress.done += 1
                    continue
                await _pull_file(client, output, writer, spec, day, start - 1, progress)
            await loop.run_in_executor(writer, output.finish)
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            if progress.live and not spec.quiet:
                stderr.write("\r\033[K")
        if not spec.quiet:
            stderr.write(progress.summary() + "\n")
            stderr.flush()
        check_quarantine(output.rejected, spec.out, "row")

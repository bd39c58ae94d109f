"""The bill-file methods of [`DouyinClient`][douyin_async.DouyinClient]: the signed links of a
settlement date's bill files (an API request like any other), and their rows, streamed.

They live here so that the client module holds its lifecycle and the page methods; the
client inherits them, and they use its executor, transport and clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, Callable

import orjson

from ..api.executor import Executor
from ..errors import InvalidParameterError
from ..http.transport import Response, Transport
from ..models import positive_int
from .download import (
    BillBatch,
    BillProgress,
    DownloadPolicy,
    LinkSource,
    bill_batches,
    bill_records,
    cached_links,
)
from .links import BillLinks, bill_date_of, bill_link_body, bill_link_endpoint, decode_bill_links
from .records import BillKind, BillRecord


class BillCalls:
    """The bill-file methods (a part of [`DouyinClient`][douyin_async.DouyinClient])."""

    _executor: Executor
    _clock: Callable[[], float]
    transport: Transport
    #: The transport of bill files (public hosts only, unless allowed).
    file_transport: Transport
    #: Hosts that may serve bill files from any address, port or scheme.
    bill_hosts_allowed: frozenset[str]

    async def bill_links(self, bill_date: str | dt.date, *, agency: bool = False) -> BillLinks:
        """The signed download links of a settlement date's bill files, with their expiry.

        Sent like every API request (token, limiter, retries). `bill_date` must be before
        today and at most 180 days back, in Beijing time, or
        [`InvalidParameterError`][douyin_async.errors.InvalidParameterError] is raised before
        any request. `agency=True` asks the agency endpoint (scope `taskbox.agent.admin`).
        """
        day = bill_date_of(bill_date, self._clock())
        path = bill_link_endpoint(agency)

        async def read(response: Response) -> BillLinks:
            return decode_bill_links(response.body, http_status=response.status, endpoint=path,
                                     bill_date=day,
                                     header_log_id=response.headers.get("X-Tt-Logid", ""))

        answered = await self._executor.exchange(path, orjson.dumps(bill_link_body(day)), read)
        assert answered is not None  # no `needed` test: never skipped
        return answered.value

    def _bill_source(self, bill_date: str | dt.date, agency: bool, kind: str,
                     start_row: int) -> tuple[str, LinkSource]:
        positive_int("start_row", start_row, 0)
        if kind not in ("video", "live"):
            raise InvalidParameterError(f"kind must be 'video' or 'live', got {kind!r}")
        day = bill_date_of(bill_date, self._clock())
        return day.isoformat(), cached_links(lambda: self.bill_links(day, agency=agency))

    def bill_batches(self, bill_date: str | dt.date, *, agency: bool = False,
                     kind: BillKind = "video", start_row: int = 0, batch_rows: int = 5000,
                     policy: DownloadPolicy | None = None,
                     progress: BillProgress | None = None) -> AsyncGenerator[BillBatch, None]:
        """The rows of a bill file in [`BillBatch`][douyin_async.bills.download.BillBatch]es,
        streamed: the file is downloaded in chunks and parsed as they arrive, so memory stays
        flat whatever its size. Bad rows follow the client's `invalid_records` rule (raised,
        or listed in each batch's `rejected`).

        The download is not an API request: no limiter slot, no token, its own `policy`
        ([`DownloadPolicy`][douyin_async.bills.download.DownloadPolicy]: timeout, retries; a cut
        transfer resumes with HTTP Range where the file host allows it). An expired link is
        asked for again once. `start_row` skips rows already read (a resumed pull). Links
        and their redirects are fetched from public https hosts only, unless the client's
        `bill_hosts_allowed` names them.
        """
        day, links = self._bill_source(bill_date, agency, kind, start_row)
        return bill_batches(self.file_transport, links, day, kind, hosts=self.bill_hosts_allowed,
                            start_row=start_row, batch_rows=positive_int("batch_rows",
                                                                          batch_rows),
                            invalid_records=self._executor.decoder.invalid_records,
                            policy=policy, progress=progress, clock=self._clock)

    def bill_records(self, bill_date: str | dt.date, *, agency: bool = False,
                     kind: BillKind = "video", start_row: int = 0,
                     policy: DownloadPolicy | None = None,
                     progress: BillProgress | None = None) -> AsyncGenerator[BillRecord, None]:
        """The records of a settlement date's bill file (`kind="video"` or `"live"`), one by
        one, streamed as [`bill_batches`][douyin_async.DouyinClient.bill_batches] reads them.
        A bad row raises its [`InvalidRecordError`][douyin_async.errors.InvalidRecordError]
        (with its row number and raw cells) whatever `invalid_records` says: use
        `bill_batches` to collect bad rows instead. This replaces the retired task-video
        endpoint (see "Moving off the task-video API" in the docs).
        """
        day, links = self._bill_source(bill_date, agency, kind, start_row)
        return bill_records(self.file_transport, links, day, kind,
                            start_row=start_row, policy=policy, progress=progress,
                            clock=self._clock, hosts=self.bill_hosts_allowed)


__all__ = ["BillCalls"]

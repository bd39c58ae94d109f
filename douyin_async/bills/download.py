"""Downloading a bill file in chunks and streaming its records: the thin I/O of the bill API.

The download is not an Open Platform request: it takes no limiter slot, never sends the access
token (the signed link is its only credential) and has its own timeout (the longest silence
between two chunks) and retries ([`DownloadPolicy`][douyin_async.bills.download.DownloadPolicy]).

After a failed transfer (a cut, a reset, a timeout, a 5xx or 429 from the file host) the
download continues where it stopped:

- with `Range: bytes=N-` when the file host said `Accept-Ranges: bytes`; a `206` whose
  `Content-Range` starts at `N` and gives the same total length is appended as is;
- otherwise (no `Accept-Ranges`, or the host answered `200` to the range) from the start: the
  first `N` bytes are read again and dropped, after checking that they are the bytes already
  parsed (same length, same CRC-32), so no row is delivered twice or changed under the reader.

Links are checked before any request, and redirects are followed by hand, at most
[`MAX_BILL_REDIRECTS`][douyin_async.bills.hosts.MAX_BILL_REDIRECTS], each hop checked the same
way (see `douyin_async.bills.hosts`). A file is read within `DownloadPolicy.max_bytes`, as read
and once decompressed, across resumed transfers too.

A link is refreshed (a new bill-link request) once per download: when its `x-expires` has
passed (or is about to) before a request, or when the file host answers `403`. Retries reset
after a transfer that made progress, so a long download survives any number of cuts that each
move it forward. A pull that resumes in a new process passes `start_row`: the file is read
from its start and the rows already delivered are skipped.
"""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Literal, TypedDict, Unpack
from urllib.parse import urljoin, urlsplit

import attrs

from ..errors import (
    BillLinkExpiredError,
    DouyinError,
    InvalidParameterError,
    InvalidRecordError,
    ResponseDecodeError,
)
from ..http.codes import error_for_status
from ..http.limits import MAX_BILL_FILE_BYTES, too_large
from ..http.retry import RetryPolicy, note_retry_after
from ..http.transport import Request, StreamedResponse, Transport
from .csv_reader import MAX_RECORD_CHARS, BillCsvReader
from .hosts import MAX_BILL_REDIRECTS, check_link, unsafe_link
from .links import BillLinks
from .records import KEY_COLUMNS, BillFileError, BillKind, BillRecord

#: `links(refresh)`: the bill links of the file (`refresh=True`: ask the platform anew).
LinkSource = Callable[[bool], Awaitable[BillLinks]]
InvalidRecords = Literal["raise", "collect"]

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


@attrs.frozen
class DownloadPolicy:
    """How a bill file is downloaded (not an API request: its own timeout and retries)."""

    #: The longest wait, in seconds, for the answer and between two chunks.
    timeout: float = 60.0
    #: Backoff, and the number of failed transfers in a row that is tolerated.
    retry: RetryPolicy = attrs.Factory(RetryPolicy)
    #: A link expiring within this many seconds is asked for again before use.
    expiry_margin: float = 5.0
    #: The most bytes of a file, as read and once decompressed
    #: ([`AnswerTooLargeError`][douyin_async.errors.AnswerTooLargeError] past it).
    max_bytes: int = MAX_BILL_FILE_BYTES
    #: The longest record of the file, in characters: a longer one (an unclosed quote, a file
    #: that is not a bill) fails the file with a
    #: [`BillRecordTooLongError`][douyin_async.errors.BillRecordTooLongError].
    max_record: int = MAX_RECORD_CHARS


@attrs.define
class BillProgress:
    """Running counts of one file's download (read them for progress displays)."""

    #: Bytes of the file read so far (its offset).
    bytes_received: int = 0
    #: The file's length, once the file host said it.
    bytes_total: int | None = None
    #: Rows read (skipped ones included), records delivered, bad rows collected.
    rows: int = 0
    records: int = 0
    rejected: int = 0
    #: Requests to the file host, and retries after failed transfers.
    requests: int = 0
    retries: int = 0
    #: Links asked for again (expired), transfers resumed with Range, restarts from byte 0.
    link_refetches: int = 0
    range_resumes: int = 0
    restarts: int = 0


@attrs.frozen
class BillBatch:
    """Records of consecutive rows of one file.

    `last_row` is the number of the last row read (a pull that stopped after this batch
    resumes with `start_row=last_row`); `rejected` holds the bad rows when collecting; `done`
    marks the file's last batch.
    """

    bill_date: str
    kind: BillKind
    records: list[BillRecord]
    rejected: tuple[InvalidRecordError, ...]
    last_row: int
    done: bool


def _expired(links: BillLinks, kind: BillKind, now: float, margin: float) -> bool:
    expires = links.expires(kind)
    return expires is not None and now + margin >= expires.timestamp()


def _url(links: BillLinks, kind: BillKind, endpoint: str) -> str:
    url = links.link(kind)
    if not url:
        raise BillFileError(f"the bill-link answer has no {kind} file link "
                            f"({'live_bill_link' if kind == 'live' else 'bill_link'})",
                            endpoint=endpoint)
    return url


def _cut(message: str, endpoint: str) -> ResponseDecodeError:
    return ResponseDecodeError(message, http_status=0, snippet="", endpoint=endpoint,
                               retryable=True)


def _length(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@asynccontextmanager
async def _open(transport: Transport, url: str, headers: dict[str, str],
                policy: DownloadPolicy, hosts: frozenset[str]
                ) -> AsyncIterator[StreamedResponse]:
    """The answer of `url` after at most `MAX_BILL_REDIRECTS` redirects, each hop checked."""
    endpoint = Request("GET", url).endpoint
    check_link(url, hosts, endpoint=endpoint)
    scheme = urlsplit(url).scheme
    for _ in range(MAX_BILL_REDIRECTS + 1):
        request = Request("GET", url, headers, timeout=policy.timeout,
                          max_bytes=policy.max_bytes)
        async with transport.stream(request) as answer:
            location = answer.headers.get("Location")
            if answer.status not in _REDIRECTS or not location:
                yield answer
                return
        url = urljoin(url, location)
        check_link(url, hosts, scheme=scheme, endpoint=endpoint)
    raise unsafe_link(f"more than {MAX_BILL_REDIRECTS} redirects", urlsplit(url).hostname or "",
                      endpoint)


async def download(transport: Transport, links: LinkSource, kind: BillKind, *,
                   policy: DownloadPolicy | None = None, progress: BillProgress | None = None,
                   clock: Callable[[], float] = time.time,
                   sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                   hosts: frozenset[str] = frozenset(),
                   ) -> AsyncGenerator[bytes, None]:
    """The bytes of a bill file in order, each exactly once, across cuts and expired links.
    `hosts` may serve files from any address, port or scheme (see `bill_hosts_allowed`)."""
    policy = policy or DownloadPolicy()
    progress = progress if progress is not None else BillProgress()
    current = await links(False)
    url = _url(current, kind, "bill link")
    refreshed = False
    refresh = False  # the file host answered 403
    offset = 0  # bytes delivered
    crc = 0  # CRC-32 of the bytes delivered
    total: int | None = None
    ranges = False
    etag: str | None = None
    failures = 0
    while True:
        endpoint = Request("GET", url).endpoint
        if refresh or _expired(current, kind, clock(), policy.expiry_margin):
            if refreshed:
                why = "refused (HTTP 403)" if refresh else "expired"
                raise BillLinkExpiredError(0, f"the file host {why} a fresh bill link too",
                                           endpoint=endpoint, http_status=403)
            refreshed, refresh = True, False
            progress.link_refetches += 1
            current = await links(True)
            url = _url(current, kind, endpoint)
            continue
        headers = {"accept-encoding": "identity"}
        if offset and ranges:
            headers["range"] = f"bytes={offset}-"
            if etag:
                headers["if-range"] = etag
        progress.requests += 1
        before = offset
        try:
            async with _open(transport, url, headers, policy, hosts) as answer:
                status = answer.status
                if status == 403:
                    refresh = True
                    continue
                if status == 416 and total is not None and offset == total:
                    return
                error = error_for_status(status, endpoint=endpoint)
                if error is not None:
                    raise note_retry_after(error, status, answer.headers, clock())
                skip = 0
                if status == 206:
                    found = _CONTENT_RANGE.match(answer.headers.get("content-range", ""))
                    if found is None or int(found[1]) != offset:
                        ranges = False  # a range we did not ask for: start over, whole
                        raise _cut("the file host answered another range", endpoint)
                    size = None if found[3] == "*" else int(found[3])
                    progress.range_resumes += 1
                else:
                    size = _length(answer.headers.get("content-length"))
                    skip = offset
                    if offset:
                        progress.restarts += 1
                    ranges = answer.headers.get("accept-ranges", "").strip().lower() == "bytes"
                if size is not None and total is not None and size != total:
                    raise BillFileError(f"the bill file changed: {size} bytes now, {total} "
                                        "before", endpoint=endpoint)
                total = size if size is not None else total
                if total is not None and total > policy.max_bytes:
                    raise too_large(policy.max_bytes, "announced", endpoint, status)
                progress.bytes_total = total
                etag = answer.headers.get("etag") or etag
                seen = 0  # CRC-32 of the bytes read again after a restart
                async for chunk in answer.chunks():
                    if skip:
                        head, chunk = chunk[:skip], chunk[skip:]
                        seen = zlib.crc32(head, seen)
                        skip -= len(head)
                        if not skip and seen != crc:
                            raise BillFileError("the bill file changed between two downloads "
                                                "(its first bytes differ)", endpoint=endpoint)
                        if not chunk:
                            continue
                    crc = zlib.crc32(chunk, crc)
                    offset += len(chunk)
                    if offset > policy.max_bytes:
                        raise too_large(policy.max_bytes, "decompressed", endpoint, status)
                    progress.bytes_received = offset
                    yield chunk
                if skip:
                    raise BillFileError("the bill file changed between two downloads (it is "
                                        "shorter than the bytes already read)",
                                        endpoint=endpoint)
                if total is not None and offset < total:
                    raise _cut(f"the transfer ended at byte {offset} of {total}", endpoint)
                return
        except DouyinError as exc:
            if offset > before:
                failures = 0
            delay = policy.retry.delay(exc, failures)
            failures += 1
            if delay is None:
                exc.attempts = progress.requests
                raise
            progress.retries += 1
            await sleep(delay)


async def bill_batches(transport: Transport, links: LinkSource, bill_date: str,
                       kind: BillKind = "video", *, start_row: int = 0,
                       invalid_records: InvalidRecords = "raise", batch_rows: int = 5000,
                       policy: DownloadPolicy | None = None,
                       progress: BillProgress | None = None,
                       clock: Callable[[], float] = time.time,
                       sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                       hosts: frozenset[str] = frozenset(),
                       ) -> AsyncGenerator[BillBatch, None]:
    """The records of one bill file in batches of about `batch_rows`, parsed as the bytes
    arrive (memory stays flat whatever the file's size); the last batch has `done=True`.

    In `"raise"` mode the first bad row raises its
    [`InvalidRecordError`][douyin_async.errors.InvalidRecordError], after a batch of the
    records before it; in `"collect"` mode bad rows come in each batch's `rejected`.
    """
    if kind not in KEY_COLUMNS:
        raise InvalidParameterError(f"kind must be 'video' or 'live', got {kind!r}")
    if invalid_records not in ("raise", "collect"):
        raise InvalidParameterError(
            f"invalid_records must be 'raise' or 'collect', got {invalid_records!r}")
    progress = progress if progress is not None else BillProgress()
    endpoint = Request("GET", _url(await links(False), kind, "bill link")).endpoint
    reader = BillCsvReader(kind, endpoint=endpoint, skip_rows=start_row,
                           collect=invalid_records == "collect",
                           max_record=(policy or DownloadPolicy()).max_record)
    records: list[BillRecord] = []
    rejected: list[InvalidRecordError] = []

    def batch(done: bool) -> BillBatch:
        out = BillBatch(bill_date, kind, records[:], tuple(rejected), reader.rows, done)
        progress.rows = reader.rows
        progress.records += len(records)
        progress.rejected += len(rejected)
        records.clear()
        rejected.clear()
        return out

    chunks = download(transport, links, kind, policy=policy, progress=progress, clock=clock,
                      sleep=sleep, hosts=hosts)
    try:
        while True:
            chunk = await anext(chunks, None)  # None: the end of the file
            got, bad = reader.finish() if chunk is None else reader.feed(chunk)
            records += got
            rejected += bad
            if reader.failed is not None:
                if records:
                    yield batch(False)
                raise reader.failed
            if chunk is None:
                break
            if len(records) + len(rejected) >= batch_rows:
                yield batch(False)
    finally:
        await chunks.aclose()
    if reader.rows < start_row:
        raise BillFileError(f"the bill file has {reader.rows} rows, fewer than the "
                            f"{start_row} already read: it changed", endpoint=reader.endpoint)
    yield batch(True)


class FileOptions(TypedDict, total=False):
    """The options of [`bill_batches`][douyin_async.bills.download.bill_batches] that
    [`bill_records`][douyin_async.bills.download.bill_records] passes on."""

    start_row: int
    policy: DownloadPolicy | None
    progress: BillProgress | None
    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[object]]
    hosts: frozenset[str]


async def bill_records(transport: Transport, links: LinkSource, bill_date: str,
                       kind: BillKind = "video", **options: Unpack[FileOptions],
                       ) -> AsyncGenerator[BillRecord, None]:
    """The records of one bill file, one by one, streamed; a bad row raises its
    [`InvalidRecordError`][douyin_async.errors.InvalidRecordError] (use
    [`bill_batches`][douyin_async.bills.download.bill_batches] to collect bad rows instead)."""
    batches = bill_batches(transport, links, bill_date, kind, **options)
    try:
        async for one in batches:
            for record in one.records:
                yield record
    finally:
        await batches.aclose()


def cached_links(fetch: Callable[[], Awaitable[BillLinks]],
                 first: BillLinks | None = None) -> LinkSource:
    """A [`LinkSource`][douyin_async.bills.download.LinkSource] over a bill-link request: the
    links already in hand (or fetched once), and a fresh request when asked to refresh."""
    held = [first]

    async def links(refresh: bool) -> BillLinks:
        if refresh or held[0] is None:
            held[0] = await fetch()
        current = held[0]
        assert current is not None
        return current

    return links


__all__ = [
    "BillBatch",
    "BillLinkExpiredError",
    "BillProgress",
    "DownloadPolicy",
    "FileOptions",
    "LinkSource",
    "bill_batches",
    "bill_records",
    "cached_links",
    "download",
]

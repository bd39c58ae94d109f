"""Bill-file downloads against a real file host on 127.0.0.1: Range resume after a cut,
restart-and-skip without Range, expired links fetched again once, retries, and what the
client sends to the file host."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import pytest
from aiohttp import web
from test_bills import BIG_ID, csv_bytes, row

from douyin_async.bills.download import (
    BillLinkExpiredError,
    BillProgress,
    DownloadPolicy,
    bill_batches,
    bill_records,
    cached_links,
)
from douyin_async.bills.links import BillLinks, link_expiry
from douyin_async.bills.records import BillFileError
from douyin_async.errors import BillRecordTooLongError, InvalidRecordError, ServerError
from douyin_async.http.retry import RetryPolicy
from douyin_async.http.transport import AiohttpTransport

NOW = 1_790_000_000.0
#: The file host of these tests, allowed as a bill host.
LOCAL = frozenset({"127.0.0.1"})


@attrs.define
class FileHost:
    """Serves signed files; checks `x-expires` against its clock; scripted faults."""

    files: dict[str, bytes]
    ranges: bool = True
    now: float = NOW
    cuts: list[int] = attrs.Factory(list)  # per request: cut the body after N bytes
    statuses: list[int] = attrs.Factory(list)  # per request: answer this status first
    refuse: int = 0  # answer 403 to this many requests, whatever the link
    seen: list[dict[str, Any]] = attrs.Factory(list)
    url: str = ""
    after_cut: Callable[[FileHost], None] | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append({"path": request.path, "query": dict(request.query),
                          "headers": dict(request.headers)})
        if self.statuses:
            return web.Response(status=self.statuses.pop(0))
        if self.refuse or int(request.query.get("x-expires", "0")) <= self.now:
            self.refuse = max(0, self.refuse - 1)
            return web.Response(status=403, text="AccessDenied")
        body = self.files[request.match_info["name"]]
        status, start = 200, 0
        headers = {"Content-Type": "text/csv"}
        if self.ranges:
            headers["Accept-Ranges"] = "bytes"
            headers["ETag"] = f'"{len(body)}"'
            asked = request.headers.get("Range", "")
            if asked.startswith("bytes=") and asked.endswith("-"):
                start, status = int(asked[6:-1]), 206
                headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        part = body[start:]
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(part)
        await response.prepare(request)
        cut = self.cuts.pop(0) if self.cuts else None
        if cut is not None:
            await response.write(part[:cut])
            assert request.transport is not None
            request.transport.close()
            if self.after_cut is not None:
                self.after_cut(self)
            return response
        for at in range(0, len(part), 65536):
            await response.write(part[at:at + 65536])
        await response.write_eof()
        return response

    def link(self, name: str, lifetime: float = 3600) -> str:
        return f"{self.url}/files/{name}.csv?x-expires={int(self.now + lifetime)}&x-signature=S"


@pytest.fixture
async def host() -> AsyncIterator[FileHost]:
    files = {"big": csv_bytes([row(i) for i in range(3000)]),
             "gb": csv_bytes([row(i, "已冻结") for i in range(3000)], encoding="gb18030")}
    server = FileHost(files)
    app = web.Application()
    app.router.add_get("/files/{name}.csv", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


class Fetches:
    """Counts bill-link requests; each answers a link of `lifetime` seconds."""

    def __init__(self, host: FileHost, name: str, lifetimes: list[float]) -> None:
        self.host, self.name, self.lifetimes, self.count = host, name, lifetimes, 0

    async def __call__(self) -> BillLinks:
        lifetime = self.lifetimes[min(self.count, len(self.lifetimes) - 1)]
        self.count += 1
        url = self.host.link(self.name, lifetime)
        return BillLinks(dt.date(2026, 11, 1), url, None, link_expiry(url), None, "LOG")


async def no_sleep(seconds: float) -> None:
    return None


POLICY = DownloadPolicy(timeout=10, retry=RetryPolicy(max_retries=2, random=lambda: 0.0))


async def pull(host: FileHost, name: str = "big", *, lifetimes: list[float] | None = None,
               progress: BillProgress | None = None, **kw: Any) -> tuple[list[int], Fetches]:
    fetches = Fetches(host, name, lifetimes or [3600])
    transport = AiohttpTransport()
    try:
        ids = [r.video_id - BIG_ID async for r in bill_records(
            transport, cached_links(fetches), "2026-11-01", policy=kw.pop("policy", POLICY),
            progress=progress, clock=lambda: host.now, hosts=LOCAL, **kw)]
    finally:
        await transport.aclose()
    return ids, fetches


@pytest.mark.parametrize("name", ["big", "gb"])
async def test_a_cut_transfer_resumes_with_range(host: FileHost, name: str) -> None:
    size = len(host.files[name])
    host.cuts = [size // 3 + 1, 5]  # odd offsets: inside a row, inside a character
    progress = BillProgress()
    ids, _ = await pull(host, name, progress=progress)
    assert ids == list(range(3000))
    ranges = [s["headers"].get("Range") for s in host.seen]
    assert ranges == [None, f"bytes={size // 3 + 1}-", f"bytes={size // 3 + 6}-"]
    assert progress.range_resumes == 2 and progress.restarts == 0
    assert progress.bytes_received == progress.bytes_total == size


async def test_without_range_support_the_file_restarts_and_skips_what_was_read(
        host: FileHost) -> None:
    host.ranges = False
    host.cuts = [100_001]
    progress = BillProgress()
    ids, _ = await pull(host, progress=progress)
    assert ids == list(range(3000))
    assert [s["headers"].get("Range") for s in host.seen] == [None, None]
    assert progress.restarts == 1 and progress.range_resumes == 0


async def test_a_file_that_changed_between_downloads_is_refused(host: FileHost) -> None:
    host.ranges = False
    host.cuts = [100_001]
    changed = host.files["big"].replace(b"tt0123", b"tt9999")
    host.after_cut = lambda h: h.files.update(big=changed)
    with pytest.raises(BillFileError, match="changed between two downloads"):
        await pull(host)
    assert len(host.seen) == 2


async def test_an_expired_link_is_fetched_again_before_use(host: FileHost) -> None:
    # The first link expires within the safety margin: it is never sent.
    ids, fetches = await pull(host, lifetimes=[2, 3600])
    assert ids == list(range(3000)) and fetches.count == 2
    assert len(host.seen) == 1
    assert int(host.seen[0]["query"]["x-expires"]) == int(NOW + 3600)


async def test_a_403_from_the_file_host_fetches_the_link_again_once(host: FileHost) -> None:
    host.refuse = 1
    progress = BillProgress()
    ids, fetches = await pull(host, progress=progress)
    assert ids == list(range(3000)) and fetches.count == 2 and progress.link_refetches == 1
    host.seen.clear()
    host.refuse = 2
    with pytest.raises(BillLinkExpiredError) as caught:
        await pull(host)
    assert len(host.seen) == 2 and caught.value.http_status == 403
    assert "x-signature" not in str(caught.value) and "S" not in caught.value.endpoint


async def test_a_link_expiring_during_a_long_download_is_fetched_again(host: FileHost) -> None:
    host.cuts = [50_000]

    def later(h: FileHost) -> None:
        h.now += 7200  # the first link has expired when the cut is resumed

    host.after_cut = later
    ids, fetches = await pull(host)
    assert ids == list(range(3000)) and fetches.count == 2
    assert len(host.seen) == 2 and host.seen[1]["headers"]["Range"] == "bytes=50000-"
    assert host.seen[1]["query"]["x-expires"] != host.seen[0]["query"]["x-expires"]


async def test_server_errors_are_retried_then_given_up(host: FileHost) -> None:
    host.statuses = [503, 502]
    ids, _ = await pull(host, sleep=no_sleep)
    assert ids == list(range(3000)) and len(host.seen) == 3
    host.seen.clear()
    host.statuses = [503, 503, 503]
    with pytest.raises(ServerError) as caught:
        await pull(host, sleep=no_sleep)
    assert len(host.seen) == 3 and caught.value.attempts == 3


async def test_retries_reset_after_a_transfer_that_made_progress(host: FileHost) -> None:
    host.cuts = [20_000] * 8  # eight cuts, each moving on; two retries allowed in a row
    ids, _ = await pull(host)
    assert ids == list(range(3000)) and len(host.seen) == 9


async def test_the_file_host_gets_no_token_and_no_api_headers(host: FileHost) -> None:
    host.cuts = [70_000]
    await pull(host)
    for seen in host.seen:
        names = {name.lower() for name in seen["headers"]}
        assert not names & {"access-token", "authorization", "cookie"}
        assert set(seen["query"]) == {"x-expires", "x-signature"}


async def test_batches_resume_after_a_given_row(host: FileHost) -> None:
    fetches = Fetches(host, "big", [3600])
    transport = AiohttpTransport()
    batches = [b async for b in bill_batches(transport, cached_links(fetches), "2026-11-01",
                                             start_row=2500, batch_rows=200, policy=POLICY,
                                             clock=lambda: host.now, hosts=LOCAL)]
    await transport.aclose()
    ids = [r.video_id - BIG_ID for b in batches for r in b.records]
    assert ids == list(range(2500, 3000))
    assert batches[-1].done and batches[-1].last_row == 3000
    assert all(not b.done for b in batches[:-1])


async def test_a_bad_row_raises_after_the_rows_before_it(host: FileHost) -> None:
    rows = [row(i) for i in range(100)]
    rows[60][1] = "x"
    host.files["bad"] = csv_bytes(rows)
    got: list[int] = []
    fetches = Fetches(host, "bad", [3600])
    transport = AiohttpTransport()
    with pytest.raises(InvalidRecordError) as caught:
        async for record in bill_records(transport, cached_links(fetches), "2026-11-01",
                                         policy=POLICY, clock=lambda: host.now, hosts=LOCAL):
            got.append(record.video_id - BIG_ID)
    await transport.aclose()
    assert got == list(range(60)) and caught.value.index == 61
    assert caught.value.record == rows[60]


async def test_the_policy_bounds_a_record_of_the_downloaded_file(host: FileHost) -> None:
    host.files["open"] = csv_bytes([row(0)]) + b'2026-11-01,"' + b"x\n" * 50_000
    policy = attrs.evolve(POLICY, max_record=4096)
    with pytest.raises(BillRecordTooLongError) as caught:
        await pull(host, "open", policy=policy)
    assert caught.value.line == 3 and caught.value.limit == 4096
    assert caught.value.endpoint.endswith("/files/open.csv")

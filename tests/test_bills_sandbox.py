"""Bill links and bill files end to end against the sandbox, compared with its ground truth;
what the file host and the limiter see is counted on the server side."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import attrs
import orjson
import pytest
from sandbox_helpers import NOW

from douyin_async import DouyinClient, TaskVideoQuery
from douyin_async.bills.download import (
    BillProgress,
    DownloadPolicy,
    bill_records,
    cached_links,
)
from douyin_async.bills.records import COLUMNS, SHANGHAI, BillKind, BillRecord
from douyin_async.errors import ApiRetiredError, InvalidParameterError, PermissionDeniedError
from douyin_async.http.fake import FakeTransport
from douyin_async.http.retry import RetryPolicy
from douyin_async.http.transport import AiohttpTransport, Response
from douyin_async.pacing.limiter import PacedLimiter
from douyin_async.sandbox import ManualClock, Sandbox, SandboxConfig
from douyin_async.sandbox.requestlog import BILL_FILE, BILL_LINK

DAY = (dt.datetime.fromtimestamp(NOW, SHANGHAI).date() - dt.timedelta(days=1)).isoformat()
LOCAL = frozenset({"127.0.0.1"})
POLICY = DownloadPolicy(timeout=10, retry=RetryPolicy(max_retries=3, random=lambda: 0.0))


class CountingLimiter(PacedLimiter):
    """A paced limiter that counts the slots it hands out."""

    def __init__(self) -> None:
        super().__init__(100.0)
        self.slots = 0

    async def acquire(self) -> None:
        self.slots += 1
        await super().acquire()


def expected(sandbox: Sandbox, kind: BillKind = "video", agency: bool = False
             ) -> list[dict[str, Any]]:
    out = []
    for row in sandbox.data.bill_rows(DAY, agency=agency, kind=kind, decoded=True):
        known = {COLUMNS[h][0]: v for h, v in row.items() if h in COLUMNS}
        extra = {h: v for h, v in row.items() if h not in COLUMNS}
        out.append({**known, "extra": extra})
    return out


def as_dicts(records: list[BillRecord]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        d = {f.name: getattr(r, f.name) for f in attrs.fields(BillRecord)
             if f.name not in ("row", "extra") and getattr(r, f.name) is not None}
        d["extra"] = dict(r.extra)
        out.append(d)
    return out


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def start(clock: ManualClock, **fields: Any) -> Sandbox:
    sandbox = Sandbox(SandboxConfig(**fields).with_manual_clock(clock))
    await sandbox.start()
    return sandbox


async def read(sandbox: Sandbox, clock: ManualClock, *, kind: BillKind = "video",
               agency: bool = False, limiter: CountingLimiter | None = None,
               progress: BillProgress | None = None, token: str | None = None,
               ) -> list[BillRecord]:
    async with DouyinClient(token or sandbox.token, base_url=sandbox.url, clock=clock,
                            limiter=limiter, bill_hosts_allowed=["127.0.0.1"]) as client:
        return [r async for r in client.bill_records(DAY, kind=kind, agency=agency,
                                                     policy=POLICY, progress=progress)]


@pytest.fixture
async def sandbox(clock: ManualClock) -> AsyncIterator[Sandbox]:
    server = await start(clock, bill_rows=700, bill_live_rows=30)
    yield server
    await server.close()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
async def test_records_are_the_ground_truth_in_each_encoding(clock: ManualClock,
                                                             encoding: str) -> None:
    sandbox = await start(clock, bill_rows=700, bill_encoding=encoding)
    try:
        records = await read(sandbox, clock)
    finally:
        await sandbox.close()
    assert as_dicts(records) == expected(sandbox)
    assert [r.row for r in records] == list(range(1, 701))


async def test_live_and_agency_files(sandbox: Sandbox, clock: ManualClock) -> None:
    live = await read(sandbox, clock, kind="live")
    assert as_dicts(live) == expected(sandbox, "live") and len(live) == 30
    agency = await read(sandbox, clock, agency=True)
    assert as_dicts(agency) == expected(sandbox, agency=True)


async def test_the_file_host_never_sees_the_token(sandbox: Sandbox, clock: ManualClock) -> None:
    await read(sandbox, clock)
    files = sandbox.log.entries(BILL_FILE)
    links = sandbox.log.entries(BILL_LINK)
    assert files and all(entry.token == "" for entry in files)
    assert links and all(entry.token != "" for entry in links)


async def test_the_download_takes_no_limiter_slot(clock: ManualClock) -> None:
    sandbox = await start(clock, bill_rows=3000, bill_cut_after=200_000, bill_fault_limit=2)
    limiter = CountingLimiter()
    try:
        records = await read(sandbox, clock, limiter=limiter)
    finally:
        await sandbox.close()
    assert len(records) == 3000
    assert limiter.slots == len(sandbox.log.entries(BILL_LINK)) == 1
    assert len(sandbox.log.entries(BILL_FILE)) == 3


@pytest.mark.parametrize("ranges", [True, False])
async def test_cut_transfers_give_the_exact_rows(clock: ManualClock, ranges: bool) -> None:
    sandbox = await start(clock, bill_rows=3000, bill_cut_after=150_001, bill_fault_limit=3,
                          bill_ranges=ranges)
    progress = BillProgress()
    try:
        records = await read(sandbox, clock, progress=progress)
    finally:
        await sandbox.close()
    assert as_dicts(records) == expected(sandbox)
    answered = [e.byte_range for e in sandbox.log.entries(BILL_FILE)]
    if ranges:
        assert [r[0] for r in answered if r] == [0, 150_001, 300_002, 450_003]
        assert progress.range_resumes == 3
    else:
        assert [r[0] for r in answered if r] == [0, 0, 0, 0] and progress.restarts == 3


async def test_an_expired_link_is_asked_for_again(sandbox: Sandbox, clock: ManualClock) -> None:
    transport = AiohttpTransport()
    async with DouyinClient(sandbox.token, base_url=sandbox.url, clock=clock) as client:
        first = await client.bill_links(DAY)
        clock.advance(sandbox.config.bill_link_lifetime + 1)
        links = cached_links(lambda: client.bill_links(DAY), first)
        records = [r async for r in bill_records(transport, links, DAY, policy=POLICY,
                                                 clock=clock, hosts=LOCAL)]
        # Only the server's clock moves now: the host answers 403 to the stale link.
        stale = cached_links(lambda: client.bill_links(DAY), first)
        again = [r async for r in bill_records(transport, stale, DAY, policy=POLICY,
                                               clock=lambda: NOW, hosts=LOCAL)]
    await transport.aclose()
    assert len(records) == len(again) == 700
    assert [e.outcome for e in sandbox.log.entries(BILL_FILE)] == ["ok", "expired", "ok"]
    assert len(sandbox.log.entries(BILL_LINK)) == 3


async def test_dates_out_of_range_are_refused_before_sending(sandbox: Sandbox,
                                                             clock: ManualClock) -> None:
    async with DouyinClient(sandbox.token, base_url=sandbox.url, clock=clock) as client:
        for day in (DAY[:8] + "32", "2025-10-09", "2025-04-01"):
            with pytest.raises(InvalidParameterError):
                await client.bill_links(day)
    assert sandbox.log.entries() == []


async def test_an_app_without_the_agency_scope_is_refused(clock: ManualClock) -> None:
    sandbox = await start(clock, non_agency_tokens=frozenset({"plain-token"}),
                          static_tokens=frozenset({"sandbox-token", "plain-token"}))
    try:
        with pytest.raises(PermissionDeniedError) as caught:
            await read(sandbox, clock, agency=True, token="plain-token")
    finally:
        await sandbox.close()
    assert caught.value.code == 28001018 and caught.value.log_id


async def test_a_bad_kind_or_date_is_refused_when_called(sandbox: Sandbox,
                                                         clock: ManualClock) -> None:
    async with DouyinClient(sandbox.token, base_url=sandbox.url, clock=clock) as client:
        with pytest.raises(InvalidParameterError, match="kind"):
            client.bill_records(DAY, kind="videos")  # type: ignore[arg-type]
        with pytest.raises(InvalidParameterError, match="not over yet"):
            client.bill_batches("2025-10-09")
    assert sandbox.log.entries() == []


async def test_the_retired_endpoint_points_to_the_bill_file_api() -> None:
    answer = orjson.dumps({"err_no": 28001056, "err_msg": "接口已下线", "log_id": "L9"})
    transport = FakeTransport(lambda request: Response(200, {}, answer))
    async with DouyinClient("t", base_url="http://127.0.0.1:9", transport=transport,
                            clock=lambda: NOW) as client:
        query = TaskVideoQuery(billing_date=DAY, video_publish_start_time=NOW - 86_400,
                               video_publish_end_time=NOW)
        with pytest.raises(ApiRetiredError) as caught:
            await client.fetch_page(query)
    assert "bill_records" in str(caught.value) and caught.value.log_id == "L9"

"""The bill-link endpoints and the file host: links, rules, expiry, ranges, encodings, faults."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import orjson
import pytest
from sandbox_helpers import NOW, clocked, get_raw, post_raw

from douyin_async.days import beijing_day
from douyin_async.sandbox import (
    AGENCY_BILL_LINK_PATH,
    BILL_HEADERS,
    BILL_LINK_PATH,
    Sandbox,
    SandboxConfig,
    SandboxData,
)
from douyin_async.sandbox.bills import ROW_ASCII, UNKNOWN_HEADERS

TODAY = beijing_day(NOW)
YESTERDAY = (TODAY - dt.timedelta(days=1)).isoformat()


async def links(session: aiohttp.ClientSession, sb: Sandbox, bill_date: Any = YESTERDAY,
                agency: bool = False, token: str | None = None) -> dict[str, Any]:
    path = AGENCY_BILL_LINK_PATH if agency else BILL_LINK_PATH
    status, raw = await post_raw(session, sb.url + path, {"bill_date": bill_date},
                                 sb.token if token is None else token)
    assert status == 200
    answer: dict[str, Any] = orjson.loads(raw)
    return answer


async def test_both_endpoints_answer_signed_expiring_links() -> None:
    config, _ = clocked(bill_link_lifetime=600)
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        for agency, scope in ((False, "developer"), (True, "agency")):
            answer = await links(session, sb, agency=agency)
            assert answer["err_no"] == 0 and answer["err_msg"] == "" and answer["log_id"]
            assert set(answer["data"]) == {"bill_link", "live_bill_link"}
            for key, kind in (("bill_link", "video"), ("live_bill_link", "live")):
                url = urlsplit(answer["data"][key])
                assert f"{url.scheme}://{url.netloc}" == sb.url
                assert url.path == f"/files/bills/{scope}/{kind}/{YESTERDAY}.csv"
                query = parse_qs(url.query)
                assert query["x-expires"] == [str(NOW + 600)]
                assert len(query["x-signature"][0]) == 64
    assert [e.endpoint for e in sb.log.entries()] == ["bill_link", "agency_bill_link"]


@pytest.mark.parametrize(("bill_date", "fragment"), [
    (TODAY.isoformat(), "尚未生成"),
    ((TODAY + dt.timedelta(days=3)).isoformat(), "尚未生成"),
    ((TODAY - dt.timedelta(days=181)).isoformat(), "180"),
    ("2025/10/01", "YYYY-MM-DD"),
    (20251001, "bill_date"),
])
async def test_bill_dates_outside_the_generated_180_days_are_refused(
    bill_date: Any, fragment: str
) -> None:
    config, _ = clocked()
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        answer = await links(session, sb, bill_date)
        assert answer["err_no"] == 28001007 and fragment in answer["err_msg"]
        assert answer["data"] == {}
        oldest = (TODAY - dt.timedelta(days=180)).isoformat()
        assert (await links(session, sb, oldest))["err_no"] == 0


async def test_agency_path_needs_an_agency_and_both_need_a_valid_token() -> None:
    config, _ = clocked(static_tokens=frozenset({"sandbox-token", "app-only"}),
                        non_agency_tokens=frozenset({"app-only"}))
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        refused = await links(session, sb, agency=True, token="app-only")
        assert refused["err_no"] == 28001018 and "taskbox.agent.admin" in refused["err_msg"]
        assert (await links(session, sb, token="app-only"))["err_no"] == 0
        assert (await links(session, sb, agency=True, token="bogus"))["err_no"] == 28001003
    realistic, _ = clocked(realism="realistic")
    async with Sandbox(realistic) as sb, aiohttp.ClientSession() as session:
        status, raw = await post_raw(session, sb.url + BILL_LINK_PATH,
                                     {"bill_date": YESTERDAY}, "bogus")
        assert status == 401 and orjson.loads(raw)["err_no"] == 28001003


async def test_bill_endpoints_share_the_qps_cap_and_the_file_host_does_not() -> None:
    config, _ = clocked(qps=2)
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        first = await links(session, sb)
        assert (await links(session, sb, agency=True))["err_no"] == 0
        limited = await links(session, sb)
        assert limited["err_no"] == 28003018
        for _ in range(5):
            status, _, _ = await get_raw(session, first["data"]["bill_link"])
            assert status == 200
    files = sb.log.entries("bill_file")
    assert len(files) == 5 and all(e.token == "" for e in files)


async def test_whole_file_is_the_ground_truth_with_chinese_headers() -> None:
    config, _ = clocked(bill_rows=700, bill_live_rows=30)
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        answer = (await links(session, sb))["data"]
        status, headers, body = await get_raw(session, answer["bill_link"])
        _, _, live = await get_raw(session, answer["live_bill_link"])
    assert status == 200 and headers["Accept-Ranges"] == "bytes"
    assert int(headers["Content-Length"]) == len(body)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == list(BILL_HEADERS)
    assert set(UNKNOWN_HEADERS) < set(BILL_HEADERS)
    assert rows == list(sb.data.bill_rows(YESTERDAY))
    assert len(rows) == 700
    live_rows = list(csv.DictReader(io.StringIO(live.decode("utf-8-sig"), newline="")))
    assert live_rows == list(sb.data.bill_rows(YESTERDAY, kind="live")) and len(live_rows) == 30
    decoded = next(sb.data.bill_rows(YESTERDAY, decoded=True))
    assert decoded["账单统计日期"] == dt.date.fromisoformat(YESTERDAY)
    assert decoded["视频发布时间"].utcoffset() == dt.timedelta(hours=8)
    assert isinstance(decoded["当日视频产生的交易订单支付金额（单位：分）"], int)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_every_row_has_the_same_length_in_each_encoding(encoding: str) -> None:
    data = SandboxData(SandboxConfig(bill_rows=3000, bill_encoding=encoding))
    f = data.bill_file(YESTERDAY)
    body = data.bill_bytes(YESTERDAY)
    assert len(body) == f.size
    assert body.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    text = body.decode(encoding)
    lines = text.split("\r\n")[1:-1]
    assert len(lines) == 3000
    assert {len((line + "\r\n").encode(encoding.replace("-sig", ""))) for line in lines} == {
        f.row_bytes}
    assert f.row_bytes > ROW_ASCII
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert rows == list(data.bill_rows(YESTERDAY))
    assert any(ord(c) > 127 for c in lines[0])  # Chinese in the rows, not only the header


def test_any_byte_range_of_a_huge_file_is_cheap_and_consistent() -> None:
    data = SandboxData(SandboxConfig(bill_rows=5_000_000))
    f = data.bill_file(YESTERDAY)
    assert f.size > 1_600_000_000
    began = time.process_time()
    tail = data.bill_bytes(YESTERDAY, start=f.size - 3 * f.row_bytes - 5)
    middle = data.bill_bytes(YESTERDAY, start=f.size // 2, stop=f.size // 2 + 10_000)
    assert time.process_time() - began < 2.0  # nothing before the range is generated
    last = data.bill_files.row_text(f, f.rows - 1).encode()
    assert tail.endswith(last) and len(tail) == 3 * f.row_bytes + 5
    assert middle == data.bill_bytes(YESTERDAY, start=f.size // 2 - 7,
                                     stop=f.size // 2 + 10_000)[7:]


async def test_range_requests_return_exact_slices() -> None:
    config, _ = clocked(bill_rows=500)
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        url = (await links(session, sb))["data"]["bill_link"]
        whole = sb.data.bill_bytes(YESTERDAY)
        size = len(whole)
        etag = (await get_raw(session, url, method="HEAD"))[1]["ETag"]
        for header, first, last in (("bytes=0-99", 0, 99), ("bytes=1000-", 1000, size - 1),
                                    ("bytes=-50", size - 50, size - 1),
                                    (f"bytes=100-{size + 999}", 100, size - 1)):
            status, headers, body = await get_raw(session, url, {"Range": header})
            assert status == 206
            assert headers["Content-Range"] == f"bytes {first}-{last}/{size}"
            assert body == whole[first:last + 1]
        status, headers, _ = await get_raw(session, url, {"Range": f"bytes={size}-"})
        assert status == 416 and headers["Content-Range"] == f"bytes */{size}"
        status, _, body = await get_raw(session, url, {"Range": "bytes=5-", "If-Range": '"x"'})
        assert status == 200 and body == whole
        status, _, body = await get_raw(session, url, {"Range": "bytes=5-", "If-Range": etag})
        assert status == 206 and body == whole[5:]
        status, _, body = await get_raw(session, url, {"Range": "bytes=0-1,5-9"})
        assert status == 200 and body == whole
    ranges = [e.byte_range for e in sb.log.entries("bill_file")]
    assert ranges[1] == (0, 99)


async def test_without_range_support_the_whole_file_comes_back() -> None:
    config, _ = clocked(bill_rows=50, bill_ranges=False)
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        url = (await links(session, sb))["data"]["bill_link"]
        status, headers, body = await get_raw(session, url, {"Range": "bytes=100-"})
    assert status == 200 and "Accept-Ranges" not in headers
    assert body == sb.data.bill_bytes(YESTERDAY)


async def test_links_really_expire_and_signatures_are_checked() -> None:
    config, clock = clocked(bill_rows=10, bill_link_lifetime=300)
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        url = (await links(session, sb))["data"]["bill_link"]
        assert (await get_raw(session, url))[0] == 200
        clock.advance(299)
        assert (await get_raw(session, url))[0] == 200
        clock.advance(1)
        status, headers, body = await get_raw(session, url)
        assert status == 403 and b"expired" in body
        fresh = (await links(session, sb))["data"]["bill_link"]
        assert (await get_raw(session, fresh))[0] == 200
        tampered = fresh.replace("x-expires=", "x-expires=9")
        assert (await get_raw(session, tampered))[0] == 403
        other = fresh.replace("/video/", "/live/")
        assert (await get_raw(session, other))[0] == 403
        missing = (await get_raw(session, sb.url + "/files/bills/developer/video/x.csv"))[0]
        assert missing == 404
    outcomes = [e.outcome for e in sb.log.entries("bill_file")]
    assert outcomes == ["ok", "ok", "expired", "ok", "bad_signature", "bad_signature",
                        "not_found"]


async def test_cut_transfers_resume_with_range_to_the_exact_bytes() -> None:
    config, _ = clocked(bill_rows=400, bill_cut_after=20_000, bill_fault_limit=3)
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        url = (await links(session, sb))["data"]["bill_link"]
        got = b""
        cuts = 0
        while True:
            headers = {"Range": f"bytes={len(got)}-"} if got else {}
            async with session.get(url, headers=headers) as resp:
                try:
                    async for chunk in resp.content.iter_any():
                        got += chunk
                    break
                except aiohttp.ClientPayloadError:
                    cuts += 1
    assert cuts == 3
    assert got == sb.data.bill_bytes(YESTERDAY)
    faults = [e.fault for e in sb.log.entries("bill_file")]
    assert faults == ["cut", "cut", "cut", None]


async def test_file_host_503_and_random_cuts_follow_their_rates() -> None:
    config, _ = clocked(bill_rows=200, bill_error_rate=0.3, bill_cut_rate=0.3, seed=4)
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        url = (await links(session, sb))["data"]["bill_link"]
        statuses = []
        for _ in range(60):
            try:
                statuses.append((await get_raw(session, url))[0])
            except aiohttp.ClientPayloadError:
                statuses.append(-1)
    assert 5 < statuses.count(503) < 35 and 5 < statuses.count(-1) < 35
    assert statuses.count(200) > 5
    assert {e.outcome for e in sb.log.entries("bill_file")} == {"ok", "server_error", "cut"}


async def test_a_sandbox_hands_out_the_same_links_as_its_endpoint() -> None:
    config, clock = clocked(bill_rows=5, bill_link_lifetime=60)
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        answer = (await links(session, sb, agency=True))["data"]
        assert sb.bill_link(YESTERDAY, agency=True) == answer["bill_link"]
        assert sb.bill_link(dt.date.fromisoformat(YESTERDAY), agency=True,
                            kind="live") == answer["live_bill_link"]
        clock.advance(60)
        assert (await get_raw(session, answer["bill_link"]))[0] == 403
        assert (await get_raw(session, sb.bill_link(YESTERDAY, agency=True)))[0] == 200


async def test_issued_tokens_follow_their_app_and_faults_reach_the_bill_endpoints() -> None:
    from douyin_async.sandbox import CLIENT_TOKEN_PATH, RegisteredClient

    config, _ = clocked(clients=(RegisteredClient("dev-app", "s3cret", agency=False),
                                 RegisteredClient("agency-app", "s3cret")))
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        tokens = {}
        for key in ("dev-app", "agency-app"):
            _, raw = await post_raw(session, sb.url + CLIENT_TOKEN_PATH, {
                "client_key": key, "client_secret": "s3cret",
                "grant_type": "client_credential"}, None)
            tokens[key] = orjson.loads(raw)["data"]["access_token"]
        dev = await links(session, sb, agency=True, token=tokens["dev-app"])
        assert dev["err_no"] == 28001018
        assert (await links(session, sb, token=tokens["dev-app"]))["err_no"] == 0
        assert (await links(session, sb, agency=True, token=tokens["agency-app"]))["err_no"] == 0
    faulty, _ = clocked(server_error_rate=1.0)
    async with Sandbox(faulty) as sb, aiohttp.ClientSession() as session:
        answer = await links(session, sb)
        assert answer["err_no"] == 28001005 and answer["data"] == {}
        assert sb.log.entries("bill_link")[0].fault == "server_error"

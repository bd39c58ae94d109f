"""A stream is admitted for all its pages or refused before its first; a gone caller's pages
are neither sent nor decoded; identical streams share their pages. Virtual time throughout,
requests counted where the server sees them."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import attrs
import orjson
import pytest
from apiserver import media
from virtual_loop import VirtualTimeLoop, run

from douyin_async import DouyinClient, TalentMediaQuery
from douyin_async.api.pagination import PagePlan, stream_pages
from douyin_async.days import BEIJING
from douyin_async.errors import InvalidParameterError, QueueTimeoutError
from douyin_async.http.transport import Request, Response
from douyin_async.webapp.views import day_window, recent_task_videos

PAGES = 8


class Server:
    """Talent media of every talent in PAGES pages of one record; notes every request."""

    reports_sent = True

    def __init__(self, latency: float = 0.2) -> None:
        self.latency = latency
        self.seen: list[tuple[str, int]] = []

    async def send(self, request: Request) -> Response:
        await asyncio.sleep(0)
        body = orjson.loads(request.body or b"{}")
        self.seen.append((body["douyin_id"], body["page_no"]))
        request.sent()
        await asyncio.sleep(self.latency)
        data = {"error_code": 0, "total": PAGES, "page_count": PAGES,
                "data": [media(body["page_no"])]}
        return Response(200, {}, orjson.dumps({"data": data, "extra": {"error_code": 0}}))

    async def aclose(self) -> None:
        pass

    def pages_of(self, douyin_id: str) -> list[int]:
        return [page for who, page in self.seen if who == douyin_id]


def client_of(server: Server, **options: Any) -> DouyinClient:
    return DouyinClient("t", base_url="http://api.test", transport=server, **options)


def talent(douyin_id: str) -> TalentMediaQuery:
    return TalentMediaQuery(plan_id=1, douyin_id=douyin_id, page_size=1)


async def busy(client: DouyinClient, until: float, loop: VirtualTimeLoop, i: int) -> None:
    """A viewer of its own page, asking again as soon as it is answered."""
    while loop.time() < until:
        await client.fetch_page(talent(f"busy-{i}-{loop.time():.3f}"))


def test_a_stream_that_cannot_have_its_last_page_in_time_sends_nothing() -> None:
    async def main(loop: VirtualTimeLoop) -> tuple[Server, DouyinClient, Any]:
        server = Server()
        client = client_of(server, max_queue_wait=2.6)
        async with client:
            query = talent("popular")
            pages = [p async for p in client.talent_media_pages(query)]
            assert len(pages) == PAGES  # the client now knows the stream's length
            sent = len(server.pages_of("popular"))
            viewers = [asyncio.ensure_future(busy(client, loop.time() + 5, loop, i))
                       for i in range(20)]
            await asyncio.sleep(1.0)
            records = client.stats.records
            with pytest.raises(QueueTimeoutError) as refused:
                async for _ in client.talent_media_pages(query):
                    pass
            assert "refused before queueing" in str(refused.value)
            assert len(server.pages_of("popular")) == sent  # not one page sent
            assert client.stats.records == records  # nor decoded
            assert client.stats.saved_requests >= PAGES
            await asyncio.gather(*viewers)
        return server, client, refused

    run(main)


def test_a_cancelled_stream_sends_and_decodes_nothing_more() -> None:
    async def main(loop: VirtualTimeLoop) -> None:
        server = Server()
        async with client_of(server) as client:
            query = talent("leaving")

            async def view() -> None:
                async for _ in client.talent_media_pages(query):
                    pass

            leaving = asyncio.ensure_future(view())
            await asyncio.sleep(0.01)  # page 1 is on its way
            viewers = [asyncio.ensure_future(client.fetch_page(talent(f"v-{i}")))
                       for i in range(30)]
            await asyncio.sleep(1.0)  # page 1 answered; pages 2-8 wait behind the views
            assert server.pages_of("leaving") == [1]
            leaving.cancel()
            await asyncio.gather(*viewers, leaving, return_exceptions=True)
            await asyncio.sleep(2)
            assert server.pages_of("leaving") == [1]
            assert client.stats.saved_requests == PAGES - 1

    run(main)


def test_identical_streams_in_flight_share_their_pages() -> None:
    server = Server()
    query = talent("shared")

    async def view(client: DouyinClient) -> list[int]:
        return [p.page async for p in client.talent_media_pages(query)]

    async def views(_loop: VirtualTimeLoop) -> tuple[list[int], list[int], int]:
        async with client_of(server) as client:
            first, second = await asyncio.gather(view(client), view(client))
            return first, second, client.stats.shared_flights

    first, second, shared = run(views)
    assert first == second == list(range(1, PAGES + 1))
    assert sorted(server.pages_of("shared")) == first
    assert shared == PAGES


def test_recent_task_videos_is_one_request_all_beijing_day() -> None:
    morning = dt.datetime(2026, 3, 10, 0, 0, 1, tzinfo=BEIJING).timestamp()
    evening = dt.datetime(2026, 3, 10, 23, 59, 59, tzinfo=BEIJING).timestamp()
    first = recent_task_videos("2026-03-09", 30, now=morning)
    assert first == recent_task_videos("2026-03-09", 30, now=evening)
    assert first.body(1) == recent_task_videos("2026-03-09", 30, now=evening).body(1)
    assert list(first.windows()) == [first]  # 30 whole days: one request window
    start = dt.datetime.fromtimestamp(first.video_publish_start_time, BEIJING)
    end = dt.datetime.fromtimestamp(first.video_publish_end_time, BEIJING)
    assert (start.date(), start.time()) == (dt.date(2026, 2, 9), dt.time(0))
    assert (end.date(), end.time()) == (dt.date(2026, 3, 10), dt.time(23, 59, 59))
    next_day = recent_task_videos("2026-03-09", 30, now=evening + 1)
    assert next_day.video_publish_start_time == first.video_publish_start_time + 86400
    with pytest.raises(InvalidParameterError):
        day_window(0)


@attrs.frozen
class Numbered:
    page: int
    records: tuple[int, ...] = (0,)
    page_count: int = PAGES


def test_a_refused_page_ends_the_stream_before_the_pages_before_it_are_decoded() -> None:
    """Page 5 is refused while pages 2-4 are still on their way: the view is lost, so the
    stream ends at once and nothing more is fetched or decoded for it."""

    async def main(loop: VirtualTimeLoop) -> tuple[list[int], float]:
        finished: list[int] = []

        async def fetch(page: int, _needed: Any) -> Numbered:
            if page == 5:
                await asyncio.sleep(0.1)
                raise QueueTimeoutError("no slot in time", retry_after=1.0)
            await asyncio.sleep(0.2 if page == 1 else 2.0)
            finished.append(page)
            return Numbered(page)

        with pytest.raises(QueueTimeoutError):
            async for _ in stream_pages(fetch, PagePlan(10, PAGES),
                                        page_count_of=lambda p: p.page_count,
                                        fatal=lambda e: isinstance(e, QueueTimeoutError)):
                pass
        return finished, loop.time()

    finished, ended = run(main)
    assert finished == [1]
    assert ended < 0.5

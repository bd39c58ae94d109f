"""7. Speculative fetch-ahead on task videos: requests wasted past the last page.

Task-video answers carry no total, so after a full page the client asks for pages ahead. For
answers of exactly 1, 2, 10 and 50 pages (page size 100, the last page short), a fresh client
pulls one query and reports ``stats.wasted_requests`` and ``stats.requests``. Sandbox latency
300 +- 100 ms, cap 10/s, as in run 1.
"""

from __future__ import annotations

import asyncio

from douyin_async import DouyinClient, TaskVideoQuery
from douyin_async.sandbox import SandboxConfig, SandboxData, ThreadedSandbox

from .common import CAP, Result, Row, billing_dates

PAGE_SIZE = 100
HOUR = 3600


def query_with_pages(data: SandboxData, date: str, pages: int, end: int) -> TaskVideoQuery:
    """A query whose answer is exactly ``pages`` pages, the last one short."""
    low, high = (pages - 1) * PAGE_SIZE, pages * PAGE_SIZE
    start = end
    while True:
        start -= 60
        count = data.count_task_videos(date, start, end)
        if low < count < high:
            return TaskVideoQuery(billing_date=date, video_publish_start_time=start,
                                  video_publish_end_time=end, page_size=PAGE_SIZE)
        if count >= high:
            end -= HOUR  # overshot within one step: move the window and search again
            start = end


async def measure(quick: bool = False) -> Result:
    import time

    result = Result("fetchahead")
    config = SandboxConfig(latency=0.3, jitter=0.1, qps=CAP)
    sizes = [1, 2, 10] if quick else [1, 2, 10, 50]
    dates = billing_dates(1 if quick else 2)
    async with ThreadedSandbox(config) as sandbox:
        end = int(time.time()) - 2 * 86400
        for pages in sizes:
            wasted: list[int] = []
            requests: list[int] = []
            for date in dates:
                query = query_with_pages(sandbox.data, date, pages, end)
                async with DouyinClient(sandbox.token, base_url=sandbox.url,
                                        rate_limit=CAP) as client:
                    got = 0
                    async for _page in client.task_video_pages(query):
                        got += 1
                    assert got == pages, (got, pages)
                wasted.append(client.stats.wasted_requests)
                requests.append(client.stats.requests)
            mean = sum(wasted) / len(wasted)
            target, met = ("0 (exactly 1 request)", max(requests) == 1) if pages == 1 \
                else ("", None)
            result.rows.append(Row(
                "7 fetch-ahead", f"wasted requests per query, {pages}-page answer",
                f"{mean:g} (requests: {', '.join(map(str, requests))})", target, met))
    result.notes.append(
        f"Run 7: page size {PAGE_SIZE}, {len(dates)} queries per answer length (different billing "
        "dates), a fresh client each; latency 300 +- 100 ms, cap 10/s.")
    return result


def run(quick: bool = False) -> Result:
    return asyncio.run(measure(quick))


if __name__ == "__main__":
    for row in run().rows:
        print(row)

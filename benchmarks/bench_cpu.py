"""4. CPU the client process spends to sustain the cap with 10,000-record realistic pages.

The sandbox runs in a child process (``SubprocessSandbox``), so its CPU (generating and
serialising the pages) is not counted. The client pulls task-video queries of page size 10,000
at the cap (10 requests/s); CPU seconds (``time.process_time``: user + system, all threads)
and wall seconds are taken between the first page and the last, and divided by the pages
received in between. The figure held against the target is CPU per page x 10 pages/s: the CPU
share the client needs at the full cap, whether or not the shared machine let the sandbox
serve all 10 pages every second. The pages are the sandbox's realistic profile (sparse records,
PascalCase and snake_case, one unknown key per record).
"""

from __future__ import annotations

import asyncio
import time

from douyin_async import DouyinClient
from douyin_async.sandbox import SubprocessSandbox

from .common import CAP, Result, Row, billing_dates, fmt, sandbox_config, video_queries, window

PAGE_SIZE = 10_000
VIDEOS_PER_HOUR = 1000


async def measure(quick: bool = False) -> Result:
    result = Result("cpu")
    config = sandbox_config("realistic", qps=CAP, latency=0.1, jitter=0.05,
                            videos_per_hour=VIDEOS_PER_HOUR)
    async with SubprocessSandbox(config) as sandbox:
        start, end = window(1.5 if quick else 10.0)
        queries, records, pages = video_queries(sandbox.data, billing_dates(2 if quick else 4),
                                                start, end, PAGE_SIZE)
        marks: list[tuple[float, float, int]] = []  # (wall, cpu, pages so far)
        received = 0
        async with DouyinClient(sandbox.token, base_url=sandbox.url, rate_limit=CAP) as client:
            async for page in client.pull(queries):
                received += len(page.records)
                marks.append((time.monotonic(), time.process_time(), len(marks) + 1))
                del page
    (w0, c0, p0), (w1, c1, p1) = marks[0], marks[-1]
    n = p1 - p0
    cpu_per_page = (c1 - c0) / n
    wall = w1 - w0
    at_cap = cpu_per_page * CAP
    result.rows += [
        Row("4 CPU", "client CPU s per wall s, at 10 pages/s of 10,000 realistic records",
            fmt(at_cap), "<= 0.5", at_cap <= 0.5),
        Row("4 CPU", "as measured: CPU s / wall s, at the page rate achieved",
            f"{fmt((c1 - c0) / wall)} at {fmt(n / wall)} pages/s"),
        Row("4 CPU", "client CPU per 10,000-record page (receive, parse, structure)",
            f"{cpu_per_page * 1000:.1f} ms"),
    ]
    result.notes.append(
        f"Run 4: {len(queries)} task-video queries of the realistic profile, {pages} pages "
        f"of up to {PAGE_SIZE:,} records "
        f"({records:,} records, {received:,} received); sandbox in a child process (latency "
        f"100 +- 50 ms, cap {CAP}/s), client rate_limit={CAP}; measured over the {n} pages "
        f"after the first, {wall:.1f} s wall. The consumer drops each page.")
    return result


def run(quick: bool = False) -> Result:
    return asyncio.run(measure(quick))


if __name__ == "__main__":
    for row in run().rows:
        print(row)

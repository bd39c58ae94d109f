"""5. Memory: peak RSS streaming 1,000,000 records against 100,000, each in a fresh process.

One sandbox child process serves both runs (cap raised to 100 requests/s so the run is
short; the client's ``rate_limit`` is raised to match). Each size is pulled by a new Python
process (``python -m benchmarks.bench_memory --child ...``) whose consumer drops every page;
it reports its peak RSS (``VmHWM``) and its RSS just before the pull. A flat stream has
about the same peak for ten times the records.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

from douyin_async import DouyinClient, TaskVideoQuery
from douyin_async.sandbox import SandboxConfig, SandboxData, SubprocessSandbox

from .common import (
    ROOT,
    Result,
    Row,
    billing_dates,
    current_rss,
    fmt,
    peak_rss,
    video_queries,
    window,
)

RATE = 100  # client rate_limit and sandbox cap for this run only
VIDEOS_PER_HOUR = 145  # ten 3-day windows hold about 100,000 videos
WINDOWS, WINDOW_DAYS = 10, 3.0
PAGE_SIZE = 10_000


def config() -> SandboxConfig:
    return SandboxConfig(qps=RATE, videos_per_hour=VIDEOS_PER_HOUR)


async def child(url: str, token: str, dates: int) -> dict[str, float]:
    data = SandboxData(config())
    queries: list[TaskVideoQuery] = []
    expected = 0
    for i in range(WINDOWS):
        start, end = window(WINDOW_DAYS, days_ago=1.0 + i * WINDOW_DAYS)
        part, count, _ = video_queries(data, billing_dates(dates), start + 1, end, PAGE_SIZE)
        queries += part
        expected += count
    received = 0
    async with DouyinClient(token, base_url=url, rate_limit=RATE) as client:
        before = current_rss()
        t0 = time.monotonic()
        async for page in client.pull(queries):
            received += len(page.records)
            del page
        seconds = time.monotonic() - t0
    peak = peak_rss()
    return {"records": received, "expected": expected, "before": before, "peak": peak,
            "seconds": seconds}


def run_child(url: str, token: str, dates: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_memory", "--child", "--url", url,
         "--token", token, "--dates", str(dates)],
        cwd=ROOT, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(quick: bool = False) -> Result:
    result = Result("memory")
    small_dates, big_dates, longest_dates = (1, 3, 0) if quick else (1, 10, 20)
    with SubprocessSandbox(config()) as sandbox:
        small = run_child(sandbox.url, sandbox.token, small_dates)
        big = run_child(sandbox.url, sandbox.token, big_dates)
        longest = run_child(sandbox.url, sandbox.token, longest_dates) if longest_dates else None
    for r in (small, big, *([longest] if longest else [])):
        assert r["records"] == r["expected"], r
    ratio = big["peak"] / small["peak"]
    mib = 2**20
    result.rows += [
        Row("5 memory", f"peak RSS, {big['records']:,.0f} vs {small['records']:,.0f} records "
            "(ratio)", fmt(ratio), "<= 1.2", ratio <= 1.2),
        Row("5 memory", f"peak RSS streaming {small['records']:,.0f} records",
            f"{small['peak'] / mib:.0f} MiB ({small['before'] / mib:.0f} MiB before the pull)"),
        Row("5 memory", f"peak RSS streaming {big['records']:,.0f} records",
            f"{big['peak'] / mib:.0f} MiB ({big['before'] / mib:.0f} MiB before the pull)"),
    ]
    if longest:
        result.rows.append(Row(
            "5 memory", f"peak RSS streaming {longest['records']:,.0f} records (twice as long "
            "again)", f"{longest['peak'] / mib:.0f} MiB ({longest['peak'] / big['peak']:.2f} x "
            f"the peak of {big['records']:,.0f})"))
    result.notes.append(
        f"Run 5: task-video queries of page size {PAGE_SIZE:,}, ten consecutive 3-day publish "
        f"windows x {small_dates} vs {big_dates} billing dates (10 vs 100 queries of about "
        f"10,000 records, 10 active at a time in both: the same stream, ten times longer); "
        f"sandbox cap and client rate_limit raised to {RATE}/s for this run only; each size in "
        f"a fresh process; the consumer drops every page. Pull times "
        f"{small['seconds']:.1f} s and {big['seconds']:.1f} s. The peak is the most pages "
        "held at one moment: answers read and waiting for their turn to decode (at most "
        "max_concurrency of them), the page being decoded, pages waiting in order.")
    if longest:
        result.notes.append(
            f"Run 5, a stream twice as long again ({longest['records']:,.0f} records, "
            f"{longest['seconds']:.1f} s): its peak is {longest['peak'] / big['peak']:.2f} x "
            f"that of {big['records']:,.0f} records, where twice the records held at once "
            "would be 2 x.")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--url")
    parser.add_argument("--token")
    parser.add_argument("--dates", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    ns = parser.parse_args()
    if ns.child:
        print(json.dumps(asyncio.run(child(ns.url, ns.token, ns.dates))))
        return
    for row in run(ns.quick).rows:
        print(row)


if __name__ == "__main__":
    main()

"""1. Cap use: one pull of both endpoints at once against a sandbox with 300 +- 100 ms latency.

The pull holds task-video queries (page size 100) and talent-media queries (page size 100),
300+ pages in all, through ``DouyinClient.pull``. The client's send times come from an aiohttp
trace hook on the client's own session; the sandbox's request log gives the arrivals it saw
(same machine, same monotonic clock). Figures: requests per second over the cap, the most
requests in any rolling second on each side, and rate-limit rejections.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from douyin_async import DouyinClient
from douyin_async.sandbox import SandboxConfig, ThreadedSandbox

from .common import (
    CAP,
    DOCS,
    Result,
    Row,
    achieved_rate,
    billing_dates,
    fmt,
    max_in_window,
    media_queries,
    rolling_counts,
    video_queries,
    window,
)

LATENCY, JITTER = 0.3, 0.1
PAGE_SIZE = 100


def traced_session(sent: list[float]) -> aiohttp.ClientSession:
    """A session that notes the monotonic time each request starts."""

    async def on_start(session: Any, ctx: Any, params: Any) -> None:
        sent.append(time.monotonic())

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    return aiohttp.ClientSession(trace_configs=[trace],
                                 connector=aiohttp.TCPConnector(limit=20))


def plan(sandbox: ThreadedSandbox, quick: bool) -> tuple[list[Any], int, int]:
    """Queries of both endpoints: about 2/3 of the pages task videos, 1/3 talent media."""
    data = sandbox.data
    start, end = window(1.0 if quick else 5.0)
    videos, v_records, v_pages = video_queries(data, billing_dates(2 if quick else 4),
                                               start, end, PAGE_SIZE)
    media, m_records, m_pages = media_queries(data, 2 if quick else 10, PAGE_SIZE)
    return [*videos, *media], v_records + m_records, v_pages + m_pages


async def measure(quick: bool = False) -> Result:
    result = Result("cap")
    config = SandboxConfig(latency=LATENCY, jitter=JITTER, qps=CAP, videos_per_hour=50)
    sent: list[float] = []
    async with ThreadedSandbox(config) as sandbox:
        queries, expected_records, expected_pages = plan(sandbox, quick)
        async with traced_session(sent) as session:
            client = DouyinClient(sandbox.token, base_url=sandbox.url, rate_limit=CAP,
                                  session=session)
            started = time.monotonic()
            records = 0
            async with client:
                async for page in client.pull(queries):
                    records += len(page.records)
            wall = time.monotonic() - started
        log = sandbox.log
        arrivals = log.arrivals(endpoint=None)
        rejected = sum(1 for e in log.entries() if e.outcome == "28003018")
    stats = client.stats
    server_rate = achieved_rate(arrivals)
    server_max = max_in_window(arrivals)
    client_max = max_in_window(sent)
    ratio = server_rate / CAP
    result.rows += [
        Row("1 cap use", f"requests/s over the cap ({stats.requests} requests, "
            f"{stats.pages} pages, both endpoints)", f"{fmt(ratio, 3)} ({fmt(server_rate)}/s)",
            ">= 0.94", ratio >= 0.94),
        Row("1 cap use", "most requests in any rolling second, server side",
            str(server_max), f"<= {CAP}", server_max <= CAP),
        Row("1 cap use", "most requests in any rolling second, client side",
            str(client_max), f"<= {CAP}", client_max <= CAP),
        Row("1 cap use", "rate-limit rejections (server log / client count)",
            f"{rejected} / {stats.rate_limited}", "0", rejected == 0 and stats.rate_limited == 0),
        Row("1 cap use", "records received / ground truth",
            f"{records:,} / {expected_records:,}", "equal", records == expected_records),
    ]
    result.notes.append(
        f"Run 1: {len(queries)} queries ({expected_pages} pages needed: task videos and talent "
        f"media, page size {PAGE_SIZE}), sandbox latency {LATENCY * 1000:.0f} +- "
        f"{JITTER * 1000:.0f} ms, cap {CAP}/rolling s, client rate_limit={CAP}; {wall:.1f} s "
        f"wall; {stats.wasted_requests} speculative requests past a last page.")
    origin = min(sent[0], arrivals[0])
    plot(sent, arrivals, origin)
    result.plots.append(("bench_cap.png", "Run 1: requests in the trailing second, as the client "
                         "sent them and as the server saw them, against the cap."))
    return result


def plot(sent: list[float], arrivals: list[float], origin: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(9, 5), dpi=110, sharex=True)
    sides = [(axes[0], sent, "client: requests sent in the trailing second", "#1f77b4"),
             (axes[1], arrivals, "server: requests arrived in the trailing second", "#ff7f0e")]
    for ax, times, label, color in sides:
        xs, ys = rolling_counts(times, origin)
        ax.step(xs, ys, where="post", lw=0.7, color=color, label=label)
        ax.axhline(CAP, color="#d62728", lw=1.4, ls="--", label=f"cap: {CAP} per rolling second")
        ax.set_ylim(0, CAP + 4)
        ax.set_xlim(0, max(xs))
        ax.set_ylabel("requests")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", ncol=2, fontsize=8, frameon=False)
        ax.text(0.99, 0.05, f"most in any rolling second: {max_in_window(times)}   "
                f"mean rate: {achieved_rate(times):.2f}/s", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=8)
    axes[1].set_xlabel("seconds since the first request")
    axes[0].set_title("Cap use: one pull of both endpoints, 300 ± 100 ms latency")
    fig.tight_layout()
    DOCS.mkdir(exist_ok=True)
    fig.savefig(DOCS / "bench_cap.png")
    plt.close(fig)


def run(quick: bool = False) -> Result:
    return asyncio.run(measure(quick))


if __name__ == "__main__":
    for row in run().rows:
        print(row)

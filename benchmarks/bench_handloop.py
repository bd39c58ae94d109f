"""2. The client against the loop a user writes by hand, on the same pull, in the same run.

The hand loop is what one writes with aiohttp alone: for each query, post page after page,
``json.loads`` the answer, keep the dicts, stop at a short page (task videos) or at
``page_count`` (talent media). It never exceeds the cap, so it needs no limiter. Both pulls run
at the same time against one sandbox, each with its own access token (the cap counts per
token), so they see the same latency and the same machine load.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from douyin_async import DouyinClient, TalentMediaQuery, TaskVideoQuery
from douyin_async.client import TALENT_MEDIA_ENDPOINT, TASK_VIDEO_ENDPOINT
from douyin_async.sandbox import STATIC_TOKEN, SandboxConfig, ThreadedSandbox

from .common import CAP, DOCS, Result, Row, billing_dates, fmt, media_queries, video_queries, window

LATENCY, JITTER = 0.3, 0.1
PAGE_SIZE = 100
HAND_TOKEN = "hand-written-loop-token"


async def hand_loop(url: str, token: str, queries: list[Any],
                    curve: list[tuple[float, int]]) -> list[dict[str, Any]]:
    """The straightforward loop: one request at a time, page after page."""
    out: list[dict[str, Any]] = []
    headers = {"access-token": token, "content-type": "application/json"}
    async with aiohttp.ClientSession(headers=headers) as session:
        for q in queries:
            page = 1
            while True:
                if isinstance(q, TaskVideoQuery):
                    body = {"billing_date": q.billing_date.isoformat(), "page_num": page,
                            "page_size": q.page_size,
                            "video_publish_start_time": q.video_publish_start_time,
                            "video_publish_end_time": q.video_publish_end_time}
                    async with session.post(url + TASK_VIDEO_ENDPOINT, json=body) as r:
                        answer = json.loads(await r.read())
                    if answer["err_no"] != 0:
                        raise RuntimeError(answer)
                    records = answer["data"]["video_daily_data_list"]
                    last = len(records) < q.page_size
                else:
                    body = {"plan_id": q.plan_id, "douyin_id": q.douyin_id,
                            "content_type": q.content_type, "page_no": page,
                            "page_size": q.page_size}
                    async with session.post(url + TALENT_MEDIA_ENDPOINT, json=body) as r:
                        answer = json.loads(await r.read())
                    if answer["data"]["error_code"] != 0:
                        raise RuntimeError(answer)
                    records = answer["data"]["data"]
                    last = page >= answer["data"]["page_count"]
                out.extend(records)
                curve.append((time.monotonic(), len(out)))
                if last:
                    break
                page += 1
    return out


async def client_pull(url: str, token: str, queries: list[Any],
                      curve: list[tuple[float, int]]) -> tuple[int, int]:
    n = 0
    async with DouyinClient(token, base_url=url, rate_limit=CAP) as client:
        async for page in client.pull(queries):
            n += len(page.records)
            curve.append((time.monotonic(), n))
    return n, client.stats.requests


async def measure(quick: bool = False) -> Result:
    result = Result("handloop")
    config = SandboxConfig(latency=LATENCY, jitter=JITTER, qps=CAP,
                           static_tokens=frozenset({STATIC_TOKEN, HAND_TOKEN}))
    async with ThreadedSandbox(config) as sandbox:
        data = sandbox.data
        start, end = window(0.5 if quick else 2.0)
        videos, v_rec, v_pages = video_queries(data, billing_dates(1 if quick else 2),
                                               start, end, PAGE_SIZE)
        media, m_rec, m_pages = media_queries(data, 1 if quick else 3, PAGE_SIZE)
        queries: list[TaskVideoQuery | TalentMediaQuery] = [*videos, *media]
        expected, pages = v_rec + m_rec, v_pages + m_pages
        client_curve: list[tuple[float, int]] = []
        hand_curve: list[tuple[float, int]] = []

        async def timed(coro: Any) -> tuple[Any, float]:
            t0 = time.monotonic()
            value = await coro
            return value, time.monotonic() - t0

        t0 = time.monotonic()
        (client_out, client_wall), (hand_out, hand_wall) = await asyncio.gather(
            timed(client_pull(sandbox.url, sandbox.token, queries, client_curve)),
            timed(hand_loop(sandbox.url, HAND_TOKEN, queries, hand_curve)),
        )
    client_records, client_requests = client_out
    ratio = hand_wall / client_wall
    ideal = LATENCY * CAP
    result.rows += [
        Row("2 vs hand loop", f"wall-time ratio, hand loop / client ({pages} pages each)",
            f"{fmt(ratio)}x ({fmt(hand_wall, 1)} s / {fmt(client_wall, 1)} s)",
            f"~{ideal:.0f}x (latency x rate)", ratio >= 0.9 * ideal),
        Row("2 vs hand loop", "records, client / hand loop / ground truth",
            f"{client_records:,} / {len(hand_out):,} / {expected:,}", "equal",
            client_records == len(hand_out) == expected),
    ]
    result.notes.append(
        f"Run 2: {len(queries)} queries, {pages} pages of page size {PAGE_SIZE} "
        f"({expected:,} records), latency {LATENCY * 1000:.0f} +- {JITTER * 1000:.0f} ms; both "
        f"pulls ran at once with separate tokens (the cap counts per token). The client sent "
        f"{client_requests} requests for them.")
    plot(client_curve, hand_curve, t0, pages)
    result.plots.append(("bench_handloop.png", "Run 2: records received over time, the client "
                         "against a hand-written page-after-page loop, same pull, same time."))
    return result


def plot(client: list[tuple[float, int]], hand: list[tuple[float, int]], t0: float,
         pages: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.8), dpi=110)
    for curve, label, color in ((client, "DouyinClient.pull", "#1f77b4"),
                                (hand, "hand-written loop (aiohttp + json.loads)", "#7f7f7f")):
        xs = [0.0] + [t - t0 for t, _ in curve]
        ys = [0] + [n for _, n in curve]
        ax.step(xs, ys, where="post", lw=1.8, color=color, label=label)
        ax.annotate(f"{xs[-1]:.1f} s", (xs[-1], ys[-1]), textcoords="offset points",
                    xytext=(4, -12), fontsize=8, color=color)
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("records received")
    ax.set_title(f"Same pull ({pages} pages, 300 ± 100 ms latency), side by side")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    DOCS.mkdir(exist_ok=True)
    fig.savefig(DOCS / "bench_handloop.png")
    plt.close(fig)


def run(quick: bool = False) -> Result:
    return asyncio.run(measure(quick))


if __name__ == "__main__":
    for row in run().rows:
        print(row)

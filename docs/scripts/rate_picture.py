"""Draw docs/rate-limiting.png from real runs against the sandbox.

Two senders post 30 requests each to a sandbox that enforces the platform's cap (10 requests
in any rolling second per token): one through ``aiolimiter.AsyncLimiter(10, 1)``, one through
the client's ``PacedLimiter(10)``. The sandbox's request log gives the arrival times and which
requests it refused; the picture shows them, and the requests in the trailing second.

Run from the project root (needs matplotlib, in the ``bench`` extra)::

    .venv/bin/python docs/scripts/rate_picture.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiolimiter import AsyncLimiter

from douyin_async import PacedLimiter, TalentMediaQuery
from douyin_async.sandbox import TALENT_MEDIA_PATH, Sandbox, SandboxConfig

OUT = Path(__file__).resolve().parent.parent / "rate-limiting.png"
REQUESTS = 30


async def run(limiter: Any) -> tuple[list[float], list[bool]]:
    """Arrival times (seconds after the first) and whether each was refused."""
    body = orjson.dumps(TalentMediaQuery(plan_id=1, douyin_id="dy-talent-1").body(1))
    async with Sandbox(SandboxConfig(qps=10)) as sb, aiohttp.ClientSession() as http:

        async def one() -> None:
            await limiter.acquire()
            async with http.post(sb.url + TALENT_MEDIA_PATH, data=body,
                                 headers={"access-token": sb.token}) as answer:
                await answer.read()

        await asyncio.gather(*(one() for _ in range(REQUESTS)))
        entries = sorted(sb.log.entries(), key=lambda e: e.monotonic)
    start = entries[0].monotonic
    return [e.monotonic - start for e in entries], [e.outcome != "ok" for e in entries]


def trailing(times: list[float], end: float) -> tuple[list[float], list[int]]:
    """A step curve of the requests in the trailing second ``(t - 1, t]``."""
    events = sorted([(t, 1) for t in times] + [(t + 1.0, -1) for t in times])
    xs, ys, level = [0.0], [0], 0
    for t, step in events:
        if t > end:
            break
        xs += [t, t]
        ys += [level, level + step]
        level += step
    xs.append(end)
    ys.append(level)
    return xs, ys


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [
        ("AsyncLimiter(10, 1): a bucket of 10", asyncio.run(run(AsyncLimiter(10, 1)))),
        ("PacedLimiter(10): one request every 0.104 s", asyncio.run(run(PacedLimiter(10)))),
    ]
    end = 3.4
    fig, axes = plt.subplots(2, 1, figsize=(8, 4.6), sharex=True, dpi=110)
    for ax, (title, (times, refused)) in zip(axes, runs, strict=True):
        xs, ys = trailing(times, end)
        ax.plot(xs, ys, color="#37474f", linewidth=1.4, label="requests in the trailing second")
        ax.axhline(10, color="#c62828", linestyle="--", linewidth=1, label="cap: 10")
        ok = [t for t, r in zip(times, refused, strict=True) if not r]
        bad = [t for t, r in zip(times, refused, strict=True) if r]
        ax.vlines(ok, 21, 23.5, color="#2e7d32", linewidth=1.2, label="answered")
        ax.vlines(bad, 21, 23.5, color="#c62828", linewidth=1.2, label="refused (28003018)")
        peak = max(ys)
        ax.set_title(f"{title}: peak {peak} in one second, {len(bad)} of {len(times)} refused",
                     fontsize=9.5, loc="left")
        ax.set_ylim(0, 24.5)
        ax.set_yticks([0, 5, 10, 15, 20])
        ax.set_xlim(-0.05, end)
        ax.grid(axis="y", color="#eeeeee")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(loc="upper right", bbox_to_anchor=(1.0, 0.8), fontsize=7.5, frameon=False)
    axes[1].set_xlabel("seconds since the first request (arrival times at the server)")
    fig.tight_layout()
    fig.savefig(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

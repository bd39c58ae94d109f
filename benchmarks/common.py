"""Shared pieces of the benchmarks: result rows, queries against the sandbox, counting helpers.

Every figure the benchmarks report is a ratio or a count measured side by side in one run, so a
busy machine moves them little. Times come from ``time.monotonic`` (one clock for the client
and a sandbox in another process on the same machine).
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
import platform
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from douyin_async import TalentMediaQuery, TaskVideoQuery
from douyin_async.sandbox import SandboxConfig, SandboxData
from douyin_async.sandbox import envelopes as sandbox_envelopes

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CAP = 10  # the server's requests per rolling second
DAY = 86_400


@dataclass
class Row:
    """One line of the results table."""

    bench: str
    measure: str
    value: str
    target: str = ""
    met: bool | None = None  # None: no target, just a figure

    @property
    def verdict(self) -> str:
        return {True: "yes", False: "NO", None: ""}[self.met]


@dataclass
class Result:
    """What one benchmark hands back: rows for the table, notes and plots for the docs."""

    name: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plots: list[tuple[str, str]] = field(default_factory=list)  # (file name, caption)
    seconds: float = 0.0


def window(days: float, *, now: float | None = None, days_ago: float = 1.0) -> tuple[int, int]:
    """A publish window of ``days`` ending ``days_ago`` days before now (well inside 90 days)."""
    end = int((now or time.time()) - days_ago * DAY)
    return end - int(days * DAY), end


def billing_dates(count: int, today: dt.date | None = None) -> list[str]:
    """``count`` consecutive billing dates ending yesterday (the API's data day)."""
    yesterday = (today or dt.date.today()) - dt.timedelta(days=1)
    return [(yesterday - dt.timedelta(days=i)).isoformat() for i in range(count)]


#: The two answer profiles every decode figure is taken on.
PROFILES = ("tidy", "realistic")


def sandbox_config(profile: str, **kw: Any) -> SandboxConfig:
    """The sandbox settings of a profile: ``"tidy"`` (every key, PascalCase, as the API page
    prints) or ``"realistic"`` (the sandbox's realistic profile: zero counters left out or
    null, some missing or null text, PascalCase, snake_case and mixed days, one unknown key
    per record)."""
    return SandboxConfig(realism="realistic" if profile == "realistic" else "tidy", **kw)


def page_bytes(profile: str, records: int = 10_000) -> bytes:
    """One task-video answer of ``records`` records, as the sandbox sends it."""
    data = SandboxData(sandbox_config(profile, videos_per_hour=100))
    start, end = window(20.0, now=1_764_000_000)
    raw = data.task_video_page(billing_dates(1, today=dt.date(2025, 11, 25))[0], start, end,
                               page_num=1, page_size=records)
    assert len(raw) == records
    return sandbox_envelopes.task_video(0, "success", "2024010100000000000000000000000000", raw)


#: PascalCase key of each snake_case record key (the unknown key the sandbox adds included).
_PASCAL: dict[str, str] = {}
_SNAKE: dict[str, str] = {}


def restyled(body: bytes, style: str, seed: int = 0) -> bytes:
    """The answer with its records' keys in one style: ``"pascal"``, ``"snake"``, or
    ``"mixed"`` (each record's style drawn at random from ``seed``); values and key order
    kept."""
    import random

    import orjson

    from douyin_async.decode.converter import VIDEO_PASCAL_KEYS
    from douyin_async.sandbox.names import EXTRA_VIDEO_KEY

    if not _PASCAL:
        _PASCAL.update(VIDEO_PASCAL_KEYS)
        _PASCAL[EXTRA_VIDEO_KEY["snake"]] = EXTRA_VIDEO_KEY["pascal"]
        _SNAKE.update((v, k) for k, v in _PASCAL.items())
    answer = orjson.loads(body)
    data = answer["data"]
    draw = random.Random(seed)
    out = []
    for raw in data["video_daily_data_list"]:
        pascal = style == "pascal" or (style == "mixed" and draw.random() < 0.5)
        names = _PASCAL if pascal else _SNAKE
        out.append({names.get(k, k): v for k, v in raw.items()})
    data["video_daily_data_list"] = out
    return orjson.dumps(answer)


def pages_of(count: int, page_size: int) -> int:
    """Requests a complete pull of ``count`` records needs (a full last page needs one more)."""
    return count // page_size + 1


def video_queries(
    data: SandboxData, dates: Sequence[str], start: int, end: int, page_size: int
) -> tuple[list[TaskVideoQuery], int, int]:
    """Task-video queries over ``dates`` x one window, with their total records and pages."""
    queries = [TaskVideoQuery(billing_date=d, video_publish_start_time=start,
                              video_publish_end_time=end, page_size=page_size) for d in dates]
    counts = [data.count_task_videos(d, start, end) for d in dates]
    return queries, sum(counts), sum(pages_of(c, page_size) for c in counts)


def media_queries(
    data: SandboxData, talents: int, page_size: int = 100, plan_id: int = 7_000_000_001
) -> tuple[list[TalentMediaQuery], int, int]:
    """Talent-media queries (both scenes) for the first talents of the pool with any records."""
    queries: list[TalentMediaQuery] = []
    records = pages = 0
    for douyin_id in data.douyin_ids:
        total = data.count_talent_media(plan_id, douyin_id, 3)
        if total == 0:
            continue
        queries.append(TalentMediaQuery(plan_id=plan_id, douyin_id=douyin_id, content_type=3,
                                        page_size=page_size))
        records += total
        pages += -(-total // page_size)
        if len(queries) == talents:
            break
    return queries, records, pages


def max_in_window(times: Sequence[float], width: float = 1.0) -> int:
    """The most of ``times`` (ascending) inside any half-open window ``[t, t + width)``."""
    best = 0
    for i, start in enumerate(times):
        best = max(best, bisect.bisect_left(times, start + width, lo=i) - i)
    return best


def rolling_counts(
    times: Sequence[float], origin: float, step: float = 0.02, width: float = 1.0
) -> tuple[list[float], list[int]]:
    """Requests in the trailing ``width`` seconds, sampled every ``step`` seconds from origin."""
    if not times:
        return [], []
    xs: list[float] = []
    ys: list[int] = []
    t = origin
    end = times[-1] + width
    while t <= end:
        xs.append(t - origin)
        ys.append(bisect.bisect_right(times, t) - bisect.bisect_right(times, t - width))
        t += step
    return xs, ys


def achieved_rate(times: Sequence[float]) -> float:
    """Requests per second between the first and the last one."""
    if len(times) < 2 or times[-1] == times[0]:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


def fmt(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def machine() -> dict[str, str]:
    """What the run ran on: CPU, cores, memory, OS, Python and the libraries that matter."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 2**30:.1f} GiB"
    except ImportError:
        pass
    libs: list[str] = []
    for name in ("douyin-async", "aiohttp", "attrs", "cattrs", "orjson", "aiolimiter",
                 "msgspec", "pydantic", "matplotlib"):
        try:
            libs.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            libs.append(f"{name} (missing)")
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "libraries": ", ".join(libs),
    }


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def flatten(items: Iterable[Iterable[Any]]) -> list[Any]:
    return [x for group in items for x in group]


def current_rss() -> int:
    """This process's resident set size now, in bytes."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """This process's peak resident set size, in bytes: `VmHWM`, which belongs to the
    process image alone. (`ru_maxrss` is not: Linux carries it over `execve` from the
    forked parent, so a child of a big runner would report the runner's peak.)"""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")

"""9. Sync: a 30-day task-video backfill into PostgreSQL and into Parquet against the same
backfill into a destination that drops every row (/dev/null), each in a fresh process.

One sandbox child process (realistic profile, the platform's 10 requests/s cap, 50 ms per
answer) serves every run; a PostgreSQL server (Debian's binaries, commits flushed to disk)
runs beside it. Each run is ``python -m benchmarks.bench_sync --child ...``: a
[`SyncRun`][douyin_async.sync.runner.SyncRun] of the 30 Beijing days before today, three days
at once, on a clock fixed at its start (so its publish windows are known), reporting its
records, time and peak RSS (`VmHWM`). Every day's row count in the destination is checked
against the sandbox's truth for that day's windows.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from douyin_async import DouyinClient
from douyin_async.days import beijing_day, beijing_moment
from douyin_async.models import MAX_START_AGE_SECONDS
from douyin_async.sandbox import SandboxConfig, SandboxData, SubprocessSandbox
from douyin_async.sync import SyncRun, TaskVideoSource, open_destination
from douyin_async.sync.state import DayEntry, SyncState
from douyin_async.sync.tables import TASK_VIDEOS, Row
from douyin_async.sync.units import START_MARGIN

from .common import ROOT, Result, fmt, peak_rss
from .common import Row as ResultRow

DAYS = 30
VIDEOS_PER_HOUR = 12  # about 26,000 videos a billing date can ask about


def config() -> SandboxConfig:
    return SandboxConfig(realism="realistic", videos_per_hour=VIDEOS_PER_HOUR, latency=0.05)


class _Drop:
    """A day that drops its rows."""

    def write(self, rows: list[Row]) -> None:
        pass

    def commit(self, entry: DayEntry) -> None:
        pass

    def abort(self) -> None:
        pass


class NullDestination:
    """/dev/null: no state, every row dropped."""

    shown = "/dev/null"

    def lock(self, wait: bool) -> None:
        pass

    def read_state(self) -> SyncState | None:
        return None

    def begin(self, state: SyncState, reset: bool) -> None:
        pass

    def open_day(self, day: dt.date) -> _Drop:
        return _Drop()

    def finish(self, state: SyncState) -> None:
        pass

    def close(self) -> None:
        pass


def _counts(into: str) -> dict[str, int]:
    """Rows per billing date in the destination."""
    if into.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(into) as conn:
            return {d.isoformat(): n for d, n in conn.execute(
                "SELECT billing_date, count(*) FROM task_videos GROUP BY 1")}
    import pyarrow.dataset as ds

    dataset = ds.dataset(os.path.join(into, "task_videos"), format="parquet",
                         partitioning="hive")
    table = dataset.to_table(columns=["billing_date"])
    out: dict[str, int] = {}
    for value in table.column("billing_date").to_pylist():
        out[str(value)] = out.get(str(value), 0) + 1
    return out


async def child(url: str, token: str, into: str, count: int) -> dict[str, Any]:
    t0 = math.floor(time.time())
    today = beijing_day(t0)
    days = [today - dt.timedelta(days=n) for n in range(count, 0, -1)]
    async with DouyinClient(token, base_url=url, clock=lambda: t0) as client:
        destination: Any = NullDestination() if into == "null" else open_destination(
            into, TASK_VIDEOS)
        run = SyncRun(client, destination, TaskVideoSource(), server="sandbox", app="sandbox",
                      since=days[0], until=days[-1], clock=lambda: t0)
        started = time.monotonic()
        report = await run.run()
        seconds = time.monotonic() - started
    peak = peak_rss()
    data = SandboxData(config())
    start = t0 - MAX_START_AGE_SECONDS + START_MARGIN
    truth = {d.isoformat(): data.count_task_videos(
        d.isoformat(), start, int(beijing_moment(d + dt.timedelta(days=1)).timestamp()) - 1)
        for d in days}
    loaded = {d.isoformat(): n for d, n in report.days.items()}
    held = loaded if into == "null" else _counts(into)
    return {"records": report.records, "seconds": seconds, "peak": peak,
            "matches": held == truth == loaded, "truth": sum(truth.values())}


def run_child(url: str, token: str, into: str, days: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_sync", "--child", "--url", url,
         "--token", token, "--into", into, "--days", str(days)], cwd=ROOT, check=True,
        capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(quick: bool = False) -> Result:
    sys.path.insert(0, str(ROOT / "tests"))
    from pg_server import PostgresServer

    result = Result("sync")
    mib = 2**20
    days, rounds = (5, 1) if quick else (DAYS, 2)
    names = ("/dev/null", "PostgreSQL", "Parquet")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    with SubprocessSandbox(config()) as sandbox, PostgresServer(durable=True) as pg, \
            tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        for n in range(rounds):  # alternated, so that a change of the machine's load
            for name in names:   # falls on every kind alike
                into = {"/dev/null": "null", "PostgreSQL": pg.create_database(),
                        "Parquet": os.path.join(tmp, f"ds{n}")}[name]
                runs[name].append(run_child(sandbox.url, sandbox.token, into, days))

    def rate(r: dict[str, Any]) -> float:
        return float(r["records"]) / float(r["seconds"])

    best = {name: max(found, key=rate) for name, found in runs.items()}
    null = best["/dev/null"]
    base = rate(null)
    result.rows.append(ResultRow(
        "9 sync", f"/dev/null: {days}-day backfill, records/s (best of {rounds})",
        f"{base:,.0f} ({null['records']:,} records in {null['seconds']:.1f} s)"))
    for name in names[1:]:
        r = best[name]
        ratio = rate(r) / base
        peak = max(x["peak"] for x in runs[name])
        result.rows += [
            ResultRow("9 sync", f"{name}: records/s over /dev/null's (best of {rounds} each)",
                      fmt(ratio), ">= 0.9", ratio >= 0.9),
            ResultRow("9 sync", f"{name}: peak RSS", f"{peak / mib:.0f} MiB",
                      "<= 300 MiB", peak <= 300 * mib),
            ResultRow("9 sync", f"{name}: rows per day, destination / truth",
                      f"{r['records']:,} / {r['truth']:,}", "equal",
                      all(bool(x["matches"]) for x in runs[name])),
        ]
    spread = {name: ", ".join(f"{rate(x):,.0f}" for x in found) for name, found in runs.items()}
    result.notes.append(
        "Run 9, records/s of each run in order: "
        + "; ".join(f"{name} {text}" for name, text in spread.items()) + ". "
        f"The {days} Beijing days before today, every video each billing date can ask "
        f"about (three 30-day publish windows a day, page size 10,000, about "
        f"{null['records'] // days:,} records a day), realistic profile, sandbox cap 10/s "
        f"and 50 ms per answer, three days at once; each run in a fresh process, the kinds "
        f"alternated. /dev/null peak RSS {null['peak'] / mib:.0f} MiB. PostgreSQL: one "
        "transaction per day, rows sent with COPY, commits flushed to disk. Parquet: one "
        "snappy file per day, written aside and renamed into its partition.")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="the sync benchmark, or one of its runs")
    for flag in ("--child", "--quick"):
        parser.add_argument(flag, action="store_true")
    for name in ("--url", "--token", "--into"):
        parser.add_argument(name)
    parser.add_argument("--days", type=int, default=DAYS)
    ns = parser.parse_args()
    if ns.child:
        print(json.dumps(asyncio.run(child(ns.url, ns.token, ns.into, ns.days))))
        return
    from .run import table

    result = run(ns.quick)
    print(table(result.rows))
    print("\n".join(result.notes))


if __name__ == "__main__":
    main()

"""Helpers of the sync tests: a sandbox on a fixed clock, a run, every destination read back,
and the sandbox's truth of a day."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from douyin_async import DouyinClient
from douyin_async.days import beijing_moment
from douyin_async.models import MAX_START_AGE_SECONDS
from douyin_async.sandbox import ManualClock, Sandbox, SandboxConfig
from douyin_async.sandbox.data import SandboxData
from douyin_async.sync import SyncReport, SyncRun, open_destination
from douyin_async.sync.units import START_MARGIN, Source, TaskVideoSource

#: 2025-10-09 08:53:20 UTC (16:53 in Beijing): yesterday is 2025-10-08 either way.
NOW = 1_760_000_000.0
DAY = 86_400
#: A small population: about 2,200 videos a billing date can ask about.
SMALL = {"videos_per_hour": 1, "authors": 40, "qps": None, "bill_rows": 120,
         "bill_live_rows": 15}


def sandbox_config(clock: ManualClock, seed: int = 1, **fields: Any) -> SandboxConfig:
    """The small population on `clock`."""
    return SandboxConfig(seed=seed, clock=clock, **{**SMALL, **fields})


async def sync(sandbox: Sandbox, into: str, clock: ManualClock, source: Source | None = None,
               **options: Any) -> SyncReport:
    """One run of `source` (task videos by default) against `sandbox` at `clock`."""
    async with DouyinClient(sandbox.token, base_url=sandbox.url, clock=clock,
                            rate_limit=1000, max_concurrency=8,
                            bill_hosts_allowed=["127.0.0.1"]) as client:
        table = (source or TaskVideoSource()).table
        run = SyncRun(client, open_destination(into, table), source or TaskVideoSource(),
                      server="sandbox", app="sandbox token", clock=clock, **options)
        return await run.run()


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def destinations(tmp_path: Any, pg_url: str | None) -> dict[str, str]:
    found = {"sqlite": f"sqlite:///{tmp_path}/sync.sqlite", "parquet": f"file://{tmp_path}/ds/"}
    if pg_url is not None:
        found["postgres"] = pg_url
    return found


def _norm(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in row.items():
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC).isoformat()
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif name == "extra" and isinstance(value, str):
            value = orjson.loads(value)
        out[name] = value
    return out


def read_rows(url: str, table: str) -> list[dict[str, Any]]:
    """Every row of `table` at `url`, as plain values (days and times as ISO text)."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///"):]) as db:
            db.row_factory = sqlite3.Row
            rows = [dict(r) for r in db.execute(f"SELECT * FROM {table}")]
        for row in rows:
            for name in ("publish_time", "billing_end_time"):
                if row.get(name):
                    row[name] = dt.datetime.fromisoformat(row[name])
        return [_norm(r) for r in rows]
    if url.startswith("postgresql://"):
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(url, row_factory=dict_row) as conn:
            return [_norm(r) for r in conn.execute(f"SELECT * FROM {table}").fetchall()]
    import duckdb

    root = url.removeprefix("file://").rstrip("/")
    con = duckdb.connect()
    cur = con.execute(f"SELECT * FROM read_parquet('{root}/{table}/*/*.parquet', "
                      "hive_partitioning = true)")
    names = [d[0] for d in cur.description]
    return [_norm(dict(zip(names, r, strict=True))) for r in cur.fetchall()]


def video_truth(config: SandboxConfig, days: Sequence[dt.date], now: float
                ) -> dict[str, list[dict[str, Any]]]:
    """The records a complete sync holds for each billing date at `now`."""
    data = SandboxData(config)
    start = math.ceil(now) - MAX_START_AGE_SECONDS + START_MARGIN
    out = {}
    for d in days:
        end = int(beijing_moment(d + dt.timedelta(days=1)).timestamp()) - 1
        out[d.isoformat()] = list(data.expected_task_videos(d.isoformat(), start, end))
    return out


def summary(rows: Sequence[dict[str, Any]], day_column: str = "billing_date"
            ) -> dict[str, tuple[int, int, int]]:
    """Per day: rows, distinct keys, sum of `gmv_1d`."""
    out: dict[str, list[Any]] = {}
    for row in rows:
        entry = out.setdefault(row[day_column], [0, set(), 0])
        entry[0] += 1
        entry[1].add((row["task_id"], row["video_id"]))
        entry[2] += row["gmv_1d"]
    return {d: (n, len(keys), gmv) for d, (n, keys, gmv) in out.items()}


def truth_summary(truth: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[int, int, int]]:
    return summary([{**r, "billing_date": d} for d, rows in truth.items() for r in rows])

"""Daily loads into SQLite, Parquet and PostgreSQL, checked against the sandbox's truth."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from typing import Any

import pytest
from pg_server import pg_server, pg_url  # noqa: F401
from sync_helpers import (
    DAY,
    NOW,
    day,
    read_rows,
    sandbox_config,
    summary,
    sync,
    truth_summary,
    video_truth,
)

from douyin_async import DouyinClient
from douyin_async.errors import InvalidParameterError
from douyin_async.sandbox import ManualClock, Sandbox
from douyin_async.sandbox.data import SandboxData
from douyin_async.sync.errors import DestinationError, StateConflictError, SyncLockedError
from douyin_async.sync.runner import SyncRun
from douyin_async.sync.state import day_range
from douyin_async.sync.tables import TASK_VIDEOS, snake
from douyin_async.sync.units import BillSource, TalentMediaSource, TaskVideoSource
from douyin_async.sync.urls import open_destination

KINDS = ["sqlite", "parquet", "postgres"]


@pytest.fixture(params=KINDS)
def into(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/sync.sqlite"
    if request.param == "parquet":
        return f"file://{tmp_path}/dataset/"
    return str(request.getfixturevalue("pg_url"))


async def test_daily_runs_add_days_and_look_back(into: str) -> None:
    clock = ManualClock(NOW)
    first = sandbox_config(clock, seed=1)
    days = day_range(day("2025-10-06"), day("2025-10-08"))
    async with Sandbox(first) as sandbox:
        report = await sync(sandbox, into, clock, since=days[0])
        assert sorted(report.days) == days
        assert summary(read_rows(into, "task_videos")) == truth_summary(
            video_truth(first, days, NOW))
        again = await sync(sandbox, into, clock)
    assert again.days == {} and again.nothing is not None and "nothing new" in again.nothing
    # a day later the server's figures have changed: the new day and two days back are loaded
    clock.advance(DAY)
    changed = sandbox_config(clock, seed=2)
    async with Sandbox(changed) as sandbox:
        report = await sync(sandbox, into, clock, lookback=2)
    later = day_range(day("2025-10-07"), day("2025-10-09"))
    assert sorted(report.days) == later
    expected = {**truth_summary(video_truth(first, days[:1], NOW)),
                **truth_summary(video_truth(changed, later, NOW + DAY))}
    assert summary(read_rows(into, "task_videos")) == expected


async def test_rows_equal_the_truth_with_extras_in_one_spelling(into: str) -> None:
    clock = ManualClock(NOW)
    config = sandbox_config(clock, realism="realistic")
    async with Sandbox(config) as sandbox:
        await sync(sandbox, into, clock, since=day("2025-10-08"))
    truth = video_truth(config, [day("2025-10-08")], NOW)["2025-10-08"]
    spellings = {k for r in truth for k in r["extra"]}
    assert spellings == {"TalentProfit1d", "talent_profit_1d"}  # the server sends both
    want = {}
    for record in truth:
        row = {**record, "billing_date": "2025-10-08",
               "publish_time": record["publish_time"].isoformat(),
               "date": record["date"] and record["date"].isoformat(),
               "extra": {snake(k): v for k, v in record["extra"].items()} or None}
        want[(row["task_id"], row["video_id"])] = row
    got = {(r["task_id"], r["video_id"]): r for r in read_rows(into, "task_videos")}
    assert got == want
    assert {k for r in got.values() for k in r["extra"]} == {"talent_profit_1d"}


async def test_a_backfill_stopped_midway_loads_only_the_rest(into: str) -> None:
    clock = ManualClock(NOW)
    config = sandbox_config(clock)
    days = day_range(day("2025-10-01"), day("2025-10-05"))

    class Stop:
        def __init__(self) -> None:
            self.days = 0

        def on_start(self, days: int) -> None:
            pass

        def on_records(self, count: int) -> None:
            pass

        def on_day(self, d: dt.date, records: int) -> None:
            self.days += 1
            if self.days == 2:
                raise RuntimeError("stopped")

    async with Sandbox(config) as sandbox:
        with pytest.raises(RuntimeError, match="stopped"):
            await sync(sandbox, into, clock, since=days[0], until=days[-1], progress=Stop(),
                       days_at_once=1)
        assert len({r["billing_date"] for r in read_rows(into, "task_videos")}) == 2
        report = await sync(sandbox, into, clock, since=days[0], until=days[-1])
        assert sorted(report.days) == days[2:]
        assert summary(read_rows(into, "task_videos")) == truth_summary(
            video_truth(config, days, NOW))
        # the backfill is over: asking for it again loads every day of it again
        report = await sync(sandbox, into, clock, since=days[3], until=days[4])
        assert sorted(report.days) == days[3:]
    assert summary(read_rows(into, "task_videos")) == truth_summary(
        video_truth(config, days, NOW))


async def test_other_options_are_refused_until_forced(into: str) -> None:
    clock = ManualClock(NOW)
    config = sandbox_config(clock)
    author = SandboxData(config).douyin_ids[3]
    async with Sandbox(config) as sandbox:
        await sync(sandbox, into, clock, since=day("2025-10-08"))
        with pytest.raises(StateConflictError, match="douyin_id: None then, '"
                           + author + "' now.*--force"):
            await sync(sandbox, into, clock, TaskVideoSource(douyin_id=author))
        await sync(sandbox, into, clock, TaskVideoSource(douyin_id=author),
                   since=day("2025-10-08"), force=True)
    rows = read_rows(into, "task_videos")
    assert rows and {r["douyin_id"] for r in rows} == {author}


async def test_a_second_sync_is_refused_or_waits(into: str) -> None:
    clock = ManualClock(NOW)
    holder = open_destination(into, TASK_VIDEOS)
    holder.lock(False)
    try:
        async with Sandbox(sandbox_config(clock)) as sandbox:
            with pytest.raises(SyncLockedError, match="another sync .*pid"):
                await sync(sandbox, into, clock, since=day("2025-10-08"))
            waiting = asyncio.ensure_future(
                sync(sandbox, into, clock, since=day("2025-10-08"), wait=True))
            await asyncio.sleep(0.3)
            assert not waiting.done()
            holder.close()
            report = await waiting
    finally:
        holder.close()
    assert list(report.days) == [day("2025-10-08")]


async def test_yesterday_is_the_beijing_day(tmp_path: Any) -> None:
    # 23:30 UTC on 2025-10-08 is 07:30 on 2025-10-09 in Beijing: yesterday is the 8th
    at = dt.datetime(2025, 10, 8, 23, 30, tzinfo=dt.UTC).timestamp()
    clock = ManualClock(at)
    into = f"sqlite:///{tmp_path}/s.sqlite"
    async with Sandbox(sandbox_config(clock)) as sandbox:
        report = await sync(sandbox, into, clock, since=day("2025-10-07"))
        assert sorted(report.days) == [day("2025-10-07"), day("2025-10-08")]
        with pytest.raises(StateConflictError, match="2025-10-09 is not over yet"):
            await sync(sandbox, into, clock, since=day("2025-10-09"))


async def test_talent_media_rows_carry_the_answer_date(into: str) -> None:
    clock = ManualClock(NOW)
    config = sandbox_config(clock, media_per_scene=30, extra_fields=True)
    data = SandboxData(config)
    plan, talents = 7_089_053_269_443_495_980, ("dy_a", "dy_b")
    async with Sandbox(config) as sandbox:
        report = await sync(sandbox, into, clock, TalentMediaSource(plan, talents))
    assert list(report.days) == [day("2025-10-08")]  # the server's data date
    rows = read_rows(into, "talent_media")
    assert {r["date"] for r in rows} == {"2025-10-08"}
    for talent in talents:
        mine = [r for r in rows if r["douyin_id"] == talent]
        truth = list(data.expected_talent_media(plan, talent, 3))
        assert len(mine) == len(truth)
        assert sum(r["gmv"] for r in mine) == sum(r["gmv"] for r in truth)
        assert {r["content_open_id"] for r in mine} == {r["content_open_id"] for r in truth}
        assert all(r["extra"] == {snake(k): v for k, v in t["extra"].items()}
                   for r, t in zip(sorted(mine, key=lambda r: r["content_open_id"]),
                                   sorted(truth, key=lambda r: r["content_open_id"]),
                                   strict=True))


async def test_bills_load_every_row_of_each_day(into: str) -> None:
    clock = ManualClock(NOW)
    config = sandbox_config(clock)
    data = SandboxData(config)
    days = [day("2025-10-07"), day("2025-10-08")]
    async with Sandbox(config) as sandbox:
        await sync(sandbox, into, clock, BillSource(live=True), since=days[0])
        report = await sync(sandbox, into, clock, BillSource(live=True), since=days[0])
    assert sorted(report.days) == days
    rows = read_rows(into, "bills")
    for d in days:
        for kind in ("video", "live"):
            mine = [r for r in rows if r["bill_date"] == d.isoformat() and r["kind"] == kind]
            truth = list(data.bill_rows(d, kind=kind, decoded=True))
            assert len(mine) == len(truth) == len({r["row"] for r in mine})
            assert sorted(r["video_id"] for r in mine) == sorted(
                t["视频ID"] for t in truth)


async def test_a_dry_run_plans_without_writing(tmp_path: Any) -> None:
    clock = ManualClock(NOW)
    into = f"sqlite:///{tmp_path}/s.sqlite"
    async with Sandbox(sandbox_config(clock)) as sandbox:
        async with DouyinClient(sandbox.token, base_url=sandbox.url, clock=clock) as client:
            run = SyncRun(client, open_destination(into, TASK_VIDEOS), TaskVideoSource(),
                          server="sandbox", app="sandbox token", clock=clock,
                          since=day("2025-10-01"))
            plan = await run.dry_run()
    assert plan.days == day_range(day("2025-10-01"), day("2025-10-08"))
    assert len(sandbox.log) == 0
    assert not os.path.exists(f"{tmp_path}/s.sqlite.lock")


async def test_a_failing_destination_keeps_the_previous_day(
        request: pytest.FixtureRequest) -> None:
    db_url = str(request.getfixturevalue("pg_url"))
    clock = ManualClock(NOW)
    config = sandbox_config(clock)
    async with Sandbox(config) as sandbox:
        await sync(sandbox, db_url, clock, since=day("2025-10-08"))
        before = summary(read_rows(db_url, "task_videos"))
        import psycopg

        with psycopg.connect(db_url) as conn:  # the warehouse now refuses some rows
            conn.execute("ALTER TABLE task_videos ADD CONSTRAINT few CHECK (gmv_1d < 1000000) "
                         "NOT VALID")
        with pytest.raises(DestinationError, match="violates check constraint"):
            await sync(sandbox, db_url, clock, since=day("2025-10-08"), force=False)
    assert summary(read_rows(db_url, "task_videos")) == before


async def test_talent_media_takes_no_days(tmp_path: Any) -> None:
    clock = ManualClock(NOW)
    async with Sandbox(sandbox_config(clock)) as sandbox:
        with pytest.raises(InvalidParameterError, match="leave out --since"):
            await sync(sandbox, f"sqlite:///{tmp_path}/s.sqlite", clock,
                       TalentMediaSource(1, ("dy",)), since=day("2025-10-08"))


async def test_a_backfill_stopped_after_its_last_day_is_over_when_run_again(
        tmp_path: Any) -> None:
    clock = ManualClock(NOW)
    into = f"sqlite:///{tmp_path}/s.sqlite"

    class StopAtTheEnd:
        def on_start(self, days: int) -> None:
            self.left = days

        def on_records(self, count: int) -> None:
            pass

        def on_day(self, d: dt.date, records: int) -> None:
            self.left -= 1
            if not self.left:
                raise RuntimeError("stopped")

    days = [day("2025-10-07"), day("2025-10-08")]
    async with Sandbox(sandbox_config(clock)) as sandbox:
        with pytest.raises(RuntimeError):
            await sync(sandbox, into, clock, since=days[0], progress=StopAtTheEnd())
        report = await sync(sandbox, into, clock, since=days[0])
        assert report.days == {}
        assert report.nothing == ("nothing to do: task_videos holds every day from "
                                  "2025-10-07 to 2025-10-08")
        again = await sync(sandbox, into, clock, since=days[0])
    assert sorted(again.days) == days  # the backfill was over: asked again, it loads again

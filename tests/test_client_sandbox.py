"""The client against the sandbox: exact ground truth across windows, faults and key styles."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from douyin_async import (
    DouyinClient,
    InvalidParameterError,
    PermissionDeniedError,
    RetryPolicy,
    TalentMediaQuery,
    TaskVideoQuery,
)
from douyin_async.decode.converter import decode_talent_media, decode_video
from douyin_async.sandbox import Sandbox, SandboxConfig

DAY = 86400
NOW = int(time.time())


def client(sb: Any, **kw: Any) -> DouyinClient:
    kw.setdefault("retry_policy", RetryPolicy(max_retries=8, base=0.01, cap=0.05))
    return DouyinClient(sb.token, base_url=sb.url, **kw)


async def test_long_window_is_split_and_matches_the_ground_truth_exactly() -> None:
    config = SandboxConfig(seed=3, videos_per_hour=2, qps=None)
    async with Sandbox(config) as sb:
        start, end = NOW - 75 * DAY, NOW - DAY
        q = TaskVideoQuery(billing_date="2026-11-01", video_publish_start_time=start,
                           video_publish_end_time=end, page_size=500)
        async with client(sb, rate_limit=500) as c:
            got = [r async for r in c.task_video_daily_data(
                q.billing_date, start, end, page_size=500)]
        truth = [decode_video(r) for r in sb.data.task_videos("2026-11-01", start, end)]
        assert len(truth) > 2000
        assert got == truth
        windows = {(e.page, e.outcome) for e in sb.log.entries("task_video")}
        assert all(outcome == "ok" for _, outcome in windows)


async def test_fault_injected_pull_returns_exactly_the_ground_truth() -> None:
    config = SandboxConfig(seed=11, videos_per_hour=3, qps=40, server_error_rate=0.05,
                           bad_gateway_rate=0.02, reset_rate=0.01, cut_body_rate=0.01,
                           rate_limit_rate=0.02)
    start, end = NOW - 20 * DAY, NOW - DAY
    plans = [(7089334664648722476, "dy-a"), (7089334664648722477, "dy-b")]
    async with Sandbox(config) as sb:
        douyin_ids = [sb.data.douyin_ids[i] for i in (1, 2)]
        queries: list[Any] = [
            TaskVideoQuery(billing_date=d, video_publish_start_time=start,
                           video_publish_end_time=end, page_size=50)
            for d in ("2026-11-01", "2026-11-02")
        ]
        queries += [TalentMediaQuery(plan_id=p, douyin_id=dy, content_type=3, page_size=20)
                    for p, _ in plans for dy in douyin_ids]
        async with client(sb, rate_limit=38, max_concurrency=12) as c:
            got: dict[Any, list[Any]] = {}
            async for page in c.pull(queries):
                got.setdefault(page.query, []).extend(page.records)
        for q in queries[:2]:
            truth = [decode_video(r) for r in sb.data.task_videos(
                q.billing_date.isoformat(), start, end)]
            assert got[q] == truth
        for q in queries[2:]:
            truth_m = [decode_talent_media(r) for r in sb.data.talent_media(
                q.plan_id, q.douyin_id, 3)]
            assert got[q] == truth_m
        faults = Counter(e.fault for e in sb.log.entries() if e.fault)
        assert sum(faults.values()) >= 10, faults
        assert c.stats.retries >= sum(faults.values())
        assert sb.log.max_in_rolling_window(1.0) <= 40


async def test_snake_case_answers_and_new_fields() -> None:
    async with Sandbox(SandboxConfig(key_style="snake", extra_fields=True, qps=None)) as sb:
        async with client(sb, rate_limit=500) as c:
            recs = [r async for r in c.task_video_daily_data(
                "2026-11-01", NOW - DAY, NOW, page_size=1000)]
        assert recs and all(r.extra for r in recs)
        assert all(r.video_id > 2**53 and str(r.video_id) in r.video_link for r in recs)


async def test_age_limit_is_checked_before_sending() -> None:
    async with Sandbox() as sb:
        async with client(sb) as c:
            with pytest.raises(InvalidParameterError, match="90 days"):
                c.task_video_daily_data("2026-11-01", NOW - 91 * DAY, NOW - 80 * DAY)
        assert len(sb.log) == 0


async def test_permission_denied_plan() -> None:
    async with Sandbox(SandboxConfig(forbidden_plan_ids=frozenset({42}))) as sb:
        async with client(sb) as c:
            with pytest.raises(PermissionDeniedError) as info:
                await c.fetch_page(TalentMediaQuery(plan_id=42, douyin_id="x"))
        assert info.value.sub_code == 110003 and info.value.log_id


@pytest.mark.parametrize("realism", ["tidy", "realistic"])
async def test_pull_of_both_endpoints_is_the_ground_truth_in_either_profile(
        realism: str) -> None:
    """Sparse records, nulls, PascalCase / snake_case / mixed pages, an unknown key on every
    record, gateway-style errors and HTTP 401s: the pull decodes every record exactly, none
    refused, compared with the sandbox's own ground truth (not the client's decoder)."""
    from douyin_async import TalentMedia, VideoDailyData

    config = SandboxConfig(seed=5, videos_per_hour=4, qps=None, realism=realism,
                           server_error_rate=0.02, rate_limit_rate=0.02)
    start, end = NOW - 40 * DAY, NOW - DAY
    plans = [(7089334664648722476, "dy-a"), (7089334664648722477, "dy-b")]
    async with Sandbox(config) as sb:
        queries: list[Any] = [
            TaskVideoQuery(billing_date=d, video_publish_start_time=start,
                           video_publish_end_time=end, page_size=300)
            for d in ("2026-11-01", "2026-11-02")]
        queries += [TalentMediaQuery(plan_id=p, douyin_id=dy, page_size=20) for p, dy in plans]
        async with client(sb, rate_limit=400, invalid_records="collect") as c:
            pages = [p async for p in c.pull(queries)]
        videos = Counter(r for p in pages for r in p.records if isinstance(r, VideoDailyData))
        media = Counter(r for p in pages for r in p.records if isinstance(r, TalentMedia))
        assert sum(len(p.rejected) for p in pages) == 0
        truth_videos = Counter(
            VideoDailyData(**e) for d in ("2026-11-01", "2026-11-02")
            for e in sb.data.expected_task_videos(d, start, end))
        truth_media = Counter(TalentMedia(**e) for p, dy in plans
                              for e in sb.data.expected_talent_media(p, dy, 3))
        assert len(truth_videos) > 4000 and videos == truth_videos
        assert media == truth_media
        if realism == "realistic":
            sparse = sum(1 for v in videos if v.client_name is None or v.date is None)
            assert sparse > 0 and all(v.extra for v in videos)

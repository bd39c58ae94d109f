"""Ground truth of the sandbox: determinism, window splits, ids, filters and key styles."""

from __future__ import annotations

import itertools
import json

import orjson
import pytest
from sandbox_helpers import BILLING_DATE, DAY, NOW

from douyin_async.sandbox import BOTH, LIVE, VIDEO, SandboxConfig, SandboxData
from douyin_async.sandbox.names import PASCAL_KEYS, SNAKE_KEYS

START = NOW - 10 * DAY


@pytest.fixture(scope="module")
def data() -> SandboxData:
    return SandboxData(SandboxConfig(seed=3))


def test_same_seed_same_records_other_seed_other_records() -> None:
    a, b, c = SandboxData(SandboxConfig(seed=1)), SandboxData(SandboxConfig(seed=1)), \
        SandboxData(SandboxConfig(seed=2))
    window = (BILLING_DATE, START, START + DAY)
    assert list(a.task_videos(*window)) == list(b.task_videos(*window))
    assert list(a.task_videos(*window)) != list(c.task_videos(*window))
    assert list(a.talent_media(1, "x", BOTH)) == list(b.talent_media(1, "x", BOTH))


def test_records_carry_the_sample_fields(data: SandboxData) -> None:
    record = next(data.task_videos(BILLING_DATE, START, START + DAY))
    assert tuple(record) == PASCAL_KEYS
    snake = SandboxData(SandboxConfig(seed=3, key_style="snake"))
    snake_record = next(snake.task_videos(BILLING_DATE, START, START + DAY))
    assert tuple(snake_record) == SNAKE_KEYS
    assert list(snake_record.values()) == list(record.values())


def test_extra_fields_add_an_unknown_key() -> None:
    pascal = SandboxData(SandboxConfig(extra_fields=True))
    assert "TalentProfit1d" in next(pascal.task_videos(BILLING_DATE, START, START + DAY))
    snake = SandboxData(SandboxConfig(extra_fields=True, key_style="snake"))
    assert "talent_profit_1d" in next(snake.task_videos(BILLING_DATE, START, START + DAY))
    assert "commission_rate" in next(pascal.talent_media(1, "dy", LIVE))


def test_ids_are_odd_int64_above_float_precision(data: SandboxData) -> None:
    records = list(data.task_videos(BILLING_DATE, START, START + DAY))
    assert len(records) > 500
    for r in records:
        for key in ("TaskId", "VideoId"):
            assert 2**53 < r[key] < 2**63 and r[key] % 2 == 1
            assert int(float(r[key])) != r[key]
        assert f"/video/{r['VideoId']}/" in r["VideoLink"]
        assert START <= r["PublishTime"] <= START + DAY
        assert r["date"] == BILLING_DATE
        assert all(isinstance(r[k], int) for k in ("GMV1d", "RefundGMV1d", "ExpectedProfit"))
    assert len({r["VideoId"] for r in records}) == len(records)
    wire = orjson.dumps(records)
    assert json.loads(wire) == orjson.loads(wire) == records


def test_server_order_is_publish_time_then_video_id(data: SandboxData) -> None:
    records = list(data.task_videos(BILLING_DATE, START, START + 2 * DAY))
    keys = [(r["PublishTime"], r["VideoId"]) for r in records]
    assert keys == sorted(keys)


@pytest.mark.parametrize("cut", [1, 1799, 3600, 3601, 40_000, DAY - 1])
def test_split_windows_give_the_disjoint_union(data: SandboxData, cut: int) -> None:
    a, b = START + 17, START + DAY + 5
    whole = list(data.task_videos(BILLING_DATE, a, b))
    left = list(data.task_videos(BILLING_DATE, a, a + cut))
    right = list(data.task_videos(BILLING_DATE, a + cut + 1, b))
    assert whole == left + right
    assert data.count_task_videos(BILLING_DATE, a, b) == len(whole)


def test_pages_slice_the_full_set(data: SandboxData) -> None:
    full = list(data.task_videos(BILLING_DATE, START, START + DAY))
    size = 97
    pages = [data.task_video_page(BILLING_DATE, START, START + DAY, page_num=k, page_size=size)
             for k in range(1, len(full) // size + 3)]
    assert list(itertools.chain.from_iterable(pages)) == full
    assert pages[-1] == []


def test_douyin_id_and_agency_filters(data: SandboxData) -> None:
    window = (BILLING_DATE, START, START + 5 * DAY)
    everything = list(data.task_videos(*window))
    author = data.douyin_ids[7]
    mine = list(data.task_videos(*window, douyin_id=author))
    assert mine == [r for r in everything if r["DouyinID"] == author]
    assert data.count_task_videos(*window, douyin_id=author) == len(mine)
    agency = data.agency_keys[1]
    theirs = list(data.task_videos(*window, agency_client_key=agency))
    members = {d for i, d in enumerate(data.douyin_ids) if i % len(data.agency_keys) == 1}
    assert theirs == [r for r in everything if r["DouyinID"] in members]
    assert list(data.task_videos(*window, douyin_id="no-such-author")) == []
    assert list(data.task_videos(*window, agency_client_key="unknown")) == []
    assert list(data.task_videos(*window, douyin_id=author, agency_client_key=agency)) == []
    assert list(data.task_videos(*window, douyin_id=data.douyin_ids[5],
                                 agency_client_key=agency)) == [
        r for r in everything if r["DouyinID"] == data.douyin_ids[5]]


def test_density_follows_the_setting() -> None:
    sparse = SandboxData(SandboxConfig(videos_per_hour=5))
    dense = SandboxData(SandboxConfig(videos_per_hour=200))
    days = 3
    assert 0.5 < sparse.count_task_videos(BILLING_DATE, START, START + days * DAY) \
        / (5 * 24 * days) < 1.5
    assert 0.8 < dense.count_task_videos(BILLING_DATE, START, START + days * DAY) \
        / (200 * 24 * days) < 1.2
    none = SandboxData(SandboxConfig(videos_per_hour=0))
    assert none.count_task_videos(BILLING_DATE, START, START + DAY) == 0


def test_published_before_billing_only_hides_later_videos() -> None:
    data = SandboxData(SandboxConfig(published_before_billing_only=True))
    # billing date 2025-10-01 ends at 2025-10-01T16:00:00Z (Asia/Shanghai midnight)
    cutoff = 1_759_334_400
    records = list(data.task_videos("2025-10-01", cutoff - DAY, cutoff + DAY))
    assert records and all(r["PublishTime"] < cutoff for r in records)
    assert data.count_task_videos("2025-10-01", cutoff, cutoff + DAY) == 0


def test_metrics_depend_on_the_billing_date(data: SandboxData) -> None:
    one = list(data.task_videos("2025-10-01", START, START + DAY))
    two = list(data.task_videos("2025-10-02", START, START + DAY))
    assert [r["VideoId"] for r in one] == [r["VideoId"] for r in two]
    assert [r["GMV1d"] for r in one] != [r["GMV1d"] for r in two]
    assert any(r["GMV1d"] > 0 for r in one) and any(r["GMV1d"] == 0 for r in one)
    for r in one:
        assert 0 <= r["RefundGMV1d"] <= r["GMV1d"]
        assert 0 <= r["FeedAdShareCost1d"] <= r["AdShareCost1d"]


def test_talent_media_scenes_and_pages(data: SandboxData) -> None:
    live = list(data.talent_media(PLAN_ID, "dyvvvvvv", LIVE))
    video = list(data.talent_media(PLAN_ID, "dyvvvvvv", VIDEO))
    both = list(data.talent_media(PLAN_ID, "dyvvvvvv", BOTH))
    assert both == live + video
    assert {r["content_type"] for r in live} == {LIVE}
    assert {r["content_type"] for r in video} == {VIDEO}
    assert data.count_talent_media(PLAN_ID, "dyvvvvvv", BOTH) == len(both)
    assert len({r["content_open_id"] for r in both}) == len(both)
    assert set(both[0]) == {"content_open_id", "content_type", "gmv", "play_cnt",
                            "talent_commission", "used_gmv"}
    pages = [data.talent_media_page(PLAN_ID, "dyvvvvvv", BOTH, k, 100)
             for k in range(1, len(both) // 100 + 2)]
    assert list(itertools.chain.from_iterable(pages)) == both
    for r in both:
        assert r["used_gmv"] <= r["gmv"] and r["talent_commission"] <= r["gmv"]


def test_plan_permission_rule() -> None:
    data = SandboxData(SandboxConfig(forbidden_plan_ids=frozenset({42})))
    assert not data.plan_allowed(42)
    assert not data.plan_allowed(7_000_403)
    assert data.plan_allowed(7_000_404)
    assert SandboxData(SandboxConfig(forbidden_plan_suffix=None)).plan_allowed(7_000_403)


PLAN_ID = 7_089_053_269_443_495_980

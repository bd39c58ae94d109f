"""Queries validate at birth; windows split without gap or overlap."""

from __future__ import annotations

import datetime as dt

import pytest

from douyin_async import InvalidParameterError, TalentMediaQuery, TaskVideoQuery
from douyin_async.models import MAX_WINDOW_SECONDS

DAY = 86400
NOW = 1_763_900_000


def tv(**kw: object) -> TaskVideoQuery:
    args: dict[str, object] = dict(billing_date="2026-11-01", video_publish_start_time=NOW - DAY,
                                   video_publish_end_time=NOW)
    args.update(kw)
    return TaskVideoQuery(**args)  # type: ignore[arg-type]


def test_accepts_dates_and_aware_datetimes() -> None:
    start = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    end = dt.datetime(2026, 10, 2, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    q = tv(billing_date=dt.date(2026, 11, 1), video_publish_start_time=start,
           video_publish_end_time=end)
    assert q.billing_date == dt.date(2026, 11, 1)
    assert q.video_publish_start_time == int(start.timestamp())
    assert q.video_publish_end_time == int(end.timestamp())
    assert tv().billing_date == dt.date(2026, 11, 1)


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"billing_date": "2026-13-01"}, "billing_date"),
        ({"billing_date": 20261101}, "billing_date"),
        ({"billing_date": dt.datetime(2026, 11, 1)}, "billing_date"),
        ({"video_publish_start_time": dt.datetime(2026, 10, 1)}, "naive"),
        ({"video_publish_end_time": "1700000000"}, "video_publish_end_time"),
        ({"video_publish_start_time": True}, "video_publish_start_time"),
        ({"video_publish_start_time": NOW + 1}, "before"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 10_001}, "page_size"),
        ({"douyin_id": ""}, "douyin_id"),
        ({"douyin_id": "   "}, "douyin_id"),
        ({"agency_client_key": ""}, "agency_client_key"),
    ],
)
def test_task_video_query_rejects_bad_input(kw: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidParameterError, match=fragment) as info:
        tv(**kw)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "kw",
    [
        {"plan_id": 0, "douyin_id": "a"},
        {"plan_id": 1, "douyin_id": ""},
        {"plan_id": 1, "douyin_id": "a", "content_type": 4},
        {"plan_id": 1, "douyin_id": "a", "page_size": 101},
        {"plan_id": 1, "douyin_id": "a", "page_size": 0},
        {"plan_id": "1", "douyin_id": "a"},
    ],
)
def test_talent_media_query_rejects_bad_input(kw: dict[str, object]) -> None:
    with pytest.raises(InvalidParameterError):
        TalentMediaQuery(**kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("days", [0, 1, 29, 30, 31, 60, 61, 89, 365])
def test_windows_cover_the_range_without_gap_or_overlap(days: int) -> None:
    start = NOW - days * DAY - 17
    q = tv(video_publish_start_time=start, video_publish_end_time=NOW)
    windows = list(q.windows())
    assert windows[0].video_publish_start_time == start
    assert windows[-1].video_publish_end_time == NOW
    for w in windows:
        assert 0 <= w.video_publish_end_time - w.video_publish_start_time <= MAX_WINDOW_SECONDS
        assert (w.billing_date, w.page_size) == (q.billing_date, q.page_size)
    for a, b in zip(windows, windows[1:], strict=False):
        assert b.video_publish_start_time == a.video_publish_end_time + 1
    covered = sum(w.video_publish_end_time - w.video_publish_start_time + 1 for w in windows)
    assert covered == NOW - start + 1


def test_exact_30_day_window_is_not_split() -> None:
    q = tv(video_publish_start_time=NOW - MAX_WINDOW_SECONDS)
    assert list(q.windows()) == [q]


def test_age_check_uses_the_given_clock() -> None:
    q = tv(video_publish_start_time=NOW - 90 * DAY)
    q.check_age(NOW)  # exactly 90 days is accepted
    with pytest.raises(InvalidParameterError, match="90 days"):
        q.check_age(NOW + 1)


def test_request_bodies_match_the_api_pages() -> None:
    q = tv(douyin_id="A7932234")
    assert q.body(3) == {
        "billing_date": "2026-11-01", "page_num": 3, "page_size": 10000,
        "video_publish_start_time": NOW - DAY, "video_publish_end_time": NOW,
        "douyin_id": "A7932234",
    }
    t = TalentMediaQuery(plan_id=7089334664648722476, douyin_id="dyvvvvvv", content_type=3)
    assert t.body(2) == {"plan_id": 7089334664648722476, "douyin_id": "dyvvvvvv",
                         "content_type": 3, "page_no": 2, "page_size": 100}


def test_records_follow_the_official_models_optional_fields() -> None:
    import typing

    from douyin_async import TalentMedia, VideoDailyData
    from douyin_async.decode.converter import talent_media_records, video_records

    def optional(decoder: object) -> set[str]:
        return {f.name for f in decoder.fields if f.kind.name.startswith("OPT")}  # type: ignore[attr-defined]

    assert optional(video_records) == {
        "active_cnt_1d", "ad_share_cost_1d", "billing_gmv_1d", "billing_refund_gmv_1d",
        "client_name", "feed_ad_share_cost_1d", "expected_profit", "gmv_1d", "refund_gmv_1d",
        "date"}
    assert optional(talent_media_records) == {"gmv", "play_cnt", "talent_commission",
                                              "used_gmv"}
    hints = typing.get_type_hints(VideoDailyData)
    assert hints["client_name"] == str | None and hints["date"] == dt.date | None
    assert typing.get_type_hints(TalentMedia)["content_open_id"] is str

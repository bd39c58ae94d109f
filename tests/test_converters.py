"""Records decode from either key style, keep ids exact and unknown keys reachable."""

from __future__ import annotations

import datetime as dt

import pytest
from apiserver import media, video

from douyin_async import TalentMedia, VideoDailyData
from douyin_async.converters import decode_talent_media, decode_video, unstructure


def test_pascal_and_snake_keys_give_the_same_record() -> None:
    a = decode_video(video(3, pascal=True))
    b = decode_video(video(3, pascal=False))
    assert a == b
    assert isinstance(a, VideoDailyData)
    assert a.video_id == 7270855478333246760
    assert a.gmv_1d == 1003 and a.billing_gmv_1d == 103 and a.douyin_id == "dy3"
    assert a.publish_time == dt.datetime(2023, 8, 24, 11, 53, 32, tzinfo=dt.UTC)
    assert a.publish_time.tzinfo is not None
    assert a.date == dt.date(2023, 8, 25)


def test_records_are_frozen() -> None:
    rec = decode_video(video(0))
    with pytest.raises(AttributeError):
        rec.gmv_1d = 5  # type: ignore[misc]


def test_unknown_keys_are_kept() -> None:
    raw = dict(video(1), TalentProfit1d=42)
    rec = decode_video(raw)
    assert rec.extra == {"TalentProfit1d": 42}
    assert decode_video(video(1)).extra == {}
    m = decode_talent_media(dict(media(2), new_field="x"))
    assert isinstance(m, TalentMedia) and m.extra == {"new_field": "x"}


def test_unstructure_round_trip_keeps_ids_and_extras() -> None:
    rec = decode_video(dict(video(5), TalentProfit1d=1))
    data = unstructure(rec)
    assert data["video_id"] == 7270855478333246764
    assert data["publish_time"] == 1692878014 and data["date"] == "2023-08-25"
    assert data["TalentProfit1d"] == 1
    assert decode_video(data) == rec


@pytest.mark.parametrize("broken", [{"VideoId": None}, {"PublishTime": "yesterday"},
                                    {"date": "2023-13-01"}])
def test_bad_values_raise(broken: dict[str, object]) -> None:
    raw = dict(video(0), **broken)
    with pytest.raises((TypeError, ValueError)):
        decode_video(raw)


def test_missing_key_raises() -> None:
    raw = video(0)
    del raw["VideoId"]
    with pytest.raises(KeyError):
        decode_video(raw)

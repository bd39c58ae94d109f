"""Records decode from either key style, keep ids exact and unknown keys reachable."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Mapping
from typing import Any

import attrs
import pytest
from apiserver import media, video

from douyin_async import TalentMedia, VideoDailyData
from douyin_async.converters import (
    VIDEO_PASCAL_KEYS,
    RecordDecoder,
    converter,
    decode_talent_media,
    decode_video,
    unstructure,
)


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


@pytest.fixture(params=[True, False], ids=["c", "python"])
def accelerated(request: pytest.FixtureRequest, accelerator_built: bool) -> bool:
    """Run a test through the C accelerator and through the pure-Python path."""
    if request.param and not accelerator_built:
        pytest.skip("the C accelerator is disabled by DOUYIN_ASYNC_NO_EXTENSIONS")
    return bool(request.param)


def _decoder(style: str, accelerated: bool) -> RecordDecoder[Any]:
    if style == "media":
        return RecordDecoder(TalentMedia, accelerated=accelerated)
    renames = VIDEO_PASCAL_KEYS if style == "pascal" else None
    return RecordDecoder(VideoDailyData, renames, accelerated=accelerated)


def _same(fast: Any, reference: Any) -> None:
    assert fast == reference
    assert hash(fast) == hash(reference)
    assert repr(fast) == repr(reference)
    assert fast.extra == reference.extra
    assert type(fast) is type(reference)
    for field in attrs.fields(type(fast)):
        assert type(getattr(fast, field.name)) is type(getattr(reference, field.name))


def _batch(style: str, accelerated: bool) -> tuple[RecordDecoder[Any], list[dict[str, Any]]]:
    if style == "media":
        raws = [media(i) for i in range(5)]
        raws[3] = dict(raws[3], new_field=[1, 2])
        return _decoder(style, accelerated), raws
    raws = [video(i, pascal=style == "pascal") for i in range(5)]
    unknown = "TalentProfit1d" if style == "pascal" else "talent_profit_1d"
    raws[2] = dict(raws[2], **{unknown: 42, "note": {"a": None}})
    return _decoder(style, accelerated), raws


@pytest.mark.parametrize("style", ["pascal", "snake", "media"])
def test_fast_path_and_reference_build_equal_records(style: str, accelerated: bool) -> None:
    decoder, raws = _batch(style, accelerated)
    assert decoder.accelerated is accelerated
    references = [decoder.reference(raw) for raw in raws]
    for fast in (decoder.many(raws), [decoder(raw) for raw in raws]):
        for got, want in zip(fast, references, strict=True):
            _same(got, want)
    with_extra = decoder.many(raws)[3 if style == "media" else 2]
    assert with_extra.extra and "active_cnt_1d" not in with_extra.extra
    assert decoder.many(raws)[0].extra == {}


def test_records_without_unknown_keys_share_one_read_only_extra(accelerated: bool) -> None:
    a, b = _decoder("pascal", accelerated).many([video(0), video(1)])
    assert a.extra is b.extra and isinstance(a.extra, Mapping)
    with pytest.raises(TypeError):
        a.extra["x"] = 1  # type: ignore[index]
    assert VideoDailyData(**{f.name: getattr(a, f.name) for f in attrs.fields(VideoDailyData)
                             if f.name != "extra"}) == a


def test_converter_structures_records_through_the_registered_hooks() -> None:
    assert converter.structure(video(4), VideoDailyData) == decode_video(video(4))
    assert converter.structure(video(4, pascal=False), VideoDailyData) == decode_video(video(4))
    assert converter.structure(media(1), TalentMedia) == decode_talent_media(media(1))


@pytest.mark.parametrize("odd", [{"VideoId": True}, {"GMV1d": "12"}, {"Author": 123},
                                 {"GMV1d": 12.0}, {"ClientName": None}])
def test_values_of_other_types_get_the_reference_coercions(
        odd: dict[str, object], accelerated: bool) -> None:
    decoder = _decoder("pascal", accelerated)
    raws = [video(0), dict(video(1), **odd), video(2)]
    try:
        want = [decoder.reference(raw) for raw in raws]
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            decoder.many(raws)
        return
    for got, ref in zip(decoder.many(raws), want, strict=True):
        _same(got, ref)


@pytest.mark.parametrize("broken", [{"VideoId": None}, {"PublishTime": "yesterday"},
                                    {"PublishTime": 10**30}, {"date": "2023-13-01"},
                                    {"date": 20230825}])
def test_a_bad_record_in_a_batch_raises_what_the_reference_raises(
        broken: dict[str, object], accelerated: bool) -> None:
    decoder = _decoder("pascal", accelerated)
    raw = dict(video(1), **broken)
    with pytest.raises(Exception) as ref:  # noqa: PT011 - compared below
        decoder.reference(raw)
    with pytest.raises(type(ref.value)) as fast:
        decoder.many([video(0), raw])
    assert str(fast.value) == str(ref.value)


def test_a_missing_key_in_a_batch_raises_key_error(accelerated: bool) -> None:
    raw = video(1)
    del raw["TaskId"]
    with pytest.raises(KeyError, match="TaskId"):
        _decoder("pascal", accelerated).many([video(0), raw])


def test_fast_built_records_are_frozen_and_evolve(accelerated: bool) -> None:
    rec = _decoder("pascal", accelerated).many([video(0)])[0]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rec.gmv_1d = 5  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del rec.gmv_1d  # type: ignore[misc]
    moved = attrs.evolve(rec, gmv_1d=5)
    assert moved.gmv_1d == 5 and rec.gmv_1d == 1000
    assert attrs.evolve(moved, gmv_1d=1000) == rec


def test_unstructure_of_fast_built_records(accelerated: bool) -> None:
    decoder = _decoder("pascal", accelerated)
    plain, extended = decoder.many([video(5), dict(video(5), TalentProfit1d=1)])
    assert unstructure(plain) == unstructure(decoder.reference(video(5)))
    assert "extra" not in unstructure(plain)
    data = unstructure(extended)
    assert data["TalentProfit1d"] == 1 and data["video_id"] == 7270855478333246764
    assert decode_video(data) == extended
    assert converter.unstructure(plain)["extra"] == {}
    media_rec = _decoder("media", accelerated).many([media(3)])[0]
    assert unstructure(media_rec) == media(3)


def test_fast_records_without_extras_leave_the_collector_one_object(accelerated: bool) -> None:
    raws = [video(i) for i in range(3)] + [dict(video(3), TalentProfit1d=7)]
    records = _decoder("pascal", accelerated).many(raws)
    plain, with_extra = records[0], records[3]
    # The accelerator also takes the record itself off the collector's lists: it holds only
    # atomic values, so it can never be part of a cycle.
    assert gc.is_tracked(plain) is not accelerated
    assert gc.is_tracked(with_extra)
    assert not gc.is_tracked(plain.__dict__)
    assert "extra" not in plain.__dict__ and plain.extra == {}
    assert with_extra.extra == {"TalentProfit1d": 7}
    assert attrs.evolve(plain) == plain and attrs.evolve(plain).extra == {}

"""Records decode as real answers need: optional fields, either key style record by record,
strict ints and strings, typed errors naming the field and quoting the record."""

from __future__ import annotations

import copy
import datetime as dt
import gc
import pickle
from typing import Any

import attrs
import pytest
from apiserver import media, video

from douyin_async import TalentMedia, VideoDailyData
from douyin_async.decode.converter import (
    VIDEO_PASCAL_KEYS,
    converter,
    decode_talent_media,
    decode_video,
    talent_media_records,
    unstructure,
    video_records,
)
from douyin_async.errors import InvalidRecordError, ResponseDecodeError
from douyin_async.models import EMPTY_EXTRA

OPTIONAL_NUMBERS = ["active_cnt_1d", "ad_share_cost_1d", "billing_gmv_1d",
                    "billing_refund_gmv_1d", "feed_ad_share_cost_1d", "expected_profit",
                    "gmv_1d", "refund_gmv_1d"]
REQUIRED = ["author", "douyin_id", "micro_app_title", "publish_time", "task_id", "task_name",
            "video_id", "video_link", "video_title"]


def pascal(name: str) -> str:
    return VIDEO_PASCAL_KEYS[name]


def refused(raw: dict[str, Any], field: str) -> InvalidRecordError:
    """Decode ``raw`` through both paths; both must refuse it the same way, naming ``field``."""
    before = copy.deepcopy(raw)
    with pytest.raises(InvalidRecordError) as one:
        decode_video(raw)
    with pytest.raises(InvalidRecordError) as many:
        video_records.many([video(0), raw])
    assert raw == before
    assert one.value.field == many.value.field == field
    assert one.value.reason == many.value.reason
    assert one.value.record == many.value.record == raw
    assert many.value.index == 1
    assert isinstance(one.value, ResponseDecodeError)
    return one.value


def both(raw: dict[str, Any]) -> VideoDailyData:
    """Decode ``raw`` through both paths, which must agree."""
    one = decode_video(raw)
    assert video_records.many([video(1), raw, video(2)])[1] == one
    return one


# -- what the official SDK marks optional ----------------------------------------------------

def test_missing_optional_counters_and_money_become_zero() -> None:
    raw = video(3)
    for name in OPTIONAL_NUMBERS:
        del raw[pascal(name)]
    rec = both(raw)
    assert all(getattr(rec, name) == 0 for name in OPTIONAL_NUMBERS)
    assert rec.author == "author3" and rec.extra == {}


def test_missing_client_name_and_date_become_none() -> None:
    raw = video(3)
    del raw["ClientName"], raw["date"]
    rec = both(raw)
    assert rec.client_name is None and rec.date is None


def test_null_client_name_is_none_not_the_string_none() -> None:
    rec = both(dict(video(3), ClientName=None))
    assert rec.client_name is None


def test_null_counter_becomes_zero() -> None:
    rec = both(dict(video(3), GMV1d=None, ActiveCnt1d=None))
    assert rec.gmv_1d == 0 and rec.active_cnt_1d == 0


def test_null_date_becomes_none() -> None:
    assert both(dict(video(3), date=None)).date is None


def test_a_go_omitempty_record_with_only_the_required_fields_decodes() -> None:
    raw = {pascal(name): value for name, value in video(4, pascal=False).items()
           if name in REQUIRED}
    rec = both(raw)
    assert rec.video_id == 7270855478333246762 and rec.client_name is None


# -- wrong types are refused, never bent -------------------------------------------------------

@pytest.mark.parametrize("value", [12.5, 3.0, True, False, "12", [1], {"a": 1}])
def test_money_of_another_type_is_refused(value: object) -> None:
    error = refused(dict(video(0), GMV1d=value), "gmv_1d")
    assert "gmv_1d" in str(error)


def test_float_money_is_refused_not_truncated() -> None:
    assert "12.5" in refused(dict(video(0), BillingGMV1d=12.5), "billing_gmv_1d").reason


def test_true_is_refused_not_one() -> None:
    refused(dict(video(0), ActiveCnt1d=True), "active_cnt_1d")


def test_float_id_is_refused_not_rounded() -> None:
    refused(dict(video(0), VideoId=7.270855478333247e18), "video_id")


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_an_int_outside_int64_is_refused(value: int) -> None:
    assert "int64" in refused(dict(video(0), TaskId=value), "task_id").reason


def test_int64_bounds_are_accepted() -> None:
    assert both(dict(video(0), TaskId=2**63 - 1, GMV1d=-(2**63))).task_id == 2**63 - 1


@pytest.mark.parametrize("value", [None, 123, ["x"]])
def test_a_non_string_for_a_string_is_refused(value: object) -> None:
    refused(dict(video(0), Author=value), "author")


def test_a_non_string_client_name_is_refused() -> None:
    refused(dict(video(0), ClientName=42), "client_name")


def test_nanosecond_publish_time_is_refused_not_an_os_error() -> None:
    refused(dict(video(0), PublishTime=1692878009 * 10**9), "publish_time")


def test_millisecond_publish_time_is_refused() -> None:
    refused(dict(video(0), PublishTime=1692878009000), "publish_time")


@pytest.mark.parametrize("value", [-1, 10**30, 1692878009.5, "1692878009"])
def test_out_of_range_or_odd_publish_times_are_refused(value: object) -> None:
    refused(dict(video(0), PublishTime=value), "publish_time")


def test_the_last_second_of_year_9999_is_accepted() -> None:
    rec = both(dict(video(0), PublishTime=253402300799))
    assert rec.publish_time == dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)


@pytest.mark.parametrize("value", ["2023-13-01", "20230825", "2023-W34-5", "2023-08-25T00:00",
                                   20230825, ""])
def test_a_date_that_is_not_yyyy_mm_dd_is_refused(value: object) -> None:
    refused(dict(video(0), date=value), "date")


@pytest.mark.parametrize("name", REQUIRED)
def test_a_missing_required_field_is_refused_naming_it(name: str) -> None:
    raw = video(0)
    del raw[pascal(name)]
    assert refused(raw, name).reason == "missing"


@pytest.mark.parametrize("name", REQUIRED)
def test_a_null_required_field_is_refused(name: str) -> None:
    assert refused(dict(video(0), **{pascal(name): None}), name).reason == "null"


def test_a_record_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidRecordError) as info:
        video_records.many([video(0), [1, 2], video(1)])
    assert info.value.index == 1 and info.value.record == [1, 2] and info.value.field == ""


# -- key styles --------------------------------------------------------------------------------

def test_pascal_and_snake_keys_give_the_same_record() -> None:
    a, b = decode_video(video(3)), decode_video(video(3, pascal=False))
    assert a == b
    assert a.video_id == 7270855478333246760 and a.douyin_id == "dy3"
    assert a.publish_time == dt.datetime(2023, 8, 24, 11, 53, 32, tzinfo=dt.UTC)
    assert a.date == dt.date(2023, 8, 25)


def test_key_styles_mix_within_a_page_record_by_record() -> None:
    raws = [video(i, pascal=i % 3 != 0) for i in range(9)]
    records = video_records.many(raws)
    assert [r.video_id for r in records] == [decode_video(video(i)).video_id for i in range(9)]
    assert records == [decode_video(video(i)) for i in range(9)]


def test_a_record_with_both_spellings_of_a_field_is_refused() -> None:
    error = refused(dict(video(0), gmv_1d=5), "gmv_1d")
    assert "GMV1d" in error.reason and "gmv_1d" in error.reason
    snake = video(0, pascal=False)
    refused(dict(snake, TaskId=snake["task_id"]), "task_id")


def test_a_record_spelling_different_fields_in_different_styles_decodes() -> None:
    raw = video(2)
    raw["gmv_1d"] = raw.pop("GMV1d")
    assert both(raw) == decode_video(video(2))


def test_unknown_keys_are_kept_in_extra_never_an_error() -> None:
    rec = both(dict(video(1), TalentProfit1d=42, note={"a": None}))
    assert rec.extra == {"TalentProfit1d": 42, "note": {"a": None}}
    assert decode_video(video(1)).extra == {}
    m = decode_talent_media(dict(media(2), new_field="x"))
    assert isinstance(m, TalentMedia) and m.extra == {"new_field": "x"}


# -- talent media ----------------------------------------------------------------------------

def test_talent_media_counters_and_money_are_optional() -> None:
    raw = {"content_open_id": "@x", "content_type": 1, "gmv": None}
    rec = decode_talent_media(raw)
    assert (rec.gmv, rec.play_cnt, rec.talent_commission, rec.used_gmv) == (0, 0, 0, 0)
    assert talent_media_records.many([media(1), raw])[1] == rec


@pytest.mark.parametrize(("change", "field"), [
    ({"content_open_id": None}, "content_open_id"), ({"content_type": True}, "content_type"),
    ({"gmv": 1.5}, "gmv"), ({"play_cnt": "9"}, "play_cnt"),
])
def test_talent_media_wrong_values_are_refused(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRecordError) as info:
        talent_media_records.many([media(0), dict(media(1), **change)])
    assert info.value.field == field and info.value.index == 1


def test_talent_media_without_its_identity_is_refused() -> None:
    raw = media(1)
    del raw["content_type"]
    with pytest.raises(InvalidRecordError, match="content_type"):
        decode_talent_media(raw)


# -- the errors and the batch interface ------------------------------------------------------

def test_the_error_names_the_field_and_quotes_the_record_shortly() -> None:
    raw = dict(video(7), GMV1d=12.5, VideoTitle="x" * 5000)
    with pytest.raises(InvalidRecordError) as info:
        video_records.many([video(0), video(1), raw], offset=100)
    error = info.value
    assert (error.field, error.index, error.record) == ("gmv_1d", 102, raw)
    assert error.reason == "not an integer: 12.5"
    text = str(error)
    assert "record 102" in text and "'gmv_1d'" in text and '"Author":"author7"' in text
    assert len(text) < 400
    again = pickle.loads(pickle.dumps(error))
    assert (again.field, again.reason, again.index, again.record) == ("gmv_1d", error.reason,
                                                                       102, raw)


def test_many_raises_the_first_bad_record_of_the_page() -> None:
    raws = [video(i, pascal=i % 2 == 0) for i in range(6)]
    raws[4] = dict(raws[4], GMV1d="x")
    raws[3] = dict(raws[3], task_id=None)
    with pytest.raises(InvalidRecordError) as info:
        video_records.many(raws)
    assert info.value.index == 3 and info.value.field == "task_id"


def test_split_keeps_the_good_records_in_order_and_refuses_each_bad_one() -> None:
    raws = [video(i, pascal=i % 2 == 0) for i in range(8)]
    raws[1] = dict(raws[1], video_id=1.5)
    raws[6] = dict(raws[6], PublishTime=None)
    records, errors = video_records.split(raws)
    assert [e.index for e in errors] == [1, 6]
    assert [e.record for e in errors] == [raws[1], raws[6]]
    assert records == [decode_video(raws[i]) for i in (0, 2, 3, 4, 5, 7)]


def test_the_batch_leaves_the_raw_dicts_as_they_were() -> None:
    raws = [dict(video(i), TalentProfit1d=i) for i in range(3)] + [video(3, pascal=False)]
    before = copy.deepcopy(raws)
    video_records.many(raws)
    video_records.split(raws + [{"VideoId": 1.5}])
    assert raws == before


def test_empty_batches() -> None:
    assert video_records.many([]) == [] and video_records.split([]) == ([], [])


def test_converter_structures_one_record_and_a_list() -> None:
    raws = [video(4), video(5, pascal=False)]
    assert converter.structure(raws[0], VideoDailyData) == decode_video(raws[0])
    assert converter.structure(raws, list[VideoDailyData]) == [decode_video(r) for r in raws]
    assert converter.structure(media(1), TalentMedia) == decode_talent_media(media(1))
    assert converter.structure([media(1)], list[TalentMedia]) == [decode_talent_media(media(1))]
    with pytest.raises(InvalidRecordError):
        converter.structure([dict(video(0), GMV1d=1.5)], list[VideoDailyData])


# -- the records -----------------------------------------------------------------------------

def test_unstructure_round_trip_keeps_ids_extras_and_nones() -> None:
    rec = decode_video(dict(video(5), TalentProfit1d=1, ClientName=None, date=None))
    data = unstructure(rec)
    assert data["video_id"] == 7270855478333246764 and data["publish_time"] == 1692878014
    assert data["client_name"] is None and data["date"] is None
    assert data["TalentProfit1d"] == 1 and "extra" not in data
    assert decode_video(data) == rec
    assert unstructure(decode_video(video(5)))["date"] == "2023-08-25"
    assert unstructure(talent_media_records.many([media(3)])[0]) == media(3)


def test_batch_records_are_frozen_evolve_and_pickle() -> None:
    rec = video_records.many([video(0)])[0]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rec.gmv_1d = 5  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del rec.gmv_1d  # type: ignore[misc]
    moved = attrs.evolve(rec, gmv_1d=5)
    assert moved.gmv_1d == 5 and rec.gmv_1d == 1000 and attrs.evolve(moved, gmv_1d=1000) == rec
    assert type(rec) is VideoDailyData and pickle.loads(pickle.dumps(rec)) == rec
    assert VideoDailyData(**{f.name: getattr(rec, f.name) for f in attrs.fields(VideoDailyData)
                             if f.name != "extra"}) == rec


def test_records_without_unknown_keys_share_one_read_only_extra() -> None:
    a, b = video_records.many([video(0), video(1, pascal=False)])
    assert a.extra is b.extra
    with pytest.raises(TypeError):
        a.extra["x"] = 1  # type: ignore[index]
    assert a.extra is EMPTY_EXTRA and pickle.loads(pickle.dumps(a)).extra is EMPTY_EXTRA


def test_records_are_one_slotted_object_each() -> None:
    plain, with_extra = video_records.many([video(0), dict(video(1), TalentProfit1d=7)])
    media_record = talent_media_records.many([media(3)])[0]
    for record in (plain, with_extra, media_record, decode_video(video(2))):
        assert not hasattr(record, "__dict__")
    assert with_extra.extra == {"TalentProfit1d": 7} and not gc.is_tracked(with_extra.extra)

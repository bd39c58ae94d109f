"""The C accelerator of record decoding: same records as the Python path, no leaked refs."""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
from typing import Any

import pytest
from apiserver import video

from douyin_async import VideoDailyData, converters
from douyin_async.converters import VIDEO_PASCAL_KEYS, RecordDecoder, video_decoder


@pytest.fixture
def fast(accelerator_built: bool) -> RecordDecoder[VideoDailyData]:
    if not accelerator_built:
        pytest.skip("the C accelerator is disabled by DOUYIN_ASYNC_NO_EXTENSIONS")
    return RecordDecoder(VideoDailyData, VIDEO_PASCAL_KEYS, accelerated=True)


@pytest.fixture
def python() -> RecordDecoder[VideoDailyData]:
    return RecordDecoder(VideoDailyData, VIDEO_PASCAL_KEYS, accelerated=False)


def test_the_accelerator_is_built_and_used_by_default(accelerator_built: bool) -> None:
    # An install whose compiler failed would otherwise fall back silently.
    assert converters.ACCELERATED is accelerator_built
    assert video_decoder(video(0)).accelerated is accelerator_built
    assert converters.talent_media_decoder.accelerated is accelerator_built


def test_asking_for_an_accelerator_that_is_not_built_fails(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(converters, "_c_build", None)
    with pytest.raises(RuntimeError, match="not built"):
        RecordDecoder(VideoDailyData, VIDEO_PASCAL_KEYS, accelerated=True)
    assert not RecordDecoder(VideoDailyData, VIDEO_PASCAL_KEYS, accelerated=False).accelerated


EDGES = [0, 1, 59, 3599, 86399, 86400, 68169600, 951782400, 951868799, 1692878009,
         2147483647, 2147483648, 4102444800, 253402300799]


def test_timestamps_give_the_same_datetimes_as_fromtimestamp(
        fast: RecordDecoder[VideoDailyData]) -> None:
    rnd = random.Random(7)
    stamps = EDGES + [rnd.randrange(0, 253402300800) for _ in range(5000)]
    records = fast.many([dict(video(0), PublishTime=ts) for ts in stamps])
    for ts, rec in zip(stamps, records, strict=True):
        want = dt.datetime.fromtimestamp(ts, dt.UTC)
        got = rec.publish_time
        assert (got, got.tzinfo, got.fold, type(got)) == (want, want.tzinfo, 0, dt.datetime), ts


@pytest.mark.parametrize("ts", [-1, -86401, 253402300800, 2**63, -(2**63) - 1])
def test_timestamps_outside_the_fast_range_go_the_python_way(
        ts: int, fast: RecordDecoder[VideoDailyData],
        python: RecordDecoder[VideoDailyData]) -> None:
    raws = [video(0), dict(video(1), PublishTime=ts)]
    try:
        want = python.many(raws)
    except Exception as exc:  # noqa: BLE001 - the same exception is expected below
        with pytest.raises(type(exc)) as got:
            fast.many(raws)
        assert str(got.value) == str(exc)
        return
    assert fast.many(raws) == want
    assert fast.many(raws)[1].publish_time == dt.datetime.fromtimestamp(ts, dt.UTC)


def test_keys_equal_but_not_identical_still_match(fast: RecordDecoder[VideoDailyData]) -> None:
    # Keys built at run time are other string objects than the decoder's own.
    raws = [{"".join(list(k)): v for k, v in video(i).items()} for i in range(3)]
    assert fast.many(raws) == [converters.decode_video(video(i)) for i in range(3)]


class Str(str):
    pass


class Int(int):
    pass


@pytest.mark.parametrize("odd", [{"Author": Str("a")}, {"GMV1d": Int(5)},
                                 {"PublishTime": Int(1692878009)}, {"date": Str("2023-08-25")},
                                 {"date": "2031-02-03"}])
def test_subclasses_and_new_dates_match_the_python_path(
        odd: dict[str, Any], fast: RecordDecoder[VideoDailyData],
        python: RecordDecoder[VideoDailyData]) -> None:
    raws = [video(0), dict(video(1), **odd)]
    got, want = fast.many(raws), python.many(raws)
    assert got == want
    for field in ("author", "gmv_1d", "publish_time", "date"):
        assert type(getattr(got[1], field)) is type(getattr(want[1], field))


def test_non_dict_records_raise_what_the_python_path_raises(
        fast: RecordDecoder[VideoDailyData], python: RecordDecoder[VideoDailyData]) -> None:
    for bad in ([video(0), ["not", "a", "dict"]], [None, video(0)]):
        with pytest.raises(Exception) as want:  # noqa: PT011 - compared below
            python.many(bad)  # type: ignore[arg-type]
        with pytest.raises(type(want.value)) as got:
            fast.many(bad)  # type: ignore[arg-type]
        assert str(got.value) == str(want.value)


def _probe(i: int, **changes: Any) -> dict[str, Any]:
    """A record whose every value is an object of its own, so its refcount can be watched."""
    raw = {k: (v + 10**15 + i * 100 + n if type(v) is int else f"{v}-probe-{i}")
           for n, (k, v) in enumerate(video(i).items())}
    raw["PublishTime"], raw["date"] = 1692878009 + i, "2023-08-25"
    return dict(raw, **changes)


def test_no_reference_is_leaked_or_lost(fast: RecordDecoder[VideoDailyData]) -> None:
    raws = [_probe(i) for i in range(50)]
    raws.append(_probe(50, TalentProfit1d=10**15))  # the slow path
    bad = [*raws, _probe(51, date="2023-02-30")]  # a record that raises, after the others
    values = [v for raw in bad for v in raw.values()]
    before = [sys.getrefcount(v) for v in values]
    for _ in range(20):
        records = fast.many(raws)
        assert records[10].author == raws[10]["Author"] and records[50].extra == {
            "TalentProfit1d": 10**15}
        del records
        with pytest.raises(ValueError):
            fast.many(bad)
    assert [sys.getrefcount(v) for v in values] == before


def test_bad_arguments_are_refused() -> None:
    build = converters._c_build
    if build is None:
        pytest.skip("the C accelerator is not built")
    good: list[Any] = [[video(0)], VideoDailyData, ("VideoId",), ("video_id",), b"\x00",
                       lambda raw: raw, dt.UTC, {}, dt.date.fromisoformat]
    assert build(*good)  # the slow path takes the record that has more keys than fields
    with pytest.raises(TypeError, match="9 arguments"):
        build(*good[:8])
    for i, wrong in [(0, (video(0),)), (1, "VideoDailyData"), (4, "x"), (6, "UTC"), (7, [])]:
        with pytest.raises(TypeError, match="wrong type"):
            build(*good[:i], wrong, *good[i + 1:])
    with pytest.raises(ValueError, match="must match"):
        build(*good[:3], ("video_id", "task_id"), *good[4:])
    with pytest.raises(TypeError, match="strings"):
        build(good[0], good[1], (1,), *good[3:])


def test_the_pure_python_path_can_be_chosen_by_environment() -> None:
    script = (
        "from douyin_async import converters\n"
        "from douyin_async.converters import video_decoder\n"
        "raw = {'VideoId': 1, 'TaskId': 2}\n"
        "print(converters.ACCELERATED, video_decoder(raw).accelerated)\n"
    )
    env = dict(os.environ, DOUYIN_ASYNC_NO_EXTENSIONS="1")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.split() == ["False", "False"]

"""The page decoder on an answer's bytes: msgspec's paths give what orjson and the reference
decoder give, answer, records and errors alike, and the collector is left alone."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import pytest
from apiserver import video
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_records_differential import assert_same_error, assert_same_lists, values, video_pages

from douyin_async.api import decoding
from douyin_async.api.decoding import PageDecoder
from douyin_async.api.endpoints import TASK_VIDEOS, VIDEO_RECORDS_KEY
from douyin_async.decode import answers
from douyin_async.decode.converter import converter, video_records
from douyin_async.errors import ApiError, DouyinError, InvalidRecordError, ResponseDecodeError
from douyin_async.http.transport import Response
from douyin_async.models import VideoDailyData

KEY = VIDEO_RECORDS_KEY


def answer(records: Any, ascii: bool = True, compact: bool = False, **top: Any) -> bytes:
    """An answer's bytes: spaced as ``json.dumps`` writes them, or ``compact`` (as the
    platform writes them, whose record array the decoder cuts into runs)."""
    data = {KEY: records, **top.pop("data", {})}
    return json.dumps({"err_no": 0, "err_msg": "", "log_id": "L1", **top, "data": data},
                      ensure_ascii=ascii, separators=(",", ":") if compact else None).encode()


async def outcome(body: bytes, mode: str, exact: bool, monkeypatch: pytest.MonkeyPatch,
                  pieces: bool | None = None) -> Any:
    """What the decoder makes of ``body``: (answer, records, refused) or the error raised;
    ``exact`` forces the one orjson parse, ``pieces`` msgspec's decode of the records'
    texts a chunk at a time (True) or of the whole answer at once (False)."""
    real = answers.parse_answer
    with monkeypatch.context() as patch:
        if exact:
            patch.setattr(decoding, "parse_answer", lambda records, body, key, **_: None)
        elif pieces is not None:
            patch.setattr(decoding, "parse_answer", lambda records, body, key, **_: real(
                records, body, key, pieces=pieces))
        try:
            return await PageDecoder(chunk=7, invalid_records=mode).decode(  # type: ignore[arg-type]
                TASK_VIDEOS, Response(200, {}, body), page=3)
        except DouyinError as error:
            return error


def assert_same(got: Any, want: Any) -> None:
    if isinstance(want, BaseException):
        assert type(got) is type(want), (got, want)
        if isinstance(want, InvalidRecordError):
            assert_same_error(got, want)
            assert (got.endpoint, got.log_id) == (want.endpoint, want.log_id)
        assert str(got) == str(want)
        return
    assert not isinstance(got, BaseException), got
    answer, records, refused = got.answer, got.records, got.rejected
    want_answer, want_records, want_refused = want.answer, want.records, want.rejected
    assert answer == want_answer
    assert_same_lists(records, want_records, refused, want_refused)


tops = st.sampled_from([{}, {"extra": {"now": 1746853434460}}, {"zz": [1]}, {"err_no": 10},
                        {"data": {"error_code": 0}}, {"data": {"more": 1}}, {"log_id": 2**70}])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=video_pages(), top=tops, ascii=st.booleans(), compact=st.booleans(),
       mode=st.sampled_from(["raise", "collect"]))
async def test_bytes_decode_as_orjson_and_the_reference_do(
        page: list[Any], top: dict[str, Any], ascii: bool, compact: bool, mode: str) -> None:
    body = answer(page, ascii, compact, **top)
    with pytest.MonkeyPatch.context() as patch:
        exact = await outcome(body, mode, True, patch)
        for pieces in (False, True):
            assert_same(await outcome(body, mode, False, patch, pieces), exact)


@settings(max_examples=100, deadline=None)
@given(extra=st.dictionaries(st.sampled_from(["A", "B", "C"]), values, min_size=1),
       pascal=st.booleans(), cut=st.integers(0, 40), compact=st.booleans())
async def test_unknown_values_and_cut_bodies_decode_as_orjson_does(
        extra: dict[str, Any], pascal: bool, cut: int, compact: bool) -> None:
    body = answer([dict(video(i, pascal=pascal), **extra) for i in range(20)], False, compact)
    for b in (body, body[:len(body) - cut]):
        with pytest.MonkeyPatch.context() as patch:
            for mode in ("raise", "collect"):
                exact = await outcome(b, mode, True, patch)
                for pieces in (False, True):
                    assert_same(await outcome(b, mode, False, patch, pieces), exact)


async def test_invalid_utf8_anywhere_is_refused_as_orjson_refuses() -> None:
    good = answer([video(i) for i in range(3)], zz="x", data={"more": "y"})
    for at in (good.index(b"L1"), good.index(b'"Author"') + 11, good.index(b'"x"') + 1,
               good.index(b'"y"') + 1):
        body = good[:at] + b"\xff" + good[at:]
        with pytest.MonkeyPatch.context() as patch:
            got = await outcome(body, "raise", False, patch)
            assert isinstance(got, ResponseDecodeError)
            assert_same(got, await outcome(body, "raise", True, patch))


async def test_a_page_of_one_key_style_is_built_from_rows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[Any] = []
    real = answers.parse_answer

    def spy(records: Any, body: bytes, key: str, **kw: Any) -> Any:
        parsed.append(real(records, body, key, **kw))
        return parsed[-1]

    monkeypatch.setattr(decoding, "parse_answer", spy)
    read: list[int] = []
    real_read = decoding._read
    monkeypatch.setattr(decoding, "_read", lambda e, r, body: read.append(len(body))
                        or real_read(e, r, body))
    for pascal in (True, False):
        raws = [dict(video(i, pascal=pascal), Note=i) for i in range(100)]
        body = answer(raws)
        assert len(body) <= decoding.SMALL_BODY  # a large one is decoded in pieces
        decoded = await PageDecoder().decode(TASK_VIDEOS, Response(200, {}, body))
        got, records = decoded.answer, decoded.records
        assert "Note" in parsed[-1].unknown and not read  # the body is never parsed whole
        assert records == video_records.many(raws) and len(got.raw) == 100
        assert records[5].extra == {"Note": 5}


async def test_a_mixed_page_is_decoded_a_chunk_at_a_time_by_key_style(
        monkeypatch: pytest.MonkeyPatch) -> None:
    chunks: list[int] = []
    real = answers.from_array

    def spy(records: Any, blob: bytes, texts: Any = None) -> Any:
        got = real(records, blob, texts)
        chunks.append(len(got) if got is not None else -1)
        return got

    monkeypatch.setattr(answers, "from_array", spy)
    read: list[int] = []
    real_read = decoding._read
    monkeypatch.setattr(decoding, "_read", lambda e, r, body: read.append(len(body))
                        or real_read(e, r, body))
    raws = [dict(video(i, pascal=i % 2 == 0), **({"Note": i} if i % 3 else {}))
            for i in range(300)]
    body = answer(raws)
    assert len(body) > decoding.SMALL_BODY
    records = (await PageDecoder(chunk=50).decode(TASK_VIDEOS, Response(200, {}, body))).records
    assert records == video_records.many(raws) and not read
    assert sum(chunks) == 300 and max(chunks) <= 50 and len(chunks) <= 8  # runs of ~50
    assert [r.extra for r in records] == [raw.get("Note") and {"Note": raw["Note"]} or {}
                                          for raw in raws]


async def test_an_error_answer_with_records_raises_its_error() -> None:
    body = answer([video(i) for i in range(200)], err_no=28003018, err_msg="too many")
    with pytest.raises(ApiError) as caught:
        await PageDecoder().decode(TASK_VIDEOS, Response(200, {}, body), page=1)
    assert caught.value.code == 28003018 and caught.value.log_id == "L1"


async def test_a_cut_body_is_a_retryable_decode_error() -> None:
    body = answer([video(i) for i in range(200)])
    with pytest.raises(ResponseDecodeError) as cut:
        await PageDecoder().decode(TASK_VIDEOS, Response(200, {}, body[:-40]), page=1)
    assert cut.value.retryable


async def test_the_decoder_never_switches_the_collector(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(gc, "disable", lambda: calls.append("disable"))
    monkeypatch.setattr(gc, "enable", lambda: calls.append("enable"))
    for raws in ([video(i) for i in range(600)],
                 [video(i, pascal=i % 2 == 0) for i in range(600)]):
        await PageDecoder().decode(TASK_VIDEOS, Response(200, {}, answer(raws)), page=1)
    assert calls == []


def test_the_documented_list_call_takes_the_registered_batch_hook(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``converter.structure(raws, list[VideoDailyData])`` runs the decoder's batch path once,
    not cattrs' list hook calling the one-record hook per record."""
    raws = [video(i, pascal=i % 3 != 0) for i in range(50)]
    ones: list[int] = []
    batches: list[int] = []
    real_one, real_split = video_records.one, video_records.split
    monkeypatch.setattr(video_records, "one", lambda raw, index=-1: ones.append(index)
                        or real_one(raw, index))
    monkeypatch.setattr(video_records, "split", lambda raws, offset=0: batches.append(
        len(raws)) or real_split(raws, offset=offset))
    records = converter.structure(raws, list[VideoDailyData])
    assert ones == [] and batches == [50]
    assert [r.video_id for r in records] == [raw.get("VideoId", raw.get("video_id"))
                                             for raw in raws]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 253_402_300_799) | st.sampled_from([0, 253_402_300_799, 86_399]),
                max_size=20))
def test_datetimes_made_in_c_are_fromtimestamp_s(seconds: list[int]) -> None:
    import datetime as dt

    from douyin_async.decode.batch import unix_datetimes

    made = unix_datetimes(seconds)
    want = [dt.datetime.fromtimestamp(s, dt.UTC) for s in seconds]
    assert made == want
    assert all(type(m) is dt.datetime and m.tzinfo is dt.UTC for m in made)


async def test_unknown_keys_msgspec_cannot_name_are_kept_by_the_reference() -> None:
    for key in ('a"b', "back\\slash", "tab\t"):
        raws = [dict(video(i), **{key: i}) for i in range(5)]
        assert [r.extra for r in video_records.many(raws)] == [{key: i} for i in range(5)]
        records = (await PageDecoder().decode(TASK_VIDEOS, Response(200, {}, answer(raws)))).records
        assert [r.extra for r in records] == [{key: i} for i in range(5)]
    assert video_records.many([video(1)]) == [video_records.one(video(1))]


async def test_a_record_of_another_style_between_the_samples_is_decoded_exactly() -> None:
    raws = [video(i) for i in range(400)]
    raws[213] = video(213, pascal=False)
    raws[300] = dict(video(300), task_id=5)  # both spellings of one field: refused
    body = answer(raws)
    assert len(body) > answers.SAMPLES * answers.SAMPLE_BYTES
    assert answers.parse_answer(video_records, body, KEY).unknown is None  # the texts' path
    with pytest.MonkeyPatch.context() as patch:
        for mode in ("raise", "collect"):
            assert_same(await outcome(body, mode, False, patch),
                        await outcome(body, mode, True, patch))


async def test_an_answer_is_decoded_in_the_style_its_first_records_show() -> None:
    """Records that open with a key both styles spell alike (``date``) are still decoded as
    rows of their one style; an answer whose first records mix styles takes the texts'
    path. Every way gives what orjson's parse gives."""
    for pascal in (True, False):
        raws = [{"date": "2023-08-25", **video(i, pascal=pascal)} for i in range(50)]
        body = answer(raws, compact=True)
        assert answers.parse_answer(video_records, body, KEY).unknown is not None  # rows
        with pytest.MonkeyPatch.context() as patch:
            assert_same(await outcome(body, "raise", False, patch),
                        await outcome(body, "raise", True, patch))
    mixed = answer([video(0), video(1, pascal=False), *(video(i) for i in range(2, 50))])
    assert answers.parse_answer(video_records, mixed, KEY).unknown is None


async def test_a_large_answer_of_one_style_is_decoded_a_chunk_at_a_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No msgspec call of a large answer decodes more records than a chunk; the records and
    errors are those of the whole answer decoded at once, and of orjson's parse."""
    sizes: list[int] = []
    real = answers._records

    def spy(decoder: Any, style: int, blob: bytes) -> Any:
        got = real(decoder, style, blob)
        sizes.append(len(got) if got is not None else -1)
        return got

    for pascal in (True, False):
        raws = [dict(video(i, pascal=pascal), Note=i) for i in range(600)]
        body = answer(raws)
        assert len(body) > decoding.SMALL_BODY
        with monkeypatch.context() as patch:
            patch.setattr(answers, "_records", spy)
            sizes.clear()
            decoded = await PageDecoder(chunk=100).decode(TASK_VIDEOS, Response(200, {}, body))
        assert sum(sizes) == 600 and max(sizes) <= 100 and len(sizes) <= 7  # runs of ~100
        assert decoded.records == video_records.many(raws) and len(decoded.answer.raw) == 600
        raws[350] = dict(raws[350], **{"TaskId" if not pascal else "task_id": 1})  # refused
        raws[420] = video(420, pascal=not pascal)  # another style
        body = answer(raws)
        with pytest.MonkeyPatch.context() as patch:
            for mode in ("raise", "collect"):
                exact = await outcome(body, mode, True, patch)
                assert_same(await outcome(body, mode, False, patch, True), exact)
                assert_same(await outcome(body, mode, False, patch, False), exact)


async def test_large_answers_of_several_clients_decode_one_at_a_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two decoders in one loop: the second large page is built only once the first is."""
    built: list[int] = []
    real = answers.ParsedAnswer.split

    def spy(self: Any, start: int, stop: int) -> Any:
        built.append(self.envelope["log_id"])
        return real(self, start, stop)

    monkeypatch.setattr(answers.ParsedAnswer, "split", spy)
    pages = [answer([video(i) for i in range(300)], log_id=name) for name in ("A", "B")]
    assert min(map(len, pages)) > decoding.SMALL_BODY
    got = await asyncio.gather(*(PageDecoder(chunk=50).decode(
        TASK_VIDEOS, Response(200, {}, body), page=1) for body in pages))
    assert [len(d.records) for d in got] == [300, 300]
    assert built == ["A"] * 6 + ["B"] * 6

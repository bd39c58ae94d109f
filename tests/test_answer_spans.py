"""A large answer's record array cut into runs of records unread: the records and errors are
those of orjson's one parse, however the bytes try to mislead the cuts."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import pytest
from apiserver import video
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_page_decoder import KEY, assert_same, outcome

from douyin_async.api import decoding
from douyin_async.api.decoding import PageDecoder
from douyin_async.api.endpoints import TASK_VIDEOS
from douyin_async.decode import answers, spans
from douyin_async.decode.converter import video_records
from douyin_async.http.transport import Response


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def body_of(raws: list[Any], **top: Any) -> bytes:
    return compact({"err_no": 0, "err_msg": "", "log_id": "L1", **top, "data": {KEY: raws}})


async def same_as_exact(body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    for mode in ("raise", "collect"):
        assert_same(await outcome(body, mode, False, monkeypatch, True),
                    await outcome(body, mode, True, monkeypatch))


async def test_a_compact_large_answer_is_cut_into_runs_of_about_a_chunk() -> None:
    raws = [dict(video(i), Note=i) for i in range(600)]
    body = body_of(raws)
    assert len(body) > decoding.SMALL_BODY
    parsed = answers.parse_answer(video_records, body, KEY, pieces=True)
    assert parsed is not None and parsed.body is body and parsed.rows == []
    cuts = list(parsed.pieces(100))
    assert len(cuts) in (6, 7) and cuts[0][0] == body.index(b"[{") + 1
    assert cuts[-1][1] == body.rindex(b"]")
    assert all(body[stop:start] == b"," for (_, stop), (start, _) in pairwise(cuts))
    decoded = await PageDecoder(chunk=100).decode(TASK_VIDEOS, Response(200, {}, body), page=1)
    assert decoded.records == video_records.many(raws) and len(decoded.answer.raw) == 600


async def test_record_ends_inside_strings_and_nested_values_do_not_cut_records(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``},{`` inside titles, ``]`` in texts, arrays of objects in unknown keys: wherever a cut
    lands, the records are orjson's."""
    tricky = ['"},{"TaskId":1,"VideoId":2}', "]", "},{", '\\"},{', "x}],[{y"]
    raws = [dict(video(i), VideoTitle=tricky[i % len(tricky)] * 3,
                 Note=[{"a": i}, {"b": [{"c": 1}, {"d": "},{"}]}]) for i in range(40)]
    for chunk in (1, 2, 3, 7):
        got = await PageDecoder(chunk=chunk).decode(TASK_VIDEOS,
                                                    Response(200, {}, body_of(raws)))
        assert got.records == video_records.many(raws)
    await same_as_exact(body_of(raws), monkeypatch)


async def test_a_decoy_array_or_an_escaped_key_is_never_taken_for_the_records(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = compact([video(i) for i in range(5)])
    fake = compact([video(100 + i) for i in range(3)])
    escaped = b'"\\u0076ideo_daily_data_list"'
    bodies = [
        # a decoy array earlier, in the envelope's extra; the real key spelled with an escape
        b'{"extra":{"video_daily_data_list":' + fake + b'},"err_no":0,"log_id":"L",'
        b'"data":{' + escaped + b':' + real + b'}}',
        # the same with an empty real array: only the escaped key is the answer's
        b'{"extra":{"video_daily_data_list":' + fake + b'},"err_no":0,"log_id":"L",'
        b'"data":{' + escaped + b':[]}}',
        # the key twice at the top of data: the last one is the answer's
        b'{"err_no":0,"log_id":"L","data":{"video_daily_data_list":' + fake + b','
        b'"video_daily_data_list":' + real + b'}}',
        # a list after the records: the last "]" is not the array's
        b'{"err_no":0,"log_id":"L","data":{"video_daily_data_list":' + real + b'},'
        b'"extra":{"ids":[1,2]}}',
        # records spaced out: nothing to cut at
        b'{"err_no":0,"log_id":"L","data":{"video_daily_data_list":'
        + real.replace(b"},{", b"}, {") + b'}}',
        # an empty array, and a key in the message
        b'{"err_no":0,"err_msg":"video_daily_data_list","log_id":"L",'
        b'"data":{"video_daily_data_list":[]}}',
    ]
    for body in bodies:
        await same_as_exact(body, monkeypatch)


async def test_a_cut_that_is_not_whole_records_falls_back_to_the_one_parse(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that is not whole records (a cut inside a string) sends the answer to orjson's
    parse, which the records then come from."""
    raws = [dict(video(i), VideoTitle='"},{"') for i in range(30)]
    body = body_of(raws)
    parsed = answers.parse_answer(video_records, body, KEY, pieces=True)
    assert parsed is not None and parsed.body is body
    first = next(iter(spans.runs(body, *parsed.span, 1)))
    assert parsed.split(*first) is None  # cut inside the first record's title
    read: list[int] = []
    real_read = decoding._read
    monkeypatch.setattr(decoding, "_read", lambda e, r, b: read.append(len(b))
                        or real_read(e, r, b))
    await same_as_exact(body, monkeypatch)
    assert read  # the exact path ran


BASE = body_of([dict(video(i), Note=[{"a": i}, "x},{y"]) if i % 4 == 0 else video(i)
                for i in range(24)])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(0, len(BASE) - 1),
                                st.sampled_from([b"", b"}", b"{", b",", b"]", b"[", b'"',
                                                 b"\\", b":", b"},{", b" ", b"0"]),
                                st.integers(0, 3)), min_size=1, max_size=3),
       chunk=st.integers(1, 9))
async def test_edited_answers_decode_as_orjson_does(
        edits: list[tuple[int, bytes, int]], chunk: int) -> None:
    """Bytes inserted or replaced anywhere in a compact answer, JSON's own punctuation
    mostly: cut into runs of ``chunk`` records, it gives orjson's answer, records or error."""
    body = BASE
    for at, text, drop in edits:
        body = body[:at] + text + body[at + drop:]
    with pytest.MonkeyPatch.context() as patch:
        for mode in ("raise", "collect"):
            exact = await outcome(body, mode, True, patch)
            with patch.context() as inner:
                inner.setattr(decoding.PageDecoder, "__init__", _chunked(chunk))
                assert_same(await outcome(body, mode, False, inner, True), exact)


def _chunked(chunk: int) -> Any:
    real = decoding.PageDecoder.__init__

    def init(self: Any, *, chunk_: int = chunk, **kw: Any) -> None:
        kw.pop("chunk", None)
        real(self, chunk=chunk_, **kw)

    return init


async def test_one_long_record_among_short_ones_does_not_make_every_run_long(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs are sized by the records' mean size measured across the array, not by the first
    record's: a 60 KB first record is a run of its own, the others come about a chunk at a
    time."""
    raws = [dict(video(0), VideoTitle="x" * 60_000)] + [video(i) for i in range(1, 600)]
    body = body_of(raws)
    parsed = answers.parse_answer(video_records, body, KEY, pieces=True)
    assert parsed is not None and parsed.body is body
    cuts = list(parsed.pieces(100))
    assert 6 <= len(cuts) <= 12, len(cuts)
    await same_as_exact(body, monkeypatch)

"""The parse of a large answer in pieces: the same records and the same errors as one parse."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from apiserver import video
from hypothesis import given, settings
from hypothesis import strategies as st

from douyin_async.api import decoding
from douyin_async.api.decoding import PageDecoder
from douyin_async.api.endpoints import TASK_VIDEOS, VIDEO_RECORDS_KEY
from douyin_async.decode.jsonsplit import split_array
from douyin_async.errors import ApiError, InvalidRecordError, ResponseDecodeError
from douyin_async.http.transport import Response

KEY = VIDEO_RECORDS_KEY


def answer(records: list[Any], **top: Any) -> bytes:
    return orjson.dumps({"err_no": 0, "err_msg": "", **top,
                         "data": {KEY: records, "after": [{"a": 1}]}, "log_id": "L1"})


def rejoined(body: bytes, piece_bytes: int) -> Any:
    """What the decoder makes of a split: the skeleton with its array refilled, or None when
    the body does not split or a piece does not parse (the decoder then parses it whole)."""
    split = split_array(body, KEY, piece_bytes)
    if split is None:
        return None
    skeleton = orjson.loads(split.skeleton)
    assert skeleton["data"][KEY] == []
    try:
        for piece in split.pieces:
            skeleton["data"][KEY] += orjson.loads(piece)
    except orjson.JSONDecodeError:
        return None
    return skeleton


# Strings and nested values that look like the cut and end marks, and the key itself.
_TEXT = st.text(alphabet=st.sampled_from(['}', '{', ',', ']', '[', '"', '\\', ':', 'a', '视',
                                          ' ', '\n']), max_size=12) | st.sampled_from(
    ["},{", "}]", '"},{"', KEY, f'"{KEY}":[', "}],", "},{\"k\":1}"])
_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8)
_RECORD = st.dictionaries(_TEXT, _VALUE, min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(records=st.lists(_RECORD, min_size=1, max_size=12), piece_bytes=st.integers(1, 120),
       tail=st.sampled_from([{}, {"extra": {"x": [{"y": "}]"}]}}, {"extra": {KEY: []}}]))
def test_a_split_that_parses_is_the_one_parse(records: list[Any], piece_bytes: int,
                                              tail: dict[str, Any]) -> None:
    body = answer(records, **tail)
    got = rejoined(body, piece_bytes)
    if got is not None:
        assert got == orjson.loads(body)


def test_a_realistic_page_splits_into_many_pieces() -> None:
    body = answer([dict(video(i), TalentProfit1d=i, note="},{\"x\":[{\"y\":1}]}")
                   for i in range(500)])
    split = split_array(body, KEY, 4096)
    assert split is not None and len(split.pieces) > 10
    assert rejoined(body, 4096) == orjson.loads(body)


@pytest.mark.parametrize("body", [
    json.dumps({"data": {KEY: [video(i) for i in range(50)]}}, indent=1).encode(),  # blanks
    answer([]),  # nothing to split
    answer([video(i) for i in range(50)], extra={KEY: [1]}),  # the key again, after the array
    orjson.dumps({"data": {KEY: [1, 2, 3] * 100}}),  # not objects
])
def test_bodies_that_do_not_split_cleanly_are_left_whole(body: bytes) -> None:
    assert split_array(body, KEY, 64) is None


@pytest.mark.parametrize("odd", [{"VideoTitle": "a" * 60 + "},{"},
                                 {"nested": [{"a": 1}, {"b": 2}] * 10}])
def test_a_cut_in_a_string_or_a_nested_value_makes_a_piece_that_does_not_parse(
        odd: dict[str, Any]) -> None:
    records = [dict(video(i), **odd) for i in range(20)]
    split = split_array(answer(records), KEY, 40)
    assert split is not None
    with pytest.raises(orjson.JSONDecodeError):
        for piece in split.pieces:
            orjson.loads(piece)


# -- the page decoder ----------------------------------------------------------------------

class Counting:
    """Wraps `orjson.loads` in the decoder and notes the size of each body it parses."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def loads(self, data: bytes) -> Any:
        self.sizes.append(len(data))
        return orjson.loads(data)

    JSONDecodeError = orjson.JSONDecodeError


async def decode_both(body: bytes, monkeypatch: pytest.MonkeyPatch,
                      **kw: Any) -> tuple[Any, Any, list[int]]:
    whole = await PageDecoder(piece_bytes=1 << 30, **kw).decode(
        TASK_VIDEOS, Response(200, {}, body), page=1)
    counting = Counting()
    monkeypatch.setattr(decoding, "orjson", counting)
    pieces = await PageDecoder(piece_bytes=2048, **kw).decode(
        TASK_VIDEOS, Response(200, {}, body), page=1)
    return whole, pieces, counting.sizes


async def test_the_decoder_parses_a_large_page_in_pieces_to_the_same_page(
        monkeypatch: pytest.MonkeyPatch) -> None:
    body = answer([dict(video(i), TalentProfit1d=i) if i % 3 else video(i, pascal=False)
                   for i in range(300)])
    whole, pieces, sizes = await decode_both(body, monkeypatch)
    assert len(sizes) > 10 and max(sizes) < len(body) / 10
    assert pieces.records == whole.records and len(pieces.records) == 300
    assert [r.extra for r in pieces.records] == [r.extra for r in whole.records]
    assert pieces.answer.log_id == whole.answer.log_id == "L1" and len(pieces.answer.raw) == 300


async def test_a_page_whose_cuts_fall_in_strings_decodes_whole_to_the_same_page(
        monkeypatch: pytest.MonkeyPatch) -> None:
    body = answer([dict(video(i), Note=[{"a": "},{"}, {"b": 2}] * 20) for i in range(200)])
    whole, pieces, _ = await decode_both(body, monkeypatch)
    assert pieces.records == whole.records and len(pieces.records) == 200


async def test_an_error_answer_with_records_raises_the_one_parse_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    body = answer([video(i) for i in range(200)], err_no=28003018, err_msg="too many")
    for piece_bytes in (1 << 30, 2048):
        with pytest.raises(ApiError) as caught:
            await PageDecoder(piece_bytes=piece_bytes).decode(
                TASK_VIDEOS, Response(200, {}, body), page=1)
        assert caught.value.code == 28003018 and caught.value.log_id == "L1"


async def test_a_cut_body_and_a_bad_record_fail_the_same_way_in_pieces() -> None:
    body = answer([video(i) for i in range(200)])
    errors = []
    for piece_bytes in (1 << 30, 2048):
        with pytest.raises(ResponseDecodeError) as cut:
            await PageDecoder(piece_bytes=piece_bytes).decode(
                TASK_VIDEOS, Response(200, {}, body[:-40]), page=1)
        bad = answer([*(video(i) for i in range(150)), dict(video(150), GMV1d=1.5)])
        with pytest.raises(InvalidRecordError) as refused:
            await PageDecoder(piece_bytes=piece_bytes).decode(
                TASK_VIDEOS, Response(200, {}, bad), page=1)
        errors.append((str(cut.value), cut.value.retryable, refused.value.index,
                       refused.value.field))
    assert errors[0] == errors[1]

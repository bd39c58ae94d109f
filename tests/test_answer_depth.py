"""Deeply nested values: an answer decodes as orjson's one parse has it (records, or the error
of an answer nested deeper than orjson reads), on every path: small answers, large ones cut
into runs, a nested value in a record or in the envelope."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from apiserver import video
from test_page_decoder import KEY, assert_same, outcome

from douyin_async.api import decoding


def same(got: Any, want: Any) -> None:
    """`assert_same`, with room to compare values nested a thousand deep (only while
    comparing: msgspec reads as deep as the recursion limit lets it)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + 3000)
    try:
        assert_same(got, want)
    finally:
        sys.setrecursionlimit(limit)


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def with_note(count: int, note: bytes, at: int = 5, refused: int | None = None) -> bytes:
    """An answer of ``count`` records, the one at ``at`` holding ``note`` in an unknown key
    and the one at ``refused`` (if any) an empty object, which the decoders refuse."""
    raws: list[Any] = [video(i) for i in range(count)]
    if refused is not None:
        raws[refused] = {}
    records = compact(raws)
    old = compact(raws[at])
    records = records.replace(old, old[:-1] + b',"Note":' + note + b"}", 1)
    return b'{"err_no":0,"err_msg":"","log_id":"L1","data":{"' + KEY.encode() + b'":' \
        + records + b"}}"


def with_extra(count: int, value: bytes) -> bytes:
    """An answer of ``count`` records whose envelope's ``extra`` holds ``value``."""
    records = compact([video(i) for i in range(count)])
    return b'{"err_no":0,"extra":{"x":' + value + b'},"log_id":"L1","data":{"' \
        + KEY.encode() + b'":' + records + b"}}"


#: orjson reads 1024 levels: the record sits 4 deep (answer, data, array, record), so a note
#: 1020 deep is read and one 1021 deep is not; in a run of its own, the record sits 2 deep.
DEPTHS = (200, 600, 900, 1019, 1020, 1021, 1022)


@pytest.mark.parametrize("count", [8, 400])
@pytest.mark.parametrize("depth", DEPTHS)
async def test_a_deeply_nested_record_value_decodes_as_orjson_reads_it(
        count: int, depth: int, monkeypatch: pytest.MonkeyPatch) -> None:
    body = with_note(count, nested(depth))
    assert (len(body) > decoding.SMALL_BODY) == (count == 400)
    for mode in ("raise", "collect"):
        exact = await outcome(body, mode, True, monkeypatch)
        for pieces in (None, False, True):
            same(await outcome(body, mode, False, monkeypatch, pieces), exact)


@pytest.mark.parametrize("count", [8, 400])
@pytest.mark.parametrize("depth", (300, 600, 1021, 1022))
async def test_a_deeply_nested_envelope_value_decodes_as_orjson_reads_it(
        count: int, depth: int, monkeypatch: pytest.MonkeyPatch) -> None:
    body = with_extra(count, nested(depth))
    for mode in ("raise", "collect"):
        exact = await outcome(body, mode, True, monkeypatch)
        for pieces in (None, False, True):
            same(await outcome(body, mode, False, monkeypatch, pieces), exact)


@pytest.mark.parametrize("spaced", [False, True])
@pytest.mark.parametrize(("at", "refused"), [(5, 4), (300, 0)])
@pytest.mark.parametrize("depth", (1020, 1021, 1022))
async def test_a_run_refused_by_msgspec_is_read_by_orjson_as_deep_as_the_answer_holds_it(
        at: int, refused: int, depth: int, spaced: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """msgspec stops at the refused record before it meets the nested one, and the run goes
    to orjson (in its run, or in a later one checked to parse once a refusal is raised):
    read alone, the run holds its records two levels less deep than the answer does. Records
    spaced out are not cut but split into their texts first: the same holds of those."""
    body = with_note(400, nested(depth), at, refused)
    if spaced:
        body = body.replace(b"},{", b"}, {")
    for mode in ("raise", "collect"):
        exact = await outcome(body, mode, True, monkeypatch)
        same(await outcome(body, mode, False, monkeypatch, True), exact)

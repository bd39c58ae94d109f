"""The batch path and the per-record reference give the same records and the same errors, for
valid and invalid records alike (hypothesis draws pages of both)."""

from __future__ import annotations

import copy
from typing import Any

import attrs
from apiserver import media, video
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from douyin_async.decode.converter import VIDEO_PASCAL_KEYS, talent_media_records, video_records
from douyin_async.decode.decoder import RecordDecoder
from douyin_async.errors import InvalidRecordError

SNAKE_OF = {pascal: snake for snake, pascal in VIDEO_PASCAL_KEYS.items()}
PASCAL_OF = dict(VIDEO_PASCAL_KEYS)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.integers(0, 2**40),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=4),
    st.sampled_from(["2023-08-25", "2023-13-01", "20230825", "2023-W34-5", "x"]),
)
#: Values at the edges of the rules.
edges = st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 253402300799,
                         253402300800, 1692878009000, -1, 0, 3.0, 12.5, True, "", "12"])
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=2)
                      | st.dictionaries(st.text(max_size=3), inner, max_size=2), max_leaves=3)
unknown_keys = st.sampled_from(["TalentProfit1d", "talent_profit_1d", "zzz", "Note"])


@st.composite
def changed(draw: st.DrawFn, raw: dict[str, Any], other: dict[str, str]) -> dict[str, Any]:
    """``raw`` with one key dropped, nulled, replaced, respelled or doubled, or one added."""
    raw = dict(raw)
    key = draw(st.sampled_from(sorted(raw)))
    action = draw(st.sampled_from(["drop", "null", "value", "value", "respell", "double",
                                   "unknown"]))
    if action == "drop":
        del raw[key]
    elif action == "null":
        raw[key] = None
    elif action == "value":
        raw[key] = draw(edges | values)
    elif action in ("respell", "double") and key in other:
        value = raw[key] if action == "double" else raw.pop(key)
        raw[other[key]] = value
    elif action == "unknown":
        raw[draw(unknown_keys)] = draw(values)
    return raw


@st.composite
def video_pages(draw: st.DrawFn) -> list[Any]:
    """Pages like real ones (one key style or both, zero fields left out, the same unknown
    keys on many records), with a few records changed in one way each."""
    styles = draw(st.sampled_from([[True], [False], [True, False]]))
    sparse = draw(st.sampled_from([0, 2, 10]))
    extra_keys = draw(st.lists(unknown_keys, max_size=2, unique=True))
    extra_rate = draw(st.sampled_from([1, 2]))
    page: list[Any] = []
    for i in range(draw(st.integers(0, 25))):
        pascal = draw(st.sampled_from(styles))
        raw = video(draw(st.integers(0, 99)), pascal=pascal)
        if sparse:
            for key in list(raw):
                optional = (SNAKE_OF.get(key, key) if pascal else key) in OPTIONAL
                if optional and draw(st.integers(0, 9)) < sparse // 2:
                    del raw[key]
        for key in extra_keys:
            if i % extra_rate == 0:
                raw[key] = draw(st.integers(0, 9) | values)
        page.append(raw)
    for _ in range(draw(st.integers(0, 2)) if page else 0):
        i = draw(st.integers(0, len(page) - 1))
        pascal = "TaskId" in page[i]
        page[i] = draw(changed(page[i], SNAKE_OF if pascal else PASCAL_OF))
    if page and draw(st.integers(0, 30)) == 0:
        page[draw(st.integers(0, len(page) - 1))] = draw(values)
    return page


@st.composite
def media_pages(draw: st.DrawFn) -> list[Any]:
    page: list[Any] = []
    for _ in range(draw(st.integers(0, 20))):
        raw = media(draw(st.integers(0, 99)))
        if draw(st.booleans()):
            raw = draw(changed(raw, {}))
        page.append(raw)
    return page


OPTIONAL = {"active_cnt_1d", "ad_share_cost_1d", "billing_gmv_1d", "billing_refund_gmv_1d",
            "client_name", "feed_ad_share_cost_1d", "expected_profit", "gmv_1d",
            "refund_gmv_1d", "date"}


def reference(decoder: RecordDecoder[Any], page: list[Any], offset: int
              ) -> tuple[list[Any], list[InvalidRecordError]]:
    records, errors = [], []
    for i, raw in enumerate(page):
        try:
            records.append(decoder.one(raw, offset + i))
        except InvalidRecordError as error:
            errors.append(error)
    return records, errors


def assert_same_record(got: Any, want: Any) -> None:
    assert type(got) is type(want)
    assert got == want and repr(got) == repr(want) and hash(got) == hash(want)
    for field in attrs.fields(type(got)):
        assert type(getattr(got, field.name)) is type(getattr(want, field.name)), field.name
    assert got.extra == want.extra and type(got.extra) is type(want.extra)
    assert list(got.extra) == list(want.extra)
    assert attrs.asdict(got, recurse=False) == attrs.asdict(want, recurse=False)


def assert_same_error(got: InvalidRecordError, want: InvalidRecordError) -> None:
    assert type(got) is type(want)
    assert (got.field, got.reason, got.index, got.record) == (want.field, want.reason,
                                                              want.index, want.record)
    assert str(got) == str(want)


def assert_same_lists(records: Any, want_records: Any, errors: Any, want_errors: Any) -> None:
    """The same records and the same errors, in order."""
    assert len(records) == len(want_records) and len(errors) == len(want_errors)
    for got, want in zip(records, want_records, strict=True):
        assert_same_record(got, want)
    for got_error, want_error in zip(errors, want_errors, strict=True):
        assert_same_error(got_error, want_error)


def check(decoder: RecordDecoder[Any], page: list[Any], offset: int) -> None:
    before = copy.deepcopy(page)
    want_records, want_errors = reference(decoder, page, offset)
    got_records, got_errors = decoder.split(page, offset=offset)
    assert page == before
    assert_same_lists(got_records, want_records, got_errors, want_errors)
    try:
        many = decoder.many(page, offset=offset)
    except InvalidRecordError as error:
        assert want_errors and error.index == want_errors[0].index
        assert_same_error(error, want_errors[0])
    else:
        assert not want_errors and many == want_records


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(video_pages(), st.integers(0, 10_000))
def test_task_video_batch_and_reference_agree(page: list[Any], offset: int) -> None:
    check(video_records, page, offset)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(media_pages(), st.integers(0, 100))
def test_talent_media_batch_and_reference_agree(page: list[Any], offset: int) -> None:
    check(talent_media_records, page, offset)


def test_a_large_mixed_sparse_page_takes_the_batch_path_and_agrees() -> None:
    page = []
    for i in range(3000):
        raw = video(i, pascal=i % 3 != 0)
        if i % 4 == 0:
            raw = {k: v for k, v in raw.items() if SNAKE_OF.get(k, k) not in OPTIONAL}
        if i % 7 == 0:
            raw["ClientName" if i % 3 else "client_name"] = None
        raw["TalentProfit1d" if i % 3 else "talent_profit_1d"] = i
        page.append(raw)
    check(video_records, page, 0)
    calls: list[int] = []
    real_one = video_records.one
    try:
        video_records.one = lambda raw, index=-1: calls.append(index) or real_one(raw, index)  # type: ignore[method-assign]
        video_records.many(page)
    finally:
        del video_records.one  # type: ignore[method-assign]
    assert calls == []  # nothing needed the reference

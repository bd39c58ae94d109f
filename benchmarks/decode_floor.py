"""The floor under run 3: what any pure-Python decoder of a 10,000-record page has to do at the
least, timed on the same realistic page, beside ``orjson.loads`` of it.

Each part is the fastest form of one thing the records need, done once per record and nothing
else: reading every value out of its parsed dict once; checking the type of every field's
column; making one datetime per record; making one slotted object per record and storing its
19 fields (the ordinary attribute stores the client's fill uses, the fastest way CPython has to
fill an object). The client does all of these and more (key styles, defaults of missing
fields, unknown keys, ranges), so its build time cannot go below their sum.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from itertools import repeat
from typing import Any

import attrs
import orjson

from douyin_async.decode.converter import video_records
from douyin_async.models import VideoDailyData

from .common import Row, fmt, page_bytes

RECORDS = 10_000
_NAMES = tuple(a.name for a in attrs.fields(VideoDailyData))


class _Slotted:
    __slots__ = _NAMES


def _read_values(raws: list[dict[str, Any]]) -> Any:
    return list(map(tuple, map(dict.values, raws)))


def _check_types(columns: list[list[Any]]) -> Any:
    return [set(map(type, column)) for column in columns]


def _datetimes(seconds: list[int]) -> Any:
    return list(map(dt.datetime.fromtimestamp, seconds, repeat(dt.UTC)))


def _objects(rows: list[tuple[Any, ...]]) -> Any:
    out = []
    for (v00, v01, v02, v03, v04, v05, v06, v07, v08, v09, v10, v11, v12, v13, v14, v15, v16,
         v17, v18) in rows:
        r = _Slotted()
        r.active_cnt_1d = v00  # type: ignore[attr-defined]
        r.ad_share_cost_1d = v01  # type: ignore[attr-defined]
        r.author = v02  # type: ignore[attr-defined]
        r.billing_gmv_1d = v03  # type: ignore[attr-defined]
        r.billing_refund_gmv_1d = v04  # type: ignore[attr-defined]
        r.client_name = v05  # type: ignore[attr-defined]
        r.feed_ad_share_cost_1d = v06  # type: ignore[attr-defined]
        r.douyin_id = v07  # type: ignore[attr-defined]
        r.expected_profit = v08  # type: ignore[attr-defined]
        r.gmv_1d = v09  # type: ignore[attr-defined]
        r.micro_app_title = v10  # type: ignore[attr-defined]
        r.publish_time = v11  # type: ignore[attr-defined]
        r.refund_gmv_1d = v12  # type: ignore[attr-defined]
        r.task_id = v13  # type: ignore[attr-defined]
        r.task_name = v14  # type: ignore[attr-defined]
        r.video_id = v15  # type: ignore[attr-defined]
        r.video_link = v16  # type: ignore[attr-defined]
        r.video_title = v17  # type: ignore[attr-defined]
        r.date = v18  # type: ignore[attr-defined]
        out.append(r)
    return out


def measure(reps: int) -> tuple[list[Row], float, float]:
    """Rows (each part of the floor, their sum, the sum against ``orjson.loads``), the sum
    and the parse, in seconds."""
    body = page_bytes("realistic", RECORDS)
    raws = orjson.loads(body)["data"]["video_daily_data_list"]
    rows = [tuple(range(19))] * len(raws)
    columns = [list(map(dict.get, raws, repeat(key))) for key in video_records.styles[-1]]
    seconds = list(range(1_762_185_673, 1_762_185_673 + len(raws)))
    parts: dict[str, tuple[Callable[[Any], Any], Any]] = {
        "read every value once (tuple of each dict's values)": (_read_values, raws),
        "check every field's column (set of types, 19 columns)": (_check_types, columns),
        "one datetime per record (datetime.fromtimestamp)": (_datetimes, seconds),
        "one slotted object per record, 19 attribute stores": (_objects, rows),
    }
    best = dict.fromkeys([*parts, "loads"], float("inf"))
    for _ in range(reps):
        for name, (fn, arg) in parts.items():
            t0 = time.thread_time()
            out = fn(arg)
            best[name] = min(best[name], time.thread_time() - t0)
            del out
        t0 = time.thread_time()
        orjson.loads(body)
        best["loads"] = min(best["loads"], time.thread_time() - t0)
    floor = sum(best[name] for name in parts)
    tag = "3 decode, floor"
    out = [Row(tag, name, f"{best[name] * 1000:.1f} ms/page") for name in parts]
    out += [Row(tag, "sum: the least any pure-Python build of this page costs",
                f"{floor * 1000:.1f} ms/page"),
            Row(tag, "that sum / orjson.loads (the build target is <= 0.6)",
                fmt(floor / best["loads"]))]
    return out, floor, best["loads"]


def profile_note(reps: int = 5) -> str:
    """Where the client's build of the realistic page spends its time, stage by stage: the
    decoder's fill, column checks and extras are timed by wrapping them (they run a few times
    per chunk, not per record, so the wrapping costs nothing measurable); the rest of the
    build is the split by key style, the merge over defaults, the reads and the key union."""
    raws = orjson.loads(page_bytes("realistic", RECORDS))["data"]["video_daily_data_list"]
    spent: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            t0 = time.thread_time()
            try:
                return fn(*args)
            finally:
                spent[name] = spent.get(name, 0.0) + time.thread_time() - t0
        return wrapper

    decoder: Any = video_records
    saved = decoder._fill, decoder._columns, decoder._extras
    decoder._fill = timed("fill", saved[0])
    decoder._columns = tuple(timed("checks", fn) for fn in saved[1])
    decoder._extras = timed("extras", saved[2])  # an instance attribute over the method
    best: dict[str, float] = {}
    try:
        for _ in range(reps):
            spent.clear()
            t0 = time.thread_time()
            for start in range(0, len(raws), 1000):
                video_records.many(raws[start:start + 1000])
            spent["total"] = time.thread_time() - t0
            if spent["total"] < best.get("total", float("inf")):
                best = dict(spent)
    finally:
        decoder._fill, decoder._columns = saved[:2]
        del decoder._extras
    total = best["total"]
    fill, checks, extras = (best.get(name, 0.0) for name in ("fill", "checks", "extras"))
    rest = total - fill - checks - extras
    return (f"Run 3, where the client's build of the realistic page goes ({total * 1000:.1f} ms, "
            f"best of {reps}): the fill, one slotted record per row with its datetime and date "
            f"made as the row is read, {fill * 1000:.1f} ms; the column checks (types, "
            f"ranges, nulls of optional counters to 0, distinct dates parsed) "
            f"{checks * 1000:.1f} ms; the unknown keys kept in `extra` "
            f"{extras * 1000:.1f} ms; the rest (records split by key style, merged "
            f"over the defaults of missing fields, read row by row and turned into columns, "
            f"the union of their keys) {rest * 1000:.1f} ms.")

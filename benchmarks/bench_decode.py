"""3. Decode: bytes of one 10,000-record task-video page -> typed records, on three pages, side
by side with msgspec and pydantic on the same bytes.

- client: what ``DouyinClient`` runs for an answer: ``PageDecoder.decode`` (msgspec decodes
  the answer; the records are built in chunks of ``decode_chunk``, with an event-loop yield
  before each step).
- records built: ``video_records.many`` on records already parsed by orjson (the batch path
  on raw dicts), and the documented one call ``converter.structure(raws, list[...])``.
- msgspec and pydantic v2 as described in ``benchmarks/peers.py``.

Pages: the sandbox's tidy profile (every key, PascalCase); its realistic profile with every
record in PascalCase (one key style, as the platform sends a page: zero counters left out or
null, some missing or null text, one unknown key per record); and the realistic page as the
sandbox sends it across days, PascalCase and snake_case records mixed. Every way runs
round-robin on the same bytes in one process; figures are the min and the median of the
repetitions (CPU time of the thread).
"""

from __future__ import annotations

import asyncio
import inspect
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson

from douyin_async import DouyinClient
from douyin_async.api.decoding import PageDecoder
from douyin_async.api.endpoints import TASK_VIDEOS
from douyin_async.decode.converter import converter, video_records
from douyin_async.http.transport import Response
from douyin_async.models import VideoDailyData

from .common import Result, Row, fmt, page_bytes, restyled
from .peers import msgspec_decoder, pydantic_decoder

RECORDS = 10_000
#: The client's default ``decode_chunk``, the one measured.
DEFAULT_CHUNK: int = inspect.signature(DouyinClient).parameters["decode_chunk"].default
#: The pages measured: (name, sandbox profile, every record made PascalCase).
PAGES = (("tidy", "tidy", False), ("realistic, one key style", "realistic", True),
         ("realistic, key styles mixed", "realistic", False))


def one_style(body: bytes) -> bytes:
    """The answer with every record's keys in PascalCase (values and key order kept)."""
    return restyled(body, "pascal")


def client_decoder(loop: asyncio.AbstractEventLoop) -> Callable[[bytes], list[Any]]:
    """The client's page decode, as it runs for an answer."""
    decoder = PageDecoder(chunk=DEFAULT_CHUNK)

    def decode(body: bytes) -> list[Any]:
        return loop.run_until_complete(
            decoder.decode(TASK_VIDEOS, Response(200, {}, body), page=1)).records

    return decode


def built(structure: bool) -> Callable[[bytes], float]:
    """Seconds (thread CPU) the records take to build from the parsed page: the batch path
    in chunks of ``decode_chunk`` as the client runs it, or the one documented call."""
    def build(body: bytes) -> float:
        raw = orjson.loads(body)["data"]["video_daily_data_list"]
        t0 = time.thread_time()
        if structure:
            records = converter.structure(raw, list[VideoDailyData])
        else:
            records = []
            for start in range(0, len(raw), DEFAULT_CHUNK):
                records += video_records.many(raw[start:start + DEFAULT_CHUNK])
        elapsed = time.thread_time() - t0
        assert len(records) == len(raw)
        return elapsed

    return build


def times(ways: dict[str, Callable[[bytes], Any]], body: bytes, reps: int
          ) -> dict[str, list[float]]:
    spent: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(reps):
        for name, fn in ways.items():
            t0 = time.thread_time()
            out = fn(body)
            spent[name].append(out if isinstance(out, float) else time.thread_time() - t0)
            del out
    return spent


def same_values(a: Any, b: Any) -> bool:
    names = ("video_id", "task_id", "author", "publish_time", "video_link", "gmv_1d", "date")
    return all(getattr(a, n) == getattr(b, n) for n in names)


def measure_page(body: bytes, mixed: bool, loop: asyncio.AbstractEventLoop, reps: int
                 ) -> dict[str, list[float]]:
    ways: dict[str, Callable[[bytes], Any]] = {
        "client": client_decoder(loop), "records built": built(False),
        "structure": built(True), "msgspec": msgspec_decoder(mixed=mixed),
        "pydantic": pydantic_decoder(),
    }
    client, ms, pd = (ways[n](body) for n in ("client", "msgspec", "pydantic"))
    assert len(client) == len(ms) == len(pd) == RECORDS
    if not mixed:
        assert same_values(client[0], ms[0]) and same_values(client[-1], pd[-1])
    del client, ms, pd
    ways["orjson.loads"] = orjson.loads
    return times(ways, body, reps)


def measure(quick: bool = False) -> Result:
    result = Result("decode")
    reps = 5 if quick else 15
    loop = asyncio.new_event_loop()
    sizes = {}
    targets = {"tidy": 1.8, "realistic, one key style": 2.0}
    try:
        for name, profile, pascal in PAGES:
            body = page_bytes(profile, RECORDS)
            body = one_style(body) if pascal else body
            sizes[name] = len(body)
            spent = measure_page(body, profile == "realistic" and not pascal, loop, reps)
            best = {way: min(values) for way, values in spent.items()}

            def per(way: str, spent: dict[str, list[float]] = spent) -> str:
                return (f"{min(spent[way]) * 1000:.1f} ms/page "
                        f"(median {statistics.median(spent[way]) * 1000:.1f})")

            tag = f"3 decode, {name}"
            ratio = best["client"] / best["msgspec"]
            target = targets.get(name)
            call = best["structure"] / best["records built"]
            result.rows += [
                Row(tag, "client: PageDecoder (msgspec, records built in chunks)",
                    f"{per('client')}, {RECORDS / best['client'] / 1e6:.2f} M records/s"),
                Row(tag, "records built from parsed dicts (video_records.many in chunks)",
                    per("records built")),
                Row(tag, "converter.structure(raws, list[VideoDailyData])", per("structure")),
                Row(tag, "orjson.loads of the page alone", per("orjson.loads")),
                Row(tag, "msgspec Structs (defaults)", per("msgspec")),
                Row(tag, "pydantic v2 TypeAdapter.validate_json", per("pydantic")),
                Row(tag, "client (parse + build) / msgspec", fmt(ratio),
                    f"<= {target}" if target else "",
                    ratio <= target if target else None),
                Row(tag, "converter.structure(raws, list) / records built", fmt(call),
                    "<= 1.10", call <= 1.10),
                Row(tag, "client (parse + build) / pydantic",
                    fmt(best["client"] / best["pydantic"])),
            ]
    finally:
        loop.close()
    result.notes.append(
        f"Run 3: one answer of {RECORDS:,} task-video records per page (tidy "
        f"{sizes['tidy'] / 1e6:.1f} MB; realistic {sizes[PAGES[1][0]] / 1e6:.1f} MB: sparse, "
        "one unknown key per record, in one key style, or with PascalCase and snake_case "
        f"records mixed); min and median of {reps} round-robin repetitions per way, thread "
        f"CPU time, same bytes, same process. Client decode_chunk={DEFAULT_CHUNK:,}. The "
        "client's figure includes freeing msgspec's intermediate rows; the peers' results "
        "are freed outside the timing.")
    return result


def run(quick: bool = False) -> Result:
    return measure(quick)


if __name__ == "__main__":
    for row in run().rows:
        print(row)

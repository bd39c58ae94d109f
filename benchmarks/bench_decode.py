"""3. Decode: bytes of one 10,000-record task-video page -> typed records, three ways.

- client: what ``DouyinClient`` runs for a page (``DouyinClient._decode_answer``): under its
  decode lock and with the garbage collector paused, ``envelopes.decode_task_video`` (orjson),
  then the converters' structure functions in chunks of ``decode_chunk`` records, with an
  event-loop yield before the parse and before each chunk. The records are built by the C
  accelerator when it is built (the default install), and that is the figure the targets use.
- client, pure Python: the same client path with the accelerator switched off for the record
  class (``RecordDecoder(..., accelerated=False)``), as it runs where no C compiler was found.
- msgspec: ``msgspec.json.Decoder`` into frozen ``Struct`` types with the PascalCase renames
  (``strict=False`` so ``PublishTime`` unix seconds become an aware UTC datetime).
- pydantic v2: ``TypeAdapter(...).validate_json`` into frozen models with aliases and
  ``extra="allow"`` (unknown keys kept, like the client).

The bytes are an answer the sandbox builds (PascalCase keys, as the API page prints them).
Every way yields ints, strings, an aware UTC ``publish_time`` and a ``date``. The three run
round-robin on the same bytes in one process; each figure is the best of the repetitions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import time
from collections.abc import Callable
from typing import Any

from douyin_async import DouyinClient, VideoDailyData, envelopes
from douyin_async.converters import ACCELERATED, VIDEO_PASCAL_KEYS, RecordDecoder
from douyin_async.sandbox import SandboxConfig, SandboxData
from douyin_async.sandbox import envelopes as sandbox_envelopes

from .common import Result, Row, billing_dates, fmt, window
from .peers import msgspec_decoder, pydantic_decoder

RECORDS = 10_000
#: The client's default ``decode_chunk``, the one measured.
DEFAULT_CHUNK: int = inspect.signature(DouyinClient).parameters["decode_chunk"].default


def page_bytes(records: int = RECORDS) -> bytes:
    data = SandboxData(SandboxConfig(videos_per_hour=100))
    start, end = window(20.0)
    raw = data.task_video_page(billing_dates(1)[0], start, end, page_num=1, page_size=records)
    assert len(raw) == records
    return sandbox_envelopes.task_video(0, "success", "2024010100000000000000000000000000", raw)


def client_decoder(
    loop: asyncio.AbstractEventLoop, decode_chunk: int | None = None, *,
    accelerated: bool | None = None,
) -> Callable[[bytes], list[Any]]:
    """The client's page decode; ``accelerated=False`` runs it on the pure-Python path."""
    async def make() -> DouyinClient:
        chunk = {} if decode_chunk is None else {"decode_chunk": decode_chunk}
        return DouyinClient("benchmark", base_url="http://127.0.0.1:9", **chunk)

    client = loop.run_until_complete(make())
    endpoint = "/api/match/v2/taskbox/query_task_video_daily_data/"
    decoder = RecordDecoder(VideoDailyData, VIDEO_PASCAL_KEYS, accelerated=accelerated)

    def decoder_of(_: object) -> RecordDecoder[VideoDailyData]:
        return decoder

    def decode(body: bytes) -> list[Any]:
        if accelerated is None:
            _, records = loop.run_until_complete(
                client._decode_task_video(body, http_status=200, endpoint=endpoint))
        else:
            _, records = loop.run_until_complete(client._decode_answer(
                envelopes.decode_task_video, decoder_of, body, http_status=200,
                endpoint=endpoint))
        return records

    return decode


def same_values(a: Any, b: Any) -> bool:
    names = ("video_id", "task_id", "gmv_1d", "author", "publish_time", "date", "video_link")
    return all(getattr(a, n) == getattr(b, n) for n in names) and \
        a.publish_time.utcoffset() == b.publish_time.utcoffset() == dt.timedelta(0)


def best_times(ways: dict[str, Callable[[bytes], Any]], body: bytes, reps: int) -> dict[str, float]:
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(reps):
        for name, fn in ways.items():
            t0 = time.perf_counter()
            out = fn(body)
            elapsed = time.perf_counter() - t0
            del out
            best[name] = min(best[name], elapsed)
    return best


def measure(quick: bool = False) -> Result:
    import orjson

    result = Result("decode")
    body = page_bytes()
    loop = asyncio.new_event_loop()
    try:
        ways = {"client": client_decoder(loop), "msgspec": msgspec_decoder(),
                "pydantic": pydantic_decoder(),
                "client, pure Python": client_decoder(loop, accelerated=False)}
        outputs = {name: fn(body) for name, fn in ways.items()}
        first = outputs["client"]
        for name, out in outputs.items():
            assert len(out) == RECORDS, name
            assert same_values(first[0], out[0]) and same_values(first[-1], out[-1]), name
        del outputs, first
        ways["orjson.loads alone"] = orjson.loads
        best = best_times(ways, body, 5 if quick else 15)
    finally:
        loop.close()
    client, ms, pd = best["client"], best["msgspec"], best["pydantic"]

    def per(name: str) -> str:
        return f"{best[name] * 1000:.1f} ms/page, {RECORDS / best[name] / 1e6:.2f} M records/s"

    path = "C accelerator" if ACCELERATED else "pure Python: the accelerator is not built"
    result.rows += [
        Row("3 decode", f"client: orjson + cattrs hooks, {path} (10,000-record page)",
            per("client")),
        Row("3 decode", "client, pure-Python path (no C compiler at install)",
            per("client, pure Python")),
        Row("3 decode", "msgspec Structs", per("msgspec")),
        Row("3 decode", "pydantic v2 TypeAdapter.validate_json", per("pydantic")),
        Row("3 decode", "(orjson.loads of the page alone, for scale)", per("orjson.loads alone")),
        Row("3 decode", "client time / pydantic time", fmt(client / pd), "<= 0.8",
            client / pd <= 0.8),
        Row("3 decode", "client time / msgspec time", fmt(client / ms), "<= 2.5",
            client / ms <= 2.5),
        Row("3 decode", "pure-Python path: time / pydantic, time / msgspec",
            f"{fmt(best['client, pure Python'] / pd)}, {fmt(best['client, pure Python'] / ms)}"),
    ]
    result.notes.append(
        f"Run 3: one {len(body) / 1e6:.1f} MB answer of {RECORDS:,} PascalCase records; best of "
        f"{5 if quick else 15} round-robin repetitions per way, same bytes, same process, "
        "garbage collector left on (the client pauses it during its own page decode, as it "
        f"does in use; the peers run as they come). Client decode_chunk={DEFAULT_CHUNK:,}.")
    return result


def run(quick: bool = False) -> Result:
    return measure(quick)


if __name__ == "__main__":
    for row in run().rows:
        print(row)

"""The realistic profile: sparse, mixed-key records, gateway errors, 401s, ms timestamps,
and ground truth in the client's terms; the tidy profile unchanged byte for byte."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import Counter
from typing import Any

import aiohttp
import orjson
import pytest
from sandbox_helpers import BILLING_DATE, DAY, NOW, PLAN, clocked, media, post_raw, video_body

from douyin_async.days import beijing_day
from douyin_async.sandbox import (
    CLIENT_KEY,
    CLIENT_SECRET,
    CLIENT_TOKEN_PATH,
    TALENT_MEDIA_PATH,
    TASK_VIDEO_PATH,
    Sandbox,
    SandboxConfig,
    SandboxData,
)
from douyin_async.sandbox import envelopes as env
from douyin_async.sandbox.names import PASCAL_KEYS, SNAKE_KEYS
from douyin_async.sandbox.realism import OPTIONAL_COUNTERS

REALISTIC = SandboxConfig(realism="realistic", seed=11)
WINDOW = (BILLING_DATE, NOW - 20 * DAY, NOW - 10 * DAY)
TO_SNAKE = dict(zip(PASCAL_KEYS, SNAKE_KEYS, strict=True))
REQUIRED = set(SNAKE_KEYS) - set(OPTIONAL_COUNTERS) - {"client_name", "date"}


def decode_by_the_documented_rule(raw: dict[str, Any]) -> dict[str, Any]:
    """The rule of docs/testing.md, written out independently of the sandbox's code."""
    known = {TO_SNAKE.get(k, k): v for k, v in raw.items() if TO_SNAKE.get(k, k) in SNAKE_KEYS}
    out: dict[str, Any] = {}
    for name in SNAKE_KEYS:
        value = known.get(name)
        if name in OPTIONAL_COUNTERS:
            value = 0 if value is None else value
        elif name == "publish_time":
            value = dt.datetime.fromtimestamp(value, dt.UTC)
        elif name == "date" and value is not None:
            value = dt.date.fromisoformat(value)
        out[name] = value
    out["extra"] = {k: v for k, v in raw.items() if TO_SNAKE.get(k, k) not in SNAKE_KEYS}
    return out


def test_the_tidy_profile_is_unchanged_byte_for_byte() -> None:
    digest = hashlib.sha256()
    for cfg in (SandboxConfig(), SandboxConfig(key_style="snake", extra_fields=True, seed=5)):
        data = SandboxData(cfg)
        for page in (1, 2):
            digest.update(orjson.dumps(data.task_video_page(
                "2025-10-08", NOW - 10 * DAY, NOW - 9 * DAY, page_num=page, page_size=100)))
        digest.update(orjson.dumps(data.talent_media_page(PLAN, "dyvvvvvv", 3, 2, 100)))
    digest.update(env.talent_media_ok([], 0, 0, env.data_date(NOW), "x", NOW))
    digest.update(env.talent_media_error(2100004, "m", "x", NOW))
    assert digest.hexdigest() == "9202f5c843c0c9948cc03a679832a661a7f4051acd37e76b883ddb36ac017dec"


def test_realistic_records_omit_zero_counters_and_send_some_nulls() -> None:
    records = list(SandboxData(REALISTIC).task_videos(*WINDOW))
    assert len(records) > 5000
    seen: Counter[str] = Counter()
    for raw in records:
        snake = {TO_SNAKE.get(k, k): v for k, v in raw.items()}
        assert snake.keys() >= REQUIRED
        assert all(snake[k] is not None for k in REQUIRED)
        for name in OPTIONAL_COUNTERS:
            if name not in snake:
                seen["missing"] += 1
            elif snake[name] is None:
                seen["null"] += 1
            else:
                assert isinstance(snake[name], int) and not isinstance(snake[name], bool)
                seen["zero" if snake[name] == 0 else "value"] += 1
        for name in ("client_name", "date"):
            seen[f"{name}:{'missing' if name not in snake else snake[name] is None}"] += 1
    assert seen["zero"] == 0  # omitempty: a zero is never sent as 0
    assert seen["missing"] > 2 * seen["null"] > 0
    for name in ("client_name", "date"):
        assert seen[f"{name}:missing"] > 0 and seen[f"{name}:True"] > 0
        assert seen[f"{name}:False"] > 10 * seen[f"{name}:missing"]


def test_realistic_pages_are_pascal_snake_or_mixed_and_carry_one_unknown_key() -> None:
    data = SandboxData(REALISTIC)
    styles = set()
    for page in range(1, 200):
        records = data.task_video_page(*WINDOW, page_num=page, page_size=200)
        if not records:
            break
        kinds = set()
        for raw in records:
            unknown = [k for k in raw if TO_SNAKE.get(k, k) not in SNAKE_KEYS]
            assert unknown in (["TalentProfit1d"], ["talent_profit_1d"])
            snake = unknown == ["talent_profit_1d"]
            assert all((k in SNAKE_KEYS) if snake else (k in PASCAL_KEYS) for k in raw
                       if k not in unknown)
            kinds.add(snake)
        styles.add(frozenset(kinds))
    assert styles == {frozenset({True}), frozenset({False}), frozenset({True, False})}


@pytest.mark.parametrize("config", [SandboxConfig(), SandboxConfig(key_style="snake",
                                    extra_fields=True), REALISTIC], ids=["tidy", "snake", "real"])
def test_expected_records_follow_the_documented_rule(config: SandboxConfig) -> None:
    data = SandboxData(config)
    wire = list(data.task_videos(*WINDOW))
    expected = list(data.expected_task_videos(*WINDOW))
    assert [decode_by_the_documented_rule(r) for r in wire] == expected
    if config.realism == "realistic":
        assert any(e["client_name"] is None for e in expected)
        assert any(e["date"] is None for e in expected)
    tidy = list(SandboxData(SandboxConfig(seed=config.seed)).expected_task_videos(*WINDOW))
    keep = ("video_id", "gmv_1d", "expected_profit", "publish_time", "video_title")
    assert [[e[k] for k in keep] for e in expected] == [[t[k] for k in keep] for t in tidy]


def test_expected_talent_media_keeps_unknown_keys_in_extra() -> None:
    data = SandboxData(REALISTIC)
    wire = list(data.talent_media(PLAN, "dyvvvvvv", 3))
    expected = list(data.expected_talent_media(PLAN, "dyvvvvvv", 3))
    assert len(wire) == len(expected) > 0
    for raw, exp in zip(wire, expected, strict=True):
        assert exp["extra"] == {"commission_rate": raw["commission_rate"]}
        assert {k: v for k, v in exp.items() if k != "extra"} == {
            k: v for k, v in raw.items() if k != "commission_rate"}


async def test_realistic_talent_media_now_is_in_milliseconds() -> None:
    config, _ = clocked(realism="realistic")
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        answer = await media(session, sb)
        assert answer["extra"]["now"] == NOW * 1000
        assert answer["data"]["data"][0]["commission_rate"] >= 1
        _, raw = await post_raw(session, sb.url + TALENT_MEDIA_PATH, {"plan_id": 0})
        assert orjson.loads(raw)["extra"]["now"] == NOW * 1000


async def test_realistic_talent_media_rate_limit_is_a_gateway_err_no_answer() -> None:
    config, _ = clocked(realism="realistic", qps=1)
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        await media(session, sb)
        answer = await media(session, sb)
        assert set(answer) == {"err_no", "err_msg", "log_id"}
        assert answer["err_no"] == 28003018 and answer["err_msg"] == "请求频率过高"
        assert answer["log_id"]


@pytest.mark.parametrize(("path", "body", "key"), [
    (TASK_VIDEO_PATH, video_body(), "err_no"), (TALENT_MEDIA_PATH, None, "data")])
async def test_realistic_bad_token_is_http_401(path: str, body: Any, key: str) -> None:
    config, _ = clocked(realism="realistic")
    tidy, _ = clocked()
    from sandbox_helpers import media_body

    for cfg, status in ((config, 401), (tidy, 200)):
        async with Sandbox(cfg) as sb, aiohttp.ClientSession() as session:
            got, raw = await post_raw(session, sb.url + path, body or media_body(), "nope")
            assert got == status
            decoded = orjson.loads(raw)
            code = decoded["err_no"] if key == "err_no" else decoded["data"]["error_code"]
            assert code in (28001003, 2190002)
            assert sb.log.entries()[0].http_status == status


async def test_realistic_token_endpoint_answers_later() -> None:
    config = SandboxConfig(realism="realistic", token_latency=0.2)
    body = {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET,
            "grant_type": "client_credential"}
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        began = time.monotonic()
        status, raw = await post_raw(session, sb.url + CLIENT_TOKEN_PATH, body, None)
        assert time.monotonic() - began >= 0.2
        assert status == 200 and orjson.loads(raw)["data"]["access_token"]
    assert SandboxConfig(realism="realistic").token_delay() > 0
    assert SandboxConfig().token_delay() == 0


@pytest.mark.parametrize(("overrides", "detail"), [
    ({"billing_date": (dt.date(2025, 10, 9) + dt.timedelta(days=1)).isoformat()}, "future"),
    ({"video_publish_start_time": NOW + 60, "video_publish_end_time": NOW + 3600}, "future"),
])
async def test_future_billing_dates_and_windows_are_refused(
    overrides: dict[str, Any], detail: str
) -> None:
    config, _ = clocked()
    async with Sandbox(config) as sb, aiohttp.ClientSession() as session:
        _, raw = await post_raw(session, sb.url + TASK_VIDEO_PATH, video_body(**overrides))
        answer = orjson.loads(raw)
        assert answer["err_no"] == 28001007 and detail in answer["err_msg"]
        today = beijing_day(NOW).isoformat()
        _, raw = await post_raw(session, sb.url + TASK_VIDEO_PATH,
                                video_body(billing_date=today, video_publish_end_time=NOW))
        assert orjson.loads(raw)["err_no"] == 0


async def test_a_realistic_subprocess_sandbox_serves_its_local_ground_truth() -> None:
    from douyin_async.sandbox import SubprocessSandbox

    now = int(time.time())
    window = (now - 3 * DAY, now - 2 * DAY)
    day = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    config = SandboxConfig(realism="realistic", seed=2)
    async with SubprocessSandbox(config) as sb, aiohttp.ClientSession() as session:
        _, raw = await post_raw(session, sb.url + TASK_VIDEO_PATH, video_body(
            billing_date=day, video_publish_start_time=window[0],
            video_publish_end_time=window[1], page_size=300))
    records = orjson.loads(raw)["data"]["video_daily_data_list"]
    assert records == sb.data.task_video_page(day, *window, page_size=300)
    assert any("TalentProfit1d" in r or "talent_profit_1d" in r for r in records)

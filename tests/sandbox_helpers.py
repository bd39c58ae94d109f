"""Helpers shared by the sandbox tests: a fixed clock, request bodies, raw posts and gets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
import orjson

from douyin_async.sandbox import (
    TALENT_MEDIA_PATH,
    TASK_VIDEO_PATH,
    ManualClock,
    SandboxConfig,
)

#: A fixed "now" for every test that needs one (2025-10-09T08:53:20Z).
NOW = 1_760_000_000
DAY = 86_400
BILLING_DATE = (dt.datetime.fromtimestamp(NOW, dt.UTC).date() - dt.timedelta(days=1)).isoformat()
#: A plan the default configuration allows, and one it forbids (suffix rule).
PLAN = 7_089_053_269_443_495_980
FORBIDDEN_PLAN = 7_089_053_269_443_495_403


class Target(Protocol):
    """Anything serving the sandbox: a URL and the static token."""

    @property
    def url(self) -> str: ...

    @property
    def token(self) -> str: ...


def clocked(**fields: Any) -> tuple[SandboxConfig, ManualClock]:
    """A configuration on a manual clock set to :data:`NOW`, and that clock."""
    clock = ManualClock(NOW)
    return SandboxConfig(**fields).with_manual_clock(clock), clock


def video_body(**overrides: Any) -> dict[str, Any]:
    """A valid task-video body: the 10 days before NOW, page 1 of 100."""
    body: dict[str, Any] = {
        "billing_date": BILLING_DATE,
        "page_num": 1,
        "page_size": 100,
        "video_publish_start_time": NOW - 10 * DAY,
        "video_publish_end_time": NOW - 9 * DAY,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def media_body(**overrides: Any) -> dict[str, Any]:
    """A valid talent-media body."""
    body: dict[str, Any] = {
        "plan_id": PLAN,
        "page_no": 1,
        "page_size": 10,
        "douyin_id": "dyvvvvvv",
        "content_type": 3,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


async def post_raw(
    session: aiohttp.ClientSession, url: str, body: Any, token: str | None = "sandbox-token"
) -> tuple[int, bytes]:
    """POST ``body`` (an object to encode, or raw bytes); return status and body bytes."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["access-token"] = token
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    async with session.post(url, data=data, headers=headers) as resp:
        return resp.status, await resp.read()


async def get_raw(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None,
    method: str = "GET",
) -> tuple[int, Mapping[str, str], bytes]:
    """GET (or HEAD) ``url``; return status, headers (case-insensitive) and body bytes."""
    async with session.request(method, url, headers=headers or {}) as resp:
        return resp.status, resp.headers.copy(), await resp.read()


async def post(
    session: aiohttp.ClientSession, url: str, body: Any, token: str | None = "sandbox-token"
) -> dict[str, Any]:
    """POST and decode a JSON answer (which must be HTTP 200)."""
    status, raw = await post_raw(session, url, body, token)
    assert status == 200, raw[:200]
    decoded: dict[str, Any] = orjson.loads(raw)
    return decoded


async def videos(
    session: aiohttp.ClientSession, sb: Target, token: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """POST a task-video body to ``sb``."""
    return await post(session, sb.url + TASK_VIDEO_PATH, video_body(**overrides),
                      sb.token if token is None else token)


async def media(
    session: aiohttp.ClientSession, sb: Target, token: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """POST a talent-media body to ``sb``."""
    return await post(session, sb.url + TALENT_MEDIA_PATH, media_body(**overrides),
                      sb.token if token is None else token)

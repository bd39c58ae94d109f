"""A small scriptable server for socket-level client tests.

It serves both endpoints from in-memory record lists, records every arrival (monotonic time,
endpoint, page) and can be told to answer specific requests with faults. The full-featured
fake of the platform is :mod:`douyin_async.sandbox`; this one exists so that core tests can
script exact failure sequences.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import orjson
from aiohttp import web

TASK = "/api/match/v2/taskbox/query_task_video_daily_data/"
TALENT = "/poi/common/plan/talent/media/list/"


def video(i: int, *, pascal: bool = True) -> dict[str, Any]:
    """A task-video record with exact 64-bit ids (key style selectable)."""
    vid = 7270855478333246754 + 2 * i
    rec = {
        "ActiveCnt1d": i, "AdShareCost1d": 3 * i, "Author": f"author{i}", "BillingGMV1d": 100 + i,
        "BillingRefundGMV1d": 0, "ClientName": "client", "FeedAdShareCost1d": 1,
        "DouyinID": f"dy{i % 7}", "ExpectedProfit": 5, "GMV1d": 1000 + i, "MicroAppTitle": "app",
        "PublishTime": 1692878009 + i, "RefundGMV1d": 2, "TaskId": 7270785143852253001,
        "TaskName": "task", "VideoId": vid,
        "VideoLink": f"https://www.iesdouyin.com/share/video/{vid}/", "VideoTitle": f"v{i}",
        "date": "2023-08-25",
    }
    if pascal:
        return rec
    from douyin_async.decode.converter import VIDEO_PASCAL_KEYS

    back = {v: k for k, v in VIDEO_PASCAL_KEYS.items()}
    return {back[k]: v for k, v in rec.items()}


def media(i: int) -> dict[str, Any]:
    """A talent-media record."""
    return {"content_open_id": f"@open{i}", "content_type": 2, "gmv": 10 * i, "play_cnt": i,
            "talent_commission": i, "used_gmv": 5 * i}


@attrs.define
class Arrival:
    """One request as the server saw it."""

    at: float
    endpoint: str
    page: int
    token: str


Fault = Callable[[str, int, int], web.StreamResponse | None]


@attrs.define
class ApiServer:
    """State of a running test server."""

    videos: int = 0
    talent_total: int = 0
    latency: float = 0.0
    url: str = ""
    arrivals: list[Arrival] = attrs.Factory(list)
    faults: dict[tuple[str, int], list[str]] = attrs.Factory(dict)
    hang: asyncio.Event = attrs.Factory(asyncio.Event)

    def fail(self, endpoint: str, page: int, *kinds: str) -> None:
        """Answer the next requests for ``page`` with these faults, in order."""
        self.faults.setdefault((endpoint, page), []).extend(kinds)

    def pages(self, endpoint: str | None = None) -> list[int]:
        """Requested page numbers in arrival order."""
        return [a.page for a in self.arrivals if endpoint is None or a.endpoint == endpoint]

    def rolling_max(self, window: float = 1.0) -> int:
        """Most arrivals in any window of ``window`` seconds."""
        times = sorted(a.at for a in self.arrivals)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(obj), status=status, content_type="application/json")


async def _fault(kind: str, request: web.Request, endpoint: str) -> web.StreamResponse:
    if kind == "server":
        if endpoint == TASK:
            return _json({"err_no": 28001005, "err_msg": "系统内部错误", "log_id": "LOGSRV"})
        return _json({"data": {"error_code": 2100004, "description": "系统繁忙"},
                      "extra": {"error_code": 2100004, "logid": "LOGSRV"}})
    if kind == "ratelimit":
        if endpoint == TASK:
            return _json({"err_no": 28003018, "err_msg": "请求频率过高", "log_id": "LOGRL"})
        return _json({"data": {"error_code": 28003018, "description": "请求频率过高"},
                      "extra": {"error_code": 28003018, "logid": "LOGRL"}})
    if kind == "auth":
        return _json({"err_no": 28001008, "err_msg": "access_token过期", "log_id": "LOGAUTH"})
    if kind == "html502":
        return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>",
                            content_type="text/html")
    if kind == "cut":
        resp = web.StreamResponse(headers={"Content-Length": "500",
                                           "Content-Type": "application/json"})
        await resp.prepare(request)
        await resp.write(b'{"err_no": 0, "data": {"video_daily')
        assert request.transport is not None
        request.transport.close()
        return resp
    if kind == "reset":
        assert request.transport is not None
        request.transport.abort()
        return web.Response()
    if kind == "hang":
        await asyncio.sleep(3600)
    if kind == "denied":
        return _json({"data": {"error_code": 2100007, "description": "无权限操作"},
                      "extra": {"error_code": 2100007, "logid": "LOGDENY", "sub_error_code": 110003,
                                "sub_description": "没有发布/修改通用佣金计划的权限"}})
    raise AssertionError(kind)


@asynccontextmanager
async def api_server(**options: Any) -> AsyncIterator[ApiServer]:
    """Run the server on 127.0.0.1 (a free port) for the duration of the block."""
    state = ApiServer(**options)

    async def arrive(request: web.Request, endpoint: str, page_key: str
                     ) -> tuple[int, int, web.StreamResponse | None]:
        """Log the arrival, wait the latency, and answer a queued fault if there is one."""
        body = await request.json()
        page, size = body[page_key], body["page_size"]
        state.arrivals.append(Arrival(time.monotonic(), endpoint, page,
                                      request.headers.get("access-token", "")))
        if state.latency:
            await asyncio.sleep(state.latency)
        queued = state.faults.get((endpoint, page))
        fault = await _fault(queued.pop(0), request, endpoint) if queued else None
        return page, size, fault

    async def task(request: web.Request) -> web.StreamResponse:
        page, size, fault = await arrive(request, TASK, "page_num")
        if fault is not None:
            return fault
        start = (page - 1) * size
        recs = [video(i) for i in range(start, min(state.videos, start + size))]
        return _json({"err_no": 0, "err_msg": "success", "log_id": f"LOG{page}",
                      "data": {"video_daily_data_list": recs}})

    async def talent(request: web.Request) -> web.StreamResponse:
        page, size, fault = await arrive(request, TALENT, "page_no")
        if fault is not None:
            return fault
        start = (page - 1) * size
        recs = [media(i) for i in range(start, min(state.talent_total, start + size))]
        return _json({
            "data": {"error_code": 0, "description": "", "total": state.talent_total,
                     "page_count": -(-state.talent_total // size), "date": "2026-11-01",
                     "data": recs},
            "extra": {"error_code": 0, "logid": f"TLOG{page}", "now": 1, "sub_error_code": 0,
                      "sub_description": "", "description": ""},
        })

    app = web.Application()
    app.router.add_post(TASK, task)
    app.router.add_post(TALENT, talent)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()

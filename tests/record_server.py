"""A scripted API server on its own thread for end-to-end CLI tests of outputs.

It serves task videos and talent media from lists the test fills (hostile titles, negative
amounts, records the client must refuse), can refuse chosen talent-media pages with a
permission error (a pull that stops part-way, leaving a checkpoint), and can announce another
talent-media total (data that changed between two runs).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import orjson
from aiohttp import web
from apiserver import TALENT, TASK


def _json(obj: Any) -> web.Response:
    return web.Response(body=orjson.dumps(obj), content_type="application/json")


class RecordServer:
    """Use as ``with RecordServer() as server:``; ``server.url`` is its base URL."""

    def __init__(self) -> None:
        self.videos: list[dict[str, Any]] = []
        self.media: list[dict[str, Any]] = []
        self.media_total: int | None = None
        self.refuse_pages: set[int] = set()
        self.requests = 0
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _task(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.json()
        page, size = body["page_num"], body["page_size"]
        records = self.videos[(page - 1) * size:page * size]
        return _json({"err_no": 0, "err_msg": "success", "log_id": f"LOG{page}",
                      "data": {"video_daily_data_list": records}})

    async def _talent(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.json()
        page, size = body["page_no"], body["page_size"]
        if page in self.refuse_pages:
            return _json({"data": {"error_code": 2100007, "description": "无权限操作"},
                          "extra": {"error_code": 2100007, "logid": "LOGDENY"}})
        total = len(self.media) if self.media_total is None else self.media_total
        return _json({
            "data": {"error_code": 0, "description": "", "total": total,
                     "page_count": -(-total // size), "date": "2026-11-01",
                     "data": self.media[(page - 1) * size:page * size]},
            "extra": {"error_code": 0, "logid": f"TLOG{page}", "now": 1, "sub_error_code": 0,
                      "sub_description": "", "description": ""}})

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_post(TASK, self._task)
        app.router.add_post(TALENT, self._talent)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    def __enter__(self) -> RecordServer:
        self._thread.start()
        assert self._ready.wait(10), "the server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

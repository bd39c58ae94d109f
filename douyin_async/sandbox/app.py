"""The aiohttp application: routes, the order of checks, latency and faults.

A data request goes through, in order: arrival (logged, counted by the QPS cap), the fault
draw (only for requests within the cap), latency, then the answer: rate-limited, the injected
fault, or token check -> capability -> body checks -> data. Every answer is HTTP 200 with an
error code in the envelope, except the ``bad_gateway``, ``reset`` and ``cut_body`` faults and,
in the realistic profile, HTTP 401 for an unknown or missing token.

The bill-link endpoints take the same path (same cap, faults and token rules); the file host
they link to is `douyin_async.sandbox.filehost`.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from . import envelopes as env
from . import faults
from .auth import TokenAuthority, TokenState
from .config import SandboxConfig
from .data import SandboxData
from .filehost import FILE_ROUTE, FileHost
from .hashing import Hasher
from .qps import RollingCap
from .requestlog import (
    AGENCY_BILL_LINK,
    AUTH_TOKEN,
    BILL_LINK,
    CANCELLED,
    CLIENT_TOKEN,
    OK,
    STABLE_CLIENT_TOKEN,
    TALENT_MEDIA,
    TASK_VIDEO,
    LogEntry,
    RequestLog,
)
from .validation import Rejection, parse_bill_link, parse_talent_media, parse_task_video

TASK_VIDEO_PATH = "/api/match/v2/taskbox/query_task_video_daily_data/"
TALENT_MEDIA_PATH = "/poi/common/plan/talent/media/list/"
CLIENT_TOKEN_PATH = "/oauth/client_token/"
STABLE_CLIENT_TOKEN_PATH = "/oauth/stable_client_token/"
AUTH_TOKEN_PATH = "/api/tpapp/v2/auth/get_auth_token/"
BILL_LINK_PATH = "/api/match/v2/taskbox/query_bill_link/"
AGENCY_BILL_LINK_PATH = "/api/match/v2/taskbox/agency_query_bill_link/"
AGENCY_SCOPE = "taskbox.agent.admin"


class SandboxServer:
    """The state behind one application: data, tokens, QPS cap, fault dice and the log."""

    def __init__(
        self, config: SandboxConfig, data: SandboxData | None = None, log: RequestLog | None = None
    ) -> None:
        self.config = config
        self.data = data or SandboxData(config)
        self.log = log if log is not None else RequestLog()
        self.auth = TokenAuthority(config)
        self.cap = RollingCap(config.qps, config.qps_window)
        self.dice = faults.FaultDice(config)
        self._latency_rng = random.Random(f"latency:{config.seed}")
        self._serial = 0
        self._log_hash = Hasher(config.seed, "log-id")
        self.files = FileHost(config, self.data, self.log)

    def application(self) -> web.Application:
        """A new aiohttp application serving this state."""
        app = web.Application()
        app.router.add_post(TASK_VIDEO_PATH, self._task_video)
        app.router.add_post(TALENT_MEDIA_PATH, self._talent_media)
        app.router.add_post(CLIENT_TOKEN_PATH, self._client_token)
        app.router.add_post(STABLE_CLIENT_TOKEN_PATH, self._stable_client_token)
        app.router.add_get(AUTH_TOKEN_PATH, self._auth_token)
        for path, endpoint, agency in ((BILL_LINK_PATH, BILL_LINK, False),
                                       (AGENCY_BILL_LINK_PATH, AGENCY_BILL_LINK, True)):
            app.router.add_post(path, functools.partial(self._bill_request, endpoint=endpoint,
                                                        agency=agency))
        app.router.add_get(FILE_ROUTE, self.files.handle)
        return app

    # -- shared steps ------------------------------------------------------------------

    def _log_id(self, now: float) -> str:
        self._serial += 1
        return env.log_id(now, self._log_hash.pair(0, self._serial, 0))

    def latency_sample(self) -> float:
        """The next answer delay: uniform in ``latency +- jitter`` (0 without latency)."""
        cfg = self.config
        if cfg.latency <= 0:
            return 0.0
        return self._latency_rng.uniform(cfg.latency - cfg.jitter, cfg.latency + cfg.jitter)

    async def _delay(self) -> None:
        delay = self.latency_sample()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _token_delay(self) -> None:
        delay = self.config.token_delay()
        if delay > 0:
            await asyncio.sleep(delay)

    @staticmethod
    async def _json(request: web.Request) -> Any:
        try:
            return orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return None

    @staticmethod
    def _respond(entry: LogEntry, body: bytes, log_id: str) -> web.Response:
        if entry.http_status is None:
            entry.http_status = 200
        return web.Response(status=entry.http_status, body=body,
                            content_type="application/json", headers={"X-Tt-Logid": log_id})

    def _now_field(self, now: float) -> int:
        """``extra.now``: unix seconds, or milliseconds in the realistic profile."""
        return int(now * 1000) if self.config.realistic else int(now)

    def _unauthorized(self, entry: LogEntry, state: TokenState) -> None:
        """In the realistic profile an unknown or missing token is answered HTTP 401."""
        if self.config.realistic and state is TokenState.INVALID:
            entry.http_status = 401

    async def _data_request(
        self, request: web.Request, endpoint: str, page_field: str,
        answer: Callable[[LogEntry, Any, float, str], bytes],
        failure: Callable[[int, str, float], bytes], internal_error: int,
    ) -> web.StreamResponse:
        cfg = self.config
        arrived, wall = cfg.monotonic(), cfg.clock()
        token = request.headers.get("access-token")
        entry = self.log.add(arrived, wall, endpoint, token)
        allowed = self.cap.arrive(token or "", arrived)
        fault = self.dice.roll() if allowed else None
        entry.fault = fault
        try:
            body = await self._json(request)
            if isinstance(body, dict):
                entry.page = _as_int(body.get(page_field))
                entry.page_size = _as_int(body.get("page_size"))
            await self._delay()
            if fault == "slow":
                await asyncio.sleep(cfg.slow_seconds)
            log_id = self._log_id(wall)
            if not allowed or fault == "rate_limit":
                entry.outcome = str(env.RATE_LIMITED)
                return self._respond(entry, failure(env.RATE_LIMITED, log_id, wall), log_id)
            if fault == "server_error":
                entry.outcome = str(internal_error)
                return self._respond(entry, failure(internal_error, log_id, wall), log_id)
            if fault == "bad_gateway":
                entry.outcome, entry.http_status = "bad_gateway", 502
                return faults.bad_gateway()
            if fault == "reset":
                entry.outcome = "reset"
                return faults.reset_connection(request)
            payload = answer(entry, body, wall, log_id)
            if fault == "cut_body":
                entry.outcome, entry.http_status = "cut_body", 200
                return await faults.cut_body(request, payload)
            return self._respond(entry, payload, log_id)
        except asyncio.CancelledError:
            entry.outcome = CANCELLED
            raise

    # -- task videos -------------------------------------------------------------------

    async def _task_video(self, request: web.Request) -> web.StreamResponse:
        return await self._data_request(
            request, TASK_VIDEO, "page_num",
            lambda entry, body, now, log_id: self._task_video_answer(
                entry, request.headers.get("access-token"), body, now, log_id),
            lambda code, log_id, now: env.task_video(code, env.MESSAGES[code], log_id, None),
            env.TASK_INTERNAL_ERROR,
        )

    def _task_video_answer(
        self, entry: LogEntry, token: str | None, body: Any, now: float, log_id: str
    ) -> bytes:
        state, capable = self.auth.check(token)
        code = 0
        if state is TokenState.INVALID:
            code = env.TASK_TOKEN_INVALID
        elif state is TokenState.EXPIRED:
            code = env.TASK_TOKEN_EXPIRED
        elif not capable:
            code = env.TASK_NO_CAPABILITY
        if code:
            self._unauthorized(entry, state)
            entry.outcome = str(code)
            return env.task_video(code, env.MESSAGES[code], log_id, None)
        try:
            q = parse_task_video(body, now)
        except Rejection as exc:
            entry.outcome = str(exc.code)
            return env.task_video(exc.code, exc.message, log_id, None)
        pop = self.data.task_video_population
        flt = pop.resolve(q.douyin_id, q.agency_client_key)
        videos = pop.videos(q.billing_date, q.start, q.end, flt,
                            (q.page_num - 1) * q.page_size, q.page_size)
        records = [pop.record(v, q.billing_date) for v in videos]
        entry.outcome = OK
        return env.task_video(0, "success", log_id, records)

    # -- talent media ------------------------------------------------------------------

    async def _talent_media(self, request: web.Request) -> web.StreamResponse:
        return await self._data_request(
            request, TALENT_MEDIA, "page_no",
            lambda entry, body, now, log_id: self._talent_media_answer(
                entry, request.headers.get("access-token"), body, now, log_id),
            self._talent_media_failure, env.MEDIA_SERVER_ERROR,
        )

    def _talent_media_answer(
        self, entry: LogEntry, token: str | None, body: Any, now: float, log_id: str
    ) -> bytes:
        state, _ = self.auth.check(token)
        try:
            if state is not TokenState.VALID:
                self._unauthorized(entry, state)
                code = (env.MEDIA_TOKEN_INVALID if state is TokenState.INVALID
                        else env.MEDIA_TOKEN_EXPIRED)
                raise Rejection(code, env.MESSAGES[code])
            q = parse_talent_media(body)
            if not self.data.plan_allowed(q.plan_id):
                sub = env.MEDIA_NO_PERMISSION_SUB
                raise Rejection(env.MEDIA_NO_PERMISSION, env.MESSAGES[env.MEDIA_NO_PERMISSION],
                                sub, env.SUB_MESSAGES[sub])
        except Rejection as exc:
            entry.outcome = str(exc.code)
            return env.talent_media_error(exc.code, exc.message, log_id, self._now_field(now),
                                          exc.sub_code, exc.sub_message)
        total = self.data.count_talent_media(q.plan_id, q.douyin_id, q.content_type)
        page_count = -(-total // q.page_size)
        records = self.data.talent_media_page(q.plan_id, q.douyin_id, q.content_type,
                                              q.page_no, q.page_size)
        entry.outcome = OK
        return env.talent_media_ok(records, total, page_count, env.data_date(now), log_id,
                                   self._now_field(now))

    def _talent_media_failure(self, code: int, log_id: str, now: float) -> bytes:
        if code == env.RATE_LIMITED and self.config.realistic:
            return env.gateway_error(code, env.MESSAGES[code], log_id)
        return env.talent_media_error(code, env.MESSAGES[code], log_id, self._now_field(now))

    # -- bill links --------------------------------------------------------------------

    async def _bill_request(
        self, request: web.Request, endpoint: str, *, agency: bool
    ) -> web.StreamResponse:
        origin = f"{request.scheme}://{request.host}"
        return await self._data_request(
            request, endpoint, "page",
            lambda entry, body, now, log_id: self._bill_answer(
                entry, request.headers.get("access-token"), body, now, log_id, origin, agency),
            lambda code, log_id, now: env.bill_links(code, env.MESSAGES[code], log_id, None),
            env.TASK_INTERNAL_ERROR,
        )

    def _bill_answer(
        self, entry: LogEntry, token: str | None, body: Any, now: float, log_id: str,
        origin: str, agency: bool,
    ) -> bytes:
        state, capable = self.auth.check(token)
        code, message = 0, ""
        if state is TokenState.INVALID:
            code = env.TASK_TOKEN_INVALID
        elif state is TokenState.EXPIRED:
            code = env.TASK_TOKEN_EXPIRED
        elif not (self.auth.is_agency(token) if agency else capable):
            code = env.TASK_NO_CAPABILITY
            message = f"{env.MESSAGES[code]}: {AGENCY_SCOPE}" if agency else ""
        if code:
            self._unauthorized(entry, state)
            entry.outcome = str(code)
            return env.bill_links(code, message or env.MESSAGES[code], log_id, None)
        try:
            bill_date = parse_bill_link(body, now)
        except Rejection as exc:
            entry.outcome = str(exc.code)
            return env.bill_links(exc.code, exc.message, log_id, None)
        entry.outcome = OK
        links = {
            "bill_link": self.files.link(origin, bill_date, agency, "video", now),
            "live_bill_link": self.files.link(origin, bill_date, agency, "live", now),
        }
        return env.bill_links(0, "", log_id, links)

    # -- token endpoints ---------------------------------------------------------------

    async def _client_token(self, request: web.Request) -> web.StreamResponse:
        return await self._token_request(request, CLIENT_TOKEN, stable=False)

    async def _stable_client_token(self, request: web.Request) -> web.StreamResponse:
        return await self._token_request(request, STABLE_CLIENT_TOKEN, stable=True)

    async def _token_request(
        self, request: web.Request, endpoint: str, *, stable: bool
    ) -> web.StreamResponse:
        entry = self.log.add(self.config.monotonic(), self.config.clock(), endpoint, None)
        body = await self._json(request)
        await self._delay()
        await self._token_delay()
        answer = self.auth.client_token(body, stable=stable)
        entry.outcome = str(answer.code) if answer.code else OK
        entry.http_status = 200
        return web.Response(body=env.token_answer(answer.code, answer.message, answer.data),
                            content_type="application/json")

    async def _auth_token(self, request: web.Request) -> web.StreamResponse:
        token = request.headers.get("access-token")
        wall = self.config.clock()
        entry = self.log.add(self.config.monotonic(), wall, AUTH_TOKEN, token)
        await self._delay()
        await self._token_delay()
        answer = self.auth.auth_token(token, request.query)
        entry.outcome = str(answer.code) if answer.code else OK
        log_id = self._log_id(wall)
        body: dict[str, Any] = {"err_no": answer.code, "err_msg": answer.message,
                                "log_id": log_id, "data": answer.data}
        return self._respond(entry, orjson.dumps(body), log_id)


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def build_app(
    config: SandboxConfig | None = None,
    data: SandboxData | None = None,
    log: RequestLog | None = None,
) -> web.Application:
    """An aiohttp application serving a sandbox with this configuration."""
    return SandboxServer(config or SandboxConfig(), data, log).application()


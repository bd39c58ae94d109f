"""A server that echoes the token or the app secret never gets it into an error's message,
fields, repr or the command line's stderr (real servers on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from apiserver import video
from helpers.cli import clean_env, cli
from hostile import json_answer, serve
from record_server import RecordServer
from test_cli_outputs import _video_args

from douyin_async import DouyinClient, TaskVideoQuery
from douyin_async.auth import ClientCredentials
from douyin_async.days import beijing_day
from douyin_async.errors import (
    AuthenticationError,
    DouyinError,
    InvalidRecordError,
    InvalidRequestError,
    ServerError,
)
from douyin_async.http.redact import MASK, register_secret, scrub

TOKEN = "clt.echoed-token-5f2a9c1e7b3d4f60"
SECRET = "app-secret-8e1f0a2b3c4d5e6f"
NOW = int(time.time())
QUERY = TaskVideoQuery(billing_date=beijing_day(NOW) - dt.timedelta(days=1),
                       video_publish_start_time=NOW - 5 * 86400,
                       video_publish_end_time=NOW - 86400, page_size=10)


def _nowhere(error: DouyinError, secret: str = TOKEN) -> None:
    texts = [str(error), repr(error), repr(error.args), repr(vars(error))]
    assert not any(secret in text or secret[:12] in text for text in texts), texts


async def _fail(answer: Any) -> DouyinError:
    async def handler(request: web.Request) -> web.StreamResponse:
        return answer(request.headers["access-token"])

    async with serve(handler) as api:
        async with DouyinClient(TOKEN, base_url=api.url, max_retries=0) as client:
            with pytest.raises(DouyinError) as info:
                await client.fetch_page(QUERY)
    return info.value


async def test_a_5xx_body_that_quotes_the_token_is_masked() -> None:
    error = await _fail(lambda token: web.Response(status=502, text=f"upstream said {token}"))
    assert isinstance(error, ServerError)
    _nowhere(error)
    assert error.message == f"HTTP 502: upstream said {MASK}"


async def test_a_token_cut_by_the_quoted_snippet_is_masked_too() -> None:
    body = "x" * (200 - 14)  # the snippet keeps the token's first 14 characters
    error = await _fail(lambda token: web.Response(status=500, text=body + token))
    _nowhere(error)
    assert error.message.endswith(MASK)  # type: ignore[attr-defined]


async def test_err_msg_and_log_id_that_echo_the_token_are_masked() -> None:
    error = await _fail(lambda token: json_answer(
        {"err_no": 28001007, "err_msg": f"bad token {token}", "log_id": token}))
    assert isinstance(error, InvalidRequestError)
    _nowhere(error)
    assert error.message == f"bad token {MASK}" and error.log_id == MASK


async def test_a_refused_record_that_holds_the_token_is_masked() -> None:
    def answer(token: str) -> web.Response:
        bad = video(1, pascal=False) | {"author": token, "gmv_1d": "not a number"}
        return json_answer({"err_no": 0, "log_id": "L",
                            "data": {"video_daily_data_list": [bad]}})

    error = await _fail(answer)
    assert isinstance(error, InvalidRecordError)
    _nowhere(error)
    assert error.record["author"] == MASK


async def test_an_echoed_client_secret_is_masked() -> None:
    async def handler(request: web.Request) -> web.Response:
        secret = (await request.json())["client_secret"]
        return json_answer({"data": {"error_code": 10013, "description": f"{secret} wrong"},
                            "message": "error"})

    async with serve(handler) as auth:
        provider = ClientCredentials("key", SECRET, base_url=auth.url)
        with pytest.raises(AuthenticationError) as info:
            await provider.fetch()
        await provider.aclose()
    _nowhere(info.value, SECRET)


def test_scrub_leaves_text_without_secrets_alone() -> None:
    register_secret(TOKEN)  # other tests of the process may have pushed it out of the table
    assert scrub("no secret here") == "no secret here"
    assert scrub({"k": [TOKEN, 1, ("x", TOKEN)]}) == {"k": [MASK, 1, ("x", MASK)]}


class _Echo(RecordServer):
    async def _task(self, request: web.Request) -> web.Response:
        token = request.headers["access-token"]
        return json_answer({"err_no": 28001007, "err_msg": f"token {token} refused",
                            "log_id": token})


def test_the_command_line_never_prints_an_echoed_token(tmp_path: Path) -> None:
    with _Echo() as server:
        result = cli(*_video_args(server, tmp_path / "v.jsonl"), "--max-retries", "0",
                     env=clean_env(DOUYIN_ACCESS_TOKEN=TOKEN), timeout=60)
    assert result.returncode != 0 and "refused" in result.stderr
    assert TOKEN not in result.stderr and TOKEN not in result.stdout

"""`Retry-After` on 429 and 503 is honoured within a bound, and malformed JSON is not retried
as if it were a cut body (real servers on 127.0.0.1; the waits are read off the policy)."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

import attrs
import pytest
from aiohttp import web
from hostile import json_answer, serve

from douyin_async import DouyinClient, TalentMediaQuery
from douyin_async.errors import DouyinError, ResponseDecodeError
from douyin_async.http.retry import MAX_RETRY_AFTER, RetryPolicy, retry_after

QUERY = TalentMediaQuery(plan_id=1, douyin_id="dy", page_size=10)
OK = {"data": {"data": [], "total": 0, "page_count": 1}, "extra": {"error_code": 0}}
NOW = 1_790_000_000.0


@attrs.frozen
class Recorded(RetryPolicy):
    """The policy's waits, kept; the test does not sleep them."""

    waits: list[float | None] = attrs.field(factory=list)

    def delay(self, error: DouyinError, attempt: int) -> float | None:
        wait = super().delay(error, attempt)
        self.waits.append(wait)
        return None if wait is None else 0.0


@pytest.mark.parametrize(("value", "wait"), [
    ("7", 7.0), ("0", 0.0), ("3600", MAX_RETRY_AFTER),
    (format_datetime(dt.datetime.fromtimestamp(NOW + 30, dt.UTC), usegmt=True), 30.0),
    (format_datetime(dt.datetime.fromtimestamp(NOW - 30, dt.UTC), usegmt=True), 0.0),
    ("-5", None), ("soon", None), ("", None), (None, None), ("1" * 100, None),
])
def test_retry_after_values(value: str | None, wait: float | None) -> None:
    assert retry_after(value, NOW) == wait


@pytest.mark.parametrize(("status", "header"), [(429, "9"), (503, "date"), (503, "86400")])
async def test_a_server_that_asks_to_wait_is_waited_for(status: int, header: str) -> None:
    if header == "date":  # an HTTP date an hour ahead: the wait is the bound
        header = format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), usegmt=True)
    answers = [web.Response(status=status, headers={"Retry-After": header}),
               json_answer(OK)]

    async def handler(request: web.Request) -> web.Response:
        return answers.pop(0)

    policy = Recorded(max_retries=2, random=lambda: 0.0)
    async with serve(handler) as api:
        async with DouyinClient("t", base_url=api.url, retry_policy=policy) as client:
            await client.fetch_page(QUERY)
    assert len(api.seen) == 2 and len(policy.waits) == 1
    wait = policy.waits[0]
    assert wait == (9.0 if header == "9" else MAX_RETRY_AFTER)


BODIES: dict[str, tuple[bytes, bool]] = {
    "nan": (b'{"err_no": 0, "data": {"total": NaN}}', False),
    "deep": (b'{"a":' * 2000 + b"1" + b"}" * 2000, False),
    "stray": (b'{"err_no": 0}}', False),
    "cut": (b'{"err_no": 0, "data": {"da', True),
    "html": (b"<html>bad gateway</html>", True),
}


@pytest.mark.parametrize("name", sorted(BODIES))
async def test_malformed_json_is_retried_only_when_cut(name: str) -> None:
    body, retried = BODIES[name]

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    policy = Recorded(max_retries=2, random=lambda: 0.0)
    async with serve(handler) as api:
        async with DouyinClient("t", base_url=api.url, retry_policy=policy) as client:
            with pytest.raises(ResponseDecodeError) as info:
                await client.fetch_page(QUERY)
    assert info.value.retryable is retried
    assert len(api.seen) == (3 if retried else 1)


def test_retry_after_never_shortens_the_backoff() -> None:
    from douyin_async.errors import ServerError

    error = ServerError(0, "busy", http_status=503)
    error.retry_after = 1.0
    policy = RetryPolicy(random=lambda: 1.0, base=4.0)
    assert policy.delay(error, 0) == 4.0

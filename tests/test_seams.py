"""The seams between the client and its collaborators: what a limiter and a token provider
declare, the typed outcome of each attempt, and the bill-link call path."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import attrs
import orjson
import pytest

from douyin_async import (
    DouyinClient,
    InvalidParameterError,
    RateLimiter,
    ResponseDecodeError,
    RetryPolicy,
    StaticToken,
    TaskVideoQuery,
)
from douyin_async.api.outcomes import MAX_SLOTS_GIVEN_UP, Attempts
from douyin_async.auth import token_after_slot
from douyin_async.errors import AuthenticationError, ServerError
from douyin_async.http.fake import FakeTransport
from douyin_async.http.transport import Request, Response
from douyin_async.pacing.limiter import Pacing
from douyin_async.stats import ClientStats
from douyin_async.webapp.admission import pacing_of
from douyin_async.webapp.admissions import Admissions

BASE = "http://127.0.0.1:9"
NOW = int(time.time())


class Held:
    """A provider that hands out what it holds."""

    renewable = True

    def __init__(self, value: str | None) -> None:
        self.value = value

    async def get(self) -> str:
        return self.value or "none"

    def current(self) -> str | None:
        return self.value

    async def invalidate(self, token: str) -> None: ...


@attrs.define  # eq=True: instances are unhashable, as many user classes are
class Spaced(RateLimiter):
    rate: float = 5.0
    paused: float = 0.0

    def pacing(self) -> Pacing:
        return Pacing(0.25, self.paused)

    async def acquire(self) -> None: ...

    def on_rate_limited(self) -> None: ...

    def on_success(self) -> None: ...


def test_collaborators_must_declare_what_the_client_reads() -> None:
    """A provider or a limiter missing a member the client reads is refused up front, naming
    the members, instead of being probed for them later."""

    class Plain:
        async def get(self) -> str:
            return "t"

        async def invalidate(self, token: str) -> None: ...

    class Bare:
        async def acquire(self) -> None: ...

        def on_rate_limited(self) -> None: ...

        def on_success(self) -> None: ...

    with pytest.raises(InvalidParameterError, match=r"renewable, get\(\), current\(\)"):
        DouyinClient(Plain(), base_url=BASE)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"rate, in_process, pacing\(\)"):
        DouyinClient("t", base_url=BASE, limiter=Bare())  # type: ignore[arg-type]
    assert token_after_slot(Held("tok-new"), "tok-old") == "tok-new"
    assert token_after_slot(Held(None), "tok-old") is None


def test_admission_reads_a_limiters_declared_pacing_and_queues_it_by_identity() -> None:
    """Admission takes spacing and pause from `pacing()`, whatever the limiter's class, and
    keeps one queue per limiter object, hashable or not; `in_process` sets the gate depth."""
    first, second = Spaced(paused=0.5), Spaced()
    assert pacing_of(first) == (0.25, 0.5)
    admissions = Admissions(ClientStats(), depth=7)
    queue = admissions.queue(first)
    assert admissions.queue(first) is queue and admissions.queue(second) is not queue
    assert queue.depth == 7  # booked elsewhere: several waiters may be inside acquire()
    assert admissions.queue(attrs.evolve(first, rate=9.0)) is not queue  # equal is not same


def test_the_fetch_ahead_reads_the_limiters_declared_rate() -> None:
    client = DouyinClient("t", base_url=BASE, limiter=Spaced(rate=2.0), max_concurrency=50,
                          transport=FakeTransport(lambda r: Response(200, {}, b"{}")))
    query = TaskVideoQuery(billing_date="2026-11-01", video_publish_start_time=NOW - 60,
                           video_publish_end_time=NOW)
    client._executor.latency = 3.0
    assert client._streams.depth(query) == 7  # ceil(2 x 3.0) + 1, not the old default of 10


def test_attempts_rules() -> None:
    tokens = StaticToken("t")
    expired = AuthenticationError(28001008, "expired")
    attempts = Attempts()
    assert attempts.may_give_up_slot() and not attempts.may_renew(expired, "t", tokens)
    renewable = Held("t")
    assert attempts.may_renew(expired, "t", renewable)
    assert not attempts.may_renew(expired, "", renewable)  # no token was sent
    assert not attempts.may_renew(ServerError(500, "boom"), "t", renewable)
    attempts.renewed, attempts.failed = True, 3
    assert attempts.retries() == 2 and not attempts.may_renew(expired, "t", renewable)
    attempts.slots_given_up = MAX_SLOTS_GIVEN_UP
    assert not attempts.may_give_up_slot()


async def test_a_cut_bill_link_answer_never_quotes_its_signed_link() -> None:
    """A bill-link answer is decoded as such (quoting no body), not as a page: an answer cut
    short carries the signed link, which must stay out of the error."""
    link = "https://files.example/bill.csv?x-expires=9999999999&x-signature=SECRET"
    cut = orjson.dumps({"err_no": 0, "log_id": "L", "data": {"bill_link": link}})[:-5]

    def handler(request: Request) -> Response:
        return Response(200, {}, cut)

    day = dt.date.fromtimestamp(NOW) - dt.timedelta(days=3)
    client = DouyinClient("t", base_url=BASE, transport=FakeTransport(handler),
                          retry_policy=RetryPolicy(max_retries=1, random=lambda: 0.0))
    async with client:
        with pytest.raises(ResponseDecodeError) as caught:
            await client.bill_links(day)
    error: Any = caught.value
    assert "x-signature" not in str(error) and "x-signature" not in error.snippet
    assert error.endpoint == "/api/match/v2/taskbox/query_bill_link/"

"""A transport that answers from a function, for tests: the one seam to fake.

[`FakeTransport`][douyin_async.http.fake.FakeTransport] keeps every request it is sent and
answers it as the network would (a redirect raises, a body is streamed in chunks).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from ..errors import ClientClosedError
from .transport import (
    CHUNK_SIZE,
    Request,
    Response,
    StreamedResponse,
    Transport,
    check_not_redirect,
)

Handler = Callable[[Request], Response | Awaitable[Response]]


class _FakeStream:
    def __init__(self, response: Response, chunk: int) -> None:
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers
        self._body = response.body
        self._chunk = chunk

    async def chunks(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self._body), self._chunk):
            await asyncio.sleep(0)
            yield self._body[start:start + self._chunk]


class FakeTransport(Transport):
    """A transport that answers from `handler(request)` (a function or a coroutine function)
    and keeps every request it was sent in `requests` (a request has left when the handler is
    called: `reports_sent`). A handler may raise any
    [`DouyinError`][douyin_async.errors.DouyinError] to act out a failure."""

    def __init__(self, handler: Handler, *, chunk: int = CHUNK_SIZE) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.closed = False
        self._chunk = chunk

    async def _answer(self, request: Request) -> Response:
        if self.closed:
            raise ClientClosedError("the client is closed")
        self.requests.append(request)
        request.sent()
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        assert isinstance(answer, Response)
        return answer

    #: `Request.on_sent` is called when the handler gets the request.
    reports_sent = True

    async def send(self, request: Request) -> Response:
        """Answer `request` through the handler (a 3xx raises, as over the network)."""
        answer = await self._answer(request)
        check_not_redirect(request, answer.status, answer.headers)
        return answer

    @asynccontextmanager
    async def stream(self, request: Request) -> AsyncIterator[StreamedResponse]:
        """Answer `request` through the handler, its body in chunks."""
        yield _FakeStream(await self._answer(request), self._chunk)

    async def aclose(self) -> None:
        """Refuse further requests."""
        self.closed = True


__all__ = ["FakeTransport", "Handler"]

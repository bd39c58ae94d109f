"""The one I/O seam: bytes out, (status, headers, bytes) or a typed transport error back.

Every request of the package goes through a [`Transport`][douyin_async.http.transport.Transport]:
the Open Platform calls of the client, the token endpoints of the providers and the bill-file
downloads. [`AiohttpTransport`][douyin_async.http.transport.AiohttpTransport] is the real one;
[`FakeTransport`][douyin_async.http.transport.FakeTransport] answers from a function, so tests can
hand a client a fake server without patching anything.

Failures are mapped here, once:

- no answer in time: [`TransportError`][douyin_async.errors.TransportError];
- connection refused, reset, DNS, TLS: [`TransportError`][douyin_async.errors.TransportError]
  with a plain message naming the host and port;
- a body cut short: a retryable [`ResponseDecodeError`][douyin_async.errors.ResponseDecodeError];
- the transport (or its session) was closed:
  [`ClientClosedError`][douyin_async.errors.ClientClosedError].
- a redirect answering [`send`][douyin_async.http.transport.Transport.send]:
  [`RedirectError`][douyin_async.errors.RedirectError] (API and token calls carry the token or
  the app secret: they reach the configured server only, never where a 3xx points);
- an answer past its size limit, as read or once decompressed:
  [`AnswerTooLargeError`][douyin_async.errors.AnswerTooLargeError] (see
  `douyin_async.http.limits`).

No message quotes a URL's query or a header: either may hold a secret.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urljoin, urlsplit

import aiohttp
import attrs
from aiohttp.abc import AbstractResolver

from ..errors import (
    ClientClosedError,
    DouyinError,
    RedirectError,
    ResponseDecodeError,
    TransportError,
)
from .limits import ACCEPT_ENCODING, MAX_ANSWER_BYTES, BoundedBody

#: Bytes per chunk of a streamed download.
CHUNK_SIZE = 64 * 1024
#: Stands in for the body in errors about answers that may hold a secret.
HIDDEN = "(not shown: it may hold a secret)"


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


def origin_and_path(url: str) -> str:
    """`scheme://host:port/path` of a URL: never its user, query or fragment (secrets)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def check_not_redirect(request: Request, status: int, headers: Mapping[str, str]) -> None:
    """Raise [`RedirectError`][douyin_async.errors.RedirectError] for a 3xx answer to an API or
    token call: it is not followed (the request holds the token or the app secret)."""
    if not 300 <= status < 400:
        return
    target = headers.get("Location", "")
    where = origin_and_path(urljoin(request.url, target)) if target else "(no Location)"
    error = RedirectError(0, f"HTTP {status} redirect to {where}, not followed",
                          endpoint=request.endpoint, http_status=status,
                          log_id=headers.get("X-Tt-Logid", ""))
    error.location = where if target else ""
    raise error


@attrs.frozen
class Request:
    """One HTTP request. `headers` and `params` are hidden from the repr (tokens).

    `timeout` is the whole exchange for
    [`Transport.send`][douyin_async.http.transport.Transport.send]
    and the longest silence between two chunks for
    [`Transport.stream`][douyin_async.http.transport.Transport.stream].
    """

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    body: bytes | None = attrs.field(default=None, repr=False)
    params: Mapping[str, str] | None = attrs.field(default=None, repr=False)
    timeout: float = 30.0
    #: The most bytes of the answer to read, as read and once decompressed (None: the
    #: transport's own limit).
    max_bytes: int | None = None
    #: Called once the request has left (its body written), by a transport that
    #: `reports_sent`; the pacing counts from there.
    on_sent: Callable[[], None] | None = attrs.field(default=None, repr=False, eq=False)

    def sent(self) -> None:
        """The request has left: tell `on_sent`."""
        if self.on_sent is not None:
            self.on_sent()

    def __deepcopy__(self, memo: dict[int, Any]) -> Request:
        """A copy whose `on_sent` is the same callback: it belongs to the running call (a
        recording test library deep-copies what it was sent)."""
        return attrs.evolve(self, headers=dict(self.headers),
                            params=None if self.params is None else dict(self.params))

    @property
    def endpoint(self) -> str:
        """The URL's path: what error messages name (never the query)."""
        return _path(self.url)


@attrs.frozen
class Response:
    """A whole answer: status, headers (case-insensitive keys) and body."""

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    body: bytes = attrs.field(default=b"", repr=False)


@runtime_checkable
class StreamedResponse(Protocol):
    """An answer whose body is read chunk by chunk."""

    @property
    def status(self) -> int:
        """The HTTP status."""

    @property
    def headers(self) -> Mapping[str, str]:
        """The answer's headers (case-insensitive keys)."""

    def chunks(self) -> AsyncIterator[bytes]:
        """The body, in chunks of at most [`CHUNK_SIZE`][douyin_async.http.transport.CHUNK_SIZE]."""


@runtime_checkable
class Transport(Protocol):
    """What the package needs from HTTP.

    Subclass it to inherit `reports_sent`; a duck-typed transport must have every member.
    """

    @property
    def reports_sent(self) -> bool:
        """True when the transport calls `Request.on_sent` as the request leaves; False: the
        pacing counts from the moment `send` is called."""
        return False

    async def send(self, request: Request) -> Response:
        """Send `request` and read the whole answer."""

    def stream(self, request: Request) -> AbstractAsyncContextManager[StreamedResponse]:
        """Send `request`; the answer's body is read as it is iterated."""

    async def aclose(self) -> None:
        """Release connections (a session passed in by the user stays open)."""


def _connect_message(exc: aiohttp.ClientConnectorError) -> str:
    reason = exc.os_error.strerror if exc.os_error and exc.os_error.strerror else ""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        reason = f"TLS failed: {exc.os_error or 'certificate not accepted'}"
    return f"cannot connect to {exc.host}:{exc.port}" + (f" ({reason})" if reason else "")


def map_error(exc: BaseException, request: Request) -> DouyinError:
    """The typed error for an aiohttp failure of `request` (the one mapping of the package)."""
    endpoint = request.endpoint
    if isinstance(exc, TimeoutError):
        return TransportError(f"no answer within {request.timeout:g} s", endpoint=endpoint)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ResponseDecodeError(f"answer cut short ({type(exc).__name__})", http_status=0,
                                   snippet=HIDDEN, endpoint=endpoint, retryable=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return TransportError(_connect_message(exc), endpoint=endpoint)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return TransportError("the server closed the connection", endpoint=endpoint)
    if isinstance(exc, aiohttp.ClientOSError):
        reason = exc.strerror or type(exc).__name__
        return TransportError(f"connection failed ({reason})", endpoint=endpoint)
    if isinstance(exc, RuntimeError) and "closed" in str(exc).lower():
        return ClientClosedError("the client is closed")
    # Other texts may hold the URL, whose query can carry a secret: name the kind only.
    return TransportError(type(exc).__name__, endpoint=endpoint)


_FAILURES = (TimeoutError, aiohttp.ClientError, RuntimeError)


async def _bounded(response: aiohttp.ClientResponse, request: Request,
                   limit: int, whole: bool = False) -> AsyncIterator[bytes]:
    """The body of `response`, decompressed, within `limit` bytes read and decompressed: in
    chunks of at most `CHUNK_SIZE`, or (`whole`, for a caller that joins them) as the bytes
    arrive, which spares cutting and copying them again."""
    body = BoundedBody(response.headers.get("Content-Encoding", ""), limit,
                       endpoint=request.endpoint, status=response.status,
                       declared=response.headers.get("Content-Length"))
    content = response.content
    try:
        async for chunk in content.iter_any() if whole else content.iter_chunked(CHUNK_SIZE):
            for piece in body.feed(chunk):
                yield piece
    except _FAILURES as exc:
        raise map_error(exc, request) from None
    body.finish()


async def _whole(response: aiohttp.ClientResponse, request: Request, limit: int) -> bytes:
    """The whole body within `limit`: read at once when it is sent as it is and its length
    is declared within the limit (the parser reads no more than declared), else piece by
    piece, counted and decompressed (see `BoundedBody`)."""
    headers = response.headers
    declared = headers.get("Content-Length", "")
    if (declared.isdecimal() and int(declared) <= limit
            and headers.get("Content-Encoding", "identity").strip().lower() == "identity"):
        return await response.read()
    pieces = [piece async for piece in _bounded(response, request, limit, whole=True)]
    return b"".join(pieces)


class _AiohttpStream:
    def __init__(self, response: aiohttp.ClientResponse, request: Request, limit: int) -> None:
        self._response = response
        self._request = request
        self._limit = limit
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers

    def chunks(self) -> AsyncIterator[bytes]:
        return _bounded(self._response, self._request, self._limit)


#: The request being handed to aiohttp in this task (its departure is to be reported).
_LEAVING: ContextVar[Request | None] = ContextVar("douyin_async_leaving", default=None)


class _ReportingRequest(aiohttp.ClientRequest):
    """aiohttp's request, telling the transport's [`Request`][douyin_async.http.transport.Request]
    once its body has been written (the headers go before it): the request has left. The
    session's `request_class`: cheaper than tracing, which builds and sends a signal at every
    step of every request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._leaving = _LEAVING.get()

    async def write_bytes(self, *args: Any, **kwargs: Any) -> None:
        await super().write_bytes(*args, **kwargs)
        if self._leaving is not None:
            self._leaving.sent()


class AiohttpTransport(Transport):
    """The aiohttp transport. One session, opened on first use in the running loop.

    Args:
        session: your own `aiohttp.ClientSession` (left open by
            [`aclose`][douyin_async.http.transport.AiohttpTransport.aclose]).
        limit: connections at most, when the transport opens its own session.
        ssl: passed to aiohttp (an `ssl.SSLContext` for a private CA). Verification is on.
        max_answer_bytes: the most bytes of an answer read, and the most once decompressed
            (a request's own `max_bytes` overrides it); past it the read stops with
            [`AnswerTooLargeError`][douyin_async.errors.AnswerTooLargeError].
        resolver: the resolver of the session the transport opens (the bill files' transport
            resolves to public addresses only: see
            [`PublicResolver`][douyin_async.bills.hosts.PublicResolver]).

    Redirects are never followed: [`send`][douyin_async.http.transport.AiohttpTransport.send]
    raises [`RedirectError`][douyin_async.errors.RedirectError] for a 3xx, and
    [`stream`][douyin_async.http.transport.AiohttpTransport.stream] hands the 3xx to its caller.

    With its own session it reports when each request's body was written, which is when the
    request left: `reports_sent`.
    """

    def __init__(self, session: aiohttp.ClientSession | None = None, *, limit: int = 20,
                 ssl: Any = True, max_answer_bytes: int = MAX_ANSWER_BYTES,
                 resolver: AbstractResolver | None = None) -> None:
        self._session = session
        self._resolver = resolver
        self._own = session is None
        self._limit = limit
        self._ssl = ssl
        self._closed = False
        self.max_answer_bytes = max_answer_bytes

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session (opened now if needed; aiohttp tracing hooks can be added to it)."""
        if self._closed:
            raise ClientClosedError("the client is closed")
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._limit, ssl=self._ssl,
                                             resolver=self._resolver)
            self._session = aiohttp.ClientSession(connector=connector,
                                                  request_class=_ReportingRequest)
        return self._session

    @property
    def reports_sent(self) -> bool:
        """True when `Request.on_sent` is called as the body leaves (the transport's own
        session); a session of the user's has no such hook."""
        return self._own

    def _kwargs(self, request: Request, timeout: aiohttp.ClientTimeout) -> dict[str, Any]:
        headers = {"accept-encoding": ACCEPT_ENCODING, **request.headers}
        kwargs: dict[str, Any] = {"headers": headers, "data": request.body,
                                  "params": request.params, "timeout": timeout,
                                  "allow_redirects": False, "auto_decompress": False}
        if not self._own:  # a session of the user's: its connector knows nothing of ssl=
            kwargs["ssl"] = self._ssl
        return kwargs

    async def send(self, request: Request) -> Response:
        """Send `request`; read the whole answer within `request.timeout` seconds."""
        timeout = aiohttp.ClientTimeout(total=request.timeout)
        leaving = _LEAVING.set(request)
        try:
            async with self.session.request(request.method, request.url,
                                            **self._kwargs(request, timeout)) as response:
                check_not_redirect(request, response.status, response.headers)
                return Response(response.status, response.headers,
                                await _whole(response, request, self._max(request)))
        except _FAILURES as exc:
            raise map_error(exc, request) from None
        finally:
            _LEAVING.reset(leaving)

    def _max(self, request: Request) -> int:
        return request.max_bytes if request.max_bytes is not None else self.max_answer_bytes

    @asynccontextmanager
    async def stream(self, request: Request) -> AsyncIterator[StreamedResponse]:
        """Send `request`; each chunk of the body must come within `request.timeout`. A 3xx
        is handed back as it is (its caller decides whether, and where, to go)."""
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=request.timeout,
                                        sock_read=request.timeout)
        leaving = _LEAVING.set(request)
        try:
            response = await self.session.request(request.method, request.url,
                                                  **self._kwargs(request, timeout))
        except _FAILURES as exc:
            raise map_error(exc, request) from None
        finally:
            _LEAVING.reset(leaving)
        try:
            yield _AiohttpStream(response, request, self._max(request))
        finally:
            response.release()

    async def aclose(self) -> None:
        """Close the session the transport opened (a session passed in stays open)."""
        self._closed = True
        if self._own and self._session is not None:
            await self._session.close()
            self._session = None


__all__ = [
    "CHUNK_SIZE",
    "AiohttpTransport",
    "Request",
    "Response",
    "StreamedResponse",
    "Transport",
    "check_not_redirect",
    "map_error",
    "origin_and_path",
]

"""The exception hierarchy, and the table mapping server codes to it.

Everything the client raises derives from [`DouyinError`][douyin_async.errors.DouyinError]:

    DouyinError
    ├── InvalidParameterError (also ValueError)  bad input, raised before any request
    ├── TransportError                           connect/read failures, timeouts
    ├── ResponseDecodeError                      not JSON, cut body, unexpected shape
    │   ├── InvalidRecordError                   one record of a page refused (field, reason)
    │   ├── AnswerTooLargeError                  an answer past its size limit
    │   ├── UnsafeLinkError                      a bill link or redirect to a refused place
    │   ├── PaginationError      pages contradict: RepeatedPage, TotalMismatch, PageLimitError
    │   └── BillFileError                        a bill file unreadable as a whole
    │       └── BillRecordTooLongError           a record past the reader's length bound
    ├── QueueTimeoutError                        no request slot within the caller's budget
    ├── ClientClosedError                        the client was closed
    └── ApiError                                 the server answered an error
        ├── RateLimitedError                     28003018, 28001052, HTTP 429
        ├── QuotaExceededError                   28003017, 2190001
        ├── AuthenticationError                  expired or invalid tokens, HTTP 401
        ├── PermissionDeniedError                missing capability or scope, HTTP 403
        ├── InvalidRequestError                  parameters refused
        ├── ApiRetiredError                      28001056: the API is retired
        ├── BillLinkExpiredError                 a bill link refused by the file host
        ├── RedirectError                        an API or token call answered 3xx
        └── ServerError                          internal errors, HTTP 5xx

[`CODES`][douyin_async.http.codes.CODES] is the one table of known codes: class, whether the client
retries, and what the code means. Tokens never appear in any message: errors are built from
codes, server messages and the endpoint path only, known secrets masked
(`douyin_async.http.redact`).
"""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

from .http.redact import scrub


def _rebuild(cls: type[DouyinError], args: tuple[Any, ...], state: dict[str, Any]
             ) -> DouyinError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class DouyinError(Exception):
    """Base class of every error raised by douyin-async.

    Every argument and field goes through [`scrub`][douyin_async.http.redact.scrub] as it is set:
    a known secret that a server echoed never shows in a message, a `repr` or a log line.

    `attempts` is the number of requests made for the failed operation (1 when it was not
    retried); it is set when retries give up. Every error pickles with all its fields.
    """

    attempts: int = 1

    def __init__(self, *args: Any) -> None:
        super().__init__(*(scrub(arg) for arg in args))

    def __setattr__(self, name: str, value: Any) -> None:  # server text: secrets masked
        super().__setattr__(name, scrub(value))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class InvalidParameterError(DouyinError, ValueError):
    """A query or option is invalid; raised before any request is sent."""


class ClientClosedError(DouyinError):
    """The client was closed: calls made after, or in flight during, `close()` raise this."""


class QueueTimeoutError(DouyinError):
    """No request slot could be had within the caller's budget; nothing was sent.

    `retry_after` is the estimated wait, in seconds, before a slot would be free (for a
    `Retry-After` header).
    """

    def __init__(self, message: str, *, retry_after: float, endpoint: str = "") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.endpoint = endpoint


class TransportError(DouyinError):
    """The request did not get an answer: connection refused or reset, timeout, TLS failure."""

    def __init__(self, message: str, *, endpoint: str = "") -> None:
        super().__init__(message)
        self.endpoint = endpoint

    def __str__(self) -> str:
        text = super().__str__()
        where = f" [{self.endpoint}]" if self.endpoint else ""
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{text}{where}{tries}"


class ResponseDecodeError(DouyinError):
    """The answer could not be decoded: not JSON, a cut body or an unexpected shape.

    `retryable` is true for answers that look transient (a cut body, an HTML error page from a
    proxy); a well-formed JSON answer of an unexpected shape is not retried.
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int = 0,
        snippet: str = "",
        endpoint: str = "",
        retryable: bool = False,
        log_id: str = "",
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.snippet = snippet
        self.endpoint = endpoint
        self.retryable = retryable
        self.log_id = log_id

    def __str__(self) -> str:
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        log = f", log_id {self.log_id}" if self.log_id else ""
        quoted = f": {self.snippet!r}" if self.snippet else ""
        return f"{super().__str__()} [{self.endpoint}, HTTP {self.http_status}{log}]{tries}{quoted}"


class InvalidRecordError(ResponseDecodeError):
    """One record of an answer was refused: a required field missing, or a value of the wrong
    type. Nothing is coerced: `field` names the field, `reason` says what was wrong,
    `record` is the raw record as the server sent it and `index` its place in the page."""

    def __init__(
        self,
        message: str,
        *,
        field: str,
        reason: str,
        record: Any,
        index: int = -1,
        http_status: int = 200,
        snippet: str = "",
        endpoint: str = "",
        log_id: str = "",
    ) -> None:
        super().__init__(message, http_status=http_status, snippet=snippet, endpoint=endpoint,
                         log_id=log_id)
        self.field = field
        self.reason = reason
        self.record = record
        self.index = index


class AnswerTooLargeError(ResponseDecodeError):
    """An answer past its size limit: `limit` bytes, as read or decompressed. Not retried."""

    limit: int = 0


class UnsafeLinkError(ResponseDecodeError):
    """A bill link or redirect the client refuses to follow (`host`); not retried."""

    host: str = ""


class PaginationError(ResponseDecodeError):
    """A query's pages contradict themselves or never end (`pages`); not retried."""

    pages: tuple[int, ...] = ()


class RepeatedPageError(PaginationError):
    """A page holds records that an earlier page of the same query delivered already."""


class TotalMismatchError(PaginationError):
    """Records `delivered` differ from the announced `total` (`expected`), or it changed."""

    expected: int | None = None
    delivered: int = 0


class PageLimitError(PaginationError):
    """More pages than a query of the endpoint can hold, or a run of empty pages."""


class ApiErrorFields(TypedDict, total=False):
    """What an [`ApiError`][douyin_async.errors.ApiError] carries besides code and message."""

    log_id: str
    endpoint: str
    http_status: int
    sub_code: int | None
    sub_message: str


class ApiError(DouyinError):
    """The server answered an error: a non-zero code, or an HTTP status that is not 2xx.

    Attributes: `code` (0 when only the HTTP status failed), `message` (the server's text),
    `log_id` (quote it to platform support), `sub_code` / `sub_message`, `endpoint` (the
    request path) and `http_status`; the keyword arguments are
    [`ApiErrorFields`][douyin_async.errors.ApiErrorFields].
    """

    log_id: str = ""
    endpoint: str = ""
    http_status: int = 200
    sub_code: int | None = None
    sub_message: str = ""
    retry_after: float | None = None  # seconds a 429 / 503 asked to wait (Retry-After)

    def __init__(self, code: int, message: str, **fields: Unpack[ApiErrorFields]) -> None:
        super().__init__(code, message)
        unknown = sorted(fields.keys() - ApiErrorFields.__annotations__.keys())
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected fields {unknown}")
        self.code = code
        self.message = message
        self.__dict__.update(scrub(fields))

    def __str__(self) -> str:
        parts = [f"error {self.code}: {self.message or '(no message)'}"]
        if self.sub_code:
            parts.append(f"sub-code {self.sub_code}: {self.sub_message or '(no message)'}")
        parts.append(f"endpoint {self.endpoint or '?'}")
        parts.append(f"HTTP {self.http_status}")
        parts.append(f"log_id {self.log_id or '-'}")
        if self.attempts > 1:
            parts.append(f"after {self.attempts} attempts")
        return "; ".join(parts)


class RateLimitedError(ApiError):
    """The server's rate control refused the request (28003018, 28001052, HTTP 429).
    Retried after a pause shared by every caller of the limiter."""


class QuotaExceededError(ApiError):
    """A call quota is used up (28003017, 2190001; 10020 on the token endpoint)."""


class AuthenticationError(ApiError):
    """The access token or the app credentials were refused."""


class PermissionDeniedError(ApiError):
    """The app or user lacks the capability, scope or right to the requested object."""


class InvalidRequestError(ApiError):
    """The server refused the parameters."""


class ServerError(ApiError):
    """The server failed (internal errors, or an HTTP 5xx). Retried."""


class ApiRetiredError(ApiError):
    """The platform retired this API (28001056).

    The task-video endpoint is unmaintained since 2024-03-27; its replacement is the bill-file
    API (`DouyinClient.bill_records`, `douyin-async pull bills`).
    """

    def __str__(self) -> str:
        return (super().__str__() + "; this API is retired: move to the bill-file API "
                "(DouyinClient.bill_records / bill_links, `douyin-async pull bills`)")


class BillFileError(ResponseDecodeError):
    """A bill file that cannot be read as a whole: key columns missing from its header
    (`missing` names them, as the table spells them), bytes that are not text in the file's
    encoding, or a file that changed between two downloads. Not retried."""

    def __init__(self, message: str, *, endpoint: str = "", missing: tuple[str, ...] = ()) -> None:
        super().__init__(message, http_status=200, snippet="", endpoint=endpoint)
        self.missing = missing


class BillRecordTooLongError(BillFileError):
    """A bill-file record (a line, or lines joined by a quoted field) longer than the reader's
    bound: `line` is the file line it starts on (the header is line 1), `limit` the bound in
    characters. The file fails as a whole: an unclosed quote would otherwise hold it all."""

    def __init__(self, message: str, *, endpoint: str = "", line: int = 0, limit: int = 0
                 ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.line = line
        self.limit = limit


class BillLinkExpiredError(ApiError):
    """The file host refused a bill link (expired, or HTTP 403) even after a fresh one."""


class RedirectError(ApiError):
    """An API or token call answered 3xx, not followed; `location` (no query). Not retried."""

    location: str = ""

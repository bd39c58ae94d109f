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

[`CODES`][douyin_async.errors.CODES] is the one table of known codes: class, whether the client
retries, and what the code means. Tokens never appear in any message: errors are built from
codes, server messages and the endpoint path only, known secrets masked (`douyin_async.redact`).
"""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

import attrs

from .redact import scrub


def _rebuild(cls: type[DouyinError], args: tuple[Any, ...], state: dict[str, Any]
             ) -> DouyinError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class DouyinError(Exception):
    """Base class of every error raised by douyin-async.

    Every argument and field goes through [`scrub`][douyin_async.redact.scrub] as it is set:
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


@attrs.frozen
class Code:
    """One known server code: its class, whether the client retries it, and its meaning."""

    error: type[ApiError]
    retried: bool
    meaning: str


def _c(error: type[ApiError], meaning: str, retried: bool = False) -> Code:
    return Code(error, retried, meaning)


_P, _A, _I = PermissionDeniedError, AuthenticationError, InvalidRequestError

#: Every known server code (new and old common status-code lists, both endpoints, the token
#: endpoints). Codes not listed raise a plain [`ApiError`][douyin_async.errors.ApiError]
#: ([`ServerError`][douyin_async.errors.ServerError] when the HTTP status is 5xx).
CODES: dict[int, Code] = {
    28003018: _c(RateLimitedError, "rate too high (over 10 requests/s)", True),
    28001052: _c(RateLimitedError, "risk control: call less often and try later", True),
    28003017: _c(QuotaExceededError, "call quota used up"),
    2190001: _c(QuotaExceededError, "call quota used up"),
    10020: _c(QuotaExceededError, "too many token calls (500 in 5 minutes)"),
    28001003: _c(_A, "access token invalid", True),
    28001008: _c(_A, "access token expired", True),
    2190002: _c(_A, "access token invalid", True),
    2190008: _c(_A, "access token expired", True),
    10008: _c(_A, "access token expired (older code)", True),
    28001015: _c(_A, "access token and open_id do not match"),
    10003: _c(_A, "client_key not found"),
    10013: _c(_A, "client_key or client_secret wrong"),
    28001012: _c(_P, "the user did not authorize this API"),
    28001014: _c(_P, "the app has no capability at all"),
    28001016: _c(_P, "the app is banned or offline"),
    28001018: _c(_P, "the app lacks this capability"),
    28001019: _c(_P, "this capability is banned or offline"),
    28001020: _c(_P, "the user is not bound to the test app"),
    28001021: _c(_P, "the test app has expired"),
    28001042: _c(_P, "the service provider's token lacks this scope"),
    28001045: _c(_P, "the user has deactivated the account"),
    28001046: _c(_P, "the user is banned"),
    28001047: _c(_P, "the user's account is private"),
    28004020: _c(_P, "this scope is not supported in this authorization scene"),
    2100007: _c(_P, "no permission for this operation"),
    2100009: _c(_P, "the user is banned from this operation"),
    2190004: _c(_P, "the app lacks the capability"),
    28001007: _c(_I, "invalid parameter"),
    28001017: _c(_I, "unknown URI"),
    28013009: _c(_I, "publish window starts more than 90 days ago"),
    28013010: _c(_I, "page size over 10000"),
    2100005: _c(_I, "invalid parameter"),
    10002: _c(_I, "bad parameters (token endpoint)"),
    28001056: _c(ApiRetiredError, "this API is retired"),
    28001005: _c(ServerError, "system busy", True),
    28001006: _c(ServerError, "internal network call failed", True),
    2100004: _c(ServerError, "system busy", True),
}

#: Server code -> exception class (the class column of [`CODES`][douyin_async.errors.CODES]).
CODE_TO_ERROR: dict[int, type[ApiError]] = {code: c.error for code, c in CODES.items()}

#: Codes meaning "this token is invalid or expired": renew the token once and retry once.
TOKEN_EXPIRED_CODES = frozenset({28001003, 28001008, 2190002, 2190008, 10008})


def error_for_code(code: int, message: str, **fields: Unpack[ApiErrorFields]) -> ApiError:
    """Build the exception for a server code (a plain [`ApiError`][douyin_async.errors.ApiError]
    for unknown codes, a [`ServerError`][douyin_async.errors.ServerError] when HTTP is 5xx)."""
    cls = CODE_TO_ERROR.get(code)
    if cls is None:
        cls = ServerError if fields.get("http_status", 200) >= 500 else ApiError
    return cls(code, message, **fields)


def error_for_status(
    http_status: int, *, endpoint: str, log_id: str = "", message: str = ""
) -> ApiError | None:
    """The error an HTTP status means whatever the body says (None for 2xx).

    5xx: [`ServerError`][douyin_async.errors.ServerError] (retried); 429:
    [`RateLimitedError`][douyin_async.errors.RateLimitedError]; 401:
    [`AuthenticationError`][douyin_async.errors.AuthenticationError] (renew once); 403:
    [`PermissionDeniedError`][douyin_async.errors.PermissionDeniedError]; any other status
    outside 2xx: [`ApiError`][douyin_async.errors.ApiError] with `code` 0.
    """
    if 200 <= http_status < 300:
        return None
    cls: type[ApiError]
    if http_status >= 500:
        cls = ServerError
    elif http_status == 429:
        cls = RateLimitedError
    elif http_status == 401:
        cls = AuthenticationError
    elif http_status == 403:
        cls = PermissionDeniedError
    else:
        cls = ApiError
    return cls(0, message or f"HTTP {http_status}", endpoint=endpoint, http_status=http_status,
               log_id=log_id)

"""The exception hierarchy, and the table mapping server codes to it.

Everything the client raises derives from :class:`DouyinError`::

    DouyinError
    ├── InvalidParameterError (also ValueError)  bad input, raised before any request
    ├── TransportError                           connect/read failures, timeouts
    ├── ResponseDecodeError                      not JSON, cut body, unexpected shape
    └── ApiError                                 the server answered a non-zero code
        ├── RateLimitedError                     28003018
        ├── QuotaExceededError                   28003017, 2190001
        ├── AuthenticationError                  28001003, 28001008, 2190002, 2190008, 10003, 10013
        ├── PermissionDeniedError                28001018, 2100007
        ├── InvalidRequestError                  28001007, 28013009, 28013010, 2100005, 10002
        └── ServerError                          28001005, 28001006, 2100004, HTTP 5xx

Tokens never appear in any message: errors are built from codes, server messages and the
endpoint path only.
"""

from __future__ import annotations

from typing import Any


class DouyinError(Exception):
    """Base class of every error raised by douyin-async.

    ``attempts`` is the number of requests made for the failed operation (1 when it was not
    retried); it is set when retries give up.
    """

    attempts: int = 1


class InvalidParameterError(DouyinError, ValueError):
    """A query or option is invalid; raised before any request is sent."""


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

    ``retryable`` is true for answers that look transient (a cut body, an HTML error page from a
    proxy); a well-formed JSON answer of an unexpected shape is not retried.
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        snippet: str,
        endpoint: str = "",
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.snippet = snippet
        self.endpoint = endpoint
        self.retryable = retryable

    def __str__(self) -> str:
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return (
            f"{super().__str__()} [{self.endpoint}, HTTP {self.http_status}]{tries}: "
            f"{self.snippet!r}"
        )


class ApiError(DouyinError):
    """The server answered with a non-zero error code.

    Attributes: ``code``, ``message`` (the server's text), ``log_id`` (quote it to platform
    support), ``sub_code`` / ``sub_message`` (talent-media envelope only), ``endpoint`` (the
    request path) and ``http_status``.
    """

    def __init__(
        self,
        code: int,
        message: str,
        *,
        log_id: str = "",
        endpoint: str = "",
        http_status: int = 200,
        sub_code: int | None = None,
        sub_message: str = "",
    ) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.log_id = log_id
        self.endpoint = endpoint
        self.http_status = http_status
        self.sub_code = sub_code
        self.sub_message = sub_message

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

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {
            "log_id": self.log_id,
            "endpoint": self.endpoint,
            "http_status": self.http_status,
            "sub_code": self.sub_code,
            "sub_message": self.sub_message,
        }
        return (_rebuild_api_error, (type(self), self.code, self.message, kwargs, self.attempts))


def _rebuild_api_error(
    cls: type[ApiError], code: int, message: str, kwargs: dict[str, Any], attempts: int
) -> ApiError:
    error = cls(code, message, **kwargs)
    error.attempts = attempts
    return error


class RateLimitedError(ApiError):
    """The server's QPS cap rejected the request (28003018). Retried after a shared pause."""


class QuotaExceededError(ApiError):
    """A call quota is used up (28003017, 2190001; 10020 on the token endpoint)."""


class AuthenticationError(ApiError):
    """The access token or the app credentials were refused."""


class PermissionDeniedError(ApiError):
    """The app lacks the scope or the right to the requested object (28001018, 2100007)."""


class InvalidRequestError(ApiError):
    """The server refused the parameters (28001007, 28013009, 28013010)."""


class ServerError(ApiError):
    """The server failed (28001005, 28001006, 2100004, or an HTTP 5xx). Retried."""


#: Server code -> exception class. Codes not listed raise a plain :class:`ApiError`.
CODE_TO_ERROR: dict[int, type[ApiError]] = {
    28003018: RateLimitedError,
    28003017: QuotaExceededError,
    2190001: QuotaExceededError,
    10020: QuotaExceededError,
    28001003: AuthenticationError,
    28001008: AuthenticationError,
    2190002: AuthenticationError,
    2190008: AuthenticationError,
    10002: InvalidRequestError,
    10003: AuthenticationError,
    10013: AuthenticationError,
    28001018: PermissionDeniedError,
    2100007: PermissionDeniedError,
    28001007: InvalidRequestError,
    28013009: InvalidRequestError,
    28013010: InvalidRequestError,
    2100005: InvalidRequestError,
    28001005: ServerError,
    28001006: ServerError,
    2100004: ServerError,
}

#: Codes meaning "this token is invalid or expired": renew the token once and retry once.
TOKEN_EXPIRED_CODES = frozenset({28001003, 28001008, 2190002, 2190008})


def error_for_code(
    code: int,
    message: str,
    *,
    log_id: str = "",
    endpoint: str = "",
    http_status: int = 200,
    sub_code: int | None = None,
    sub_message: str = "",
) -> ApiError:
    """Build the exception for a server code (a plain :class:`ApiError` for unknown codes)."""
    cls = CODE_TO_ERROR.get(code)
    if cls is None:
        cls = ServerError if http_status >= 500 else ApiError
    return cls(
        code,
        message,
        log_id=log_id,
        endpoint=endpoint,
        http_status=http_status,
        sub_code=sub_code,
        sub_message=sub_message,
    )

"""The server's codes: the one table of known codes (class, retried or not, meaning), and the
error a code or an HTTP status stands for. See [Errors](../errors.md)."""

from __future__ import annotations

from typing import Unpack

import attrs

from ..errors import (
    ApiError,
    ApiErrorFields,
    ApiRetiredError,
    AuthenticationError,
    InvalidRequestError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitedError,
    ServerError,
)


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

#: Server code -> exception class (the class column of [`CODES`][douyin_async.http.codes.CODES]).
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


__all__ = ["CODES", "CODE_TO_ERROR", "TOKEN_EXPIRED_CODES", "Code", "error_for_code",
           "error_for_status"]

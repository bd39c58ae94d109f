"""Retry decisions are pure: which errors, how long, when to give up."""

from __future__ import annotations

import pytest

from douyin_async import (
    AuthenticationError,
    InvalidRequestError,
    PermissionDeniedError,
    RateLimitedError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from douyin_async.errors import DouyinError


def decode_error(retryable: bool) -> ResponseDecodeError:
    return ResponseDecodeError("x", http_status=200, snippet="", retryable=retryable)


@pytest.mark.parametrize("error", [ServerError(28001005, "m"), RateLimitedError(28003018, "m"),
                                   TransportError("reset"), decode_error(True)])
def test_transient_errors_are_retried(error: DouyinError) -> None:
    policy = RetryPolicy(max_retries=3, random=lambda: 1.0)
    assert policy.delay(error, 0) is not None
    assert policy.delay(error, 2) is not None
    assert policy.delay(error, 3) is None


@pytest.mark.parametrize("error", [AuthenticationError(28001008, "m"),
                                   PermissionDeniedError(2100007, "m"),
                                   InvalidRequestError(28001007, "m"), decode_error(False)])
def test_other_errors_are_not(error: DouyinError) -> None:
    assert RetryPolicy(max_retries=5).delay(error, 0) is None


def test_full_jitter_exponential_backoff() -> None:
    top = RetryPolicy(max_retries=10, base=0.5, cap=4.0, random=lambda: 1.0)
    assert [top.delay(TransportError("x"), a) for a in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    half = RetryPolicy(max_retries=10, base=0.5, cap=4.0, random=lambda: 0.5)
    assert half.delay(ServerError(1, "m"), 2) == 1.0
    zero = RetryPolicy(max_retries=10, random=lambda: 0.0)
    assert zero.delay(TransportError("x"), 3) == 0.0


def test_rate_limit_waits_at_least_the_floor() -> None:
    policy = RetryPolicy(max_retries=3, rate_limit_floor=1.0, random=lambda: 0.0)
    assert policy.delay(RateLimitedError(28003018, "m"), 0) == 1.0


def test_no_retries() -> None:
    assert RetryPolicy(max_retries=0).delay(ServerError(1, "m"), 0) is None

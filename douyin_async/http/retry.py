"""Retry decisions: which errors are retried, and after how long (pure; randomness injected).

A 429 or 503 answer may say how long to wait in `Retry-After` (seconds, or an HTTP date): the
wait is then at least that long, bounded by
[`MAX_RETRY_AFTER`][douyin_async.http.retry.MAX_RETRY_AFTER] so that a server cannot park a
client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime

import attrs

from ..errors import (
    ApiError,
    DouyinError,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
    TransportError,
)

#: The longest `Retry-After` honoured, in seconds.
MAX_RETRY_AFTER = 60.0


def retry_after(value: str | None, now: float) -> float | None:
    """The wait a `Retry-After` value asks for, in seconds from `now` (unix time), bounded to
    0..[`MAX_RETRY_AFTER`][douyin_async.http.retry.MAX_RETRY_AFTER]; None when it is missing
    or unreadable."""
    if value is None or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return min(max(0.0, when.timestamp() - now), MAX_RETRY_AFTER)


def note_retry_after(error: DouyinError, status: int, headers: Mapping[str, str],
                     now: float) -> DouyinError:
    """Give a 429 or 503 error the wait its answer's `Retry-After` asks for."""
    if isinstance(error, ApiError) and status in (429, 503):
        error.retry_after = retry_after(headers.get("Retry-After"), now)
    return error


def is_retryable(error: DouyinError) -> bool:
    """Server failures, rate limits, transport failures and cut or HTML bodies are retried."""
    if isinstance(error, ServerError | RateLimitedError | TransportError):
        return True
    return isinstance(error, ResponseDecodeError) and error.retryable


@attrs.frozen
class RetryPolicy:
    """Full-jitter exponential backoff: ``uniform(0, min(cap, base * 2**attempt))``.

    ``max_retries`` is the number of retries after the first attempt (0 = never retry).
    Rate-limit answers wait at least ``rate_limit_floor`` seconds, and an answer's
    `Retry-After` at least what it asks for (at most ``max_retry_after``). ``random``
    draws the jitter and ``sleep`` waits the backoff out (tests inject both).
    """

    max_retries: int = 5
    base: float = 0.5
    cap: float = 20.0
    rate_limit_floor: float = 1.0
    random: Callable[[], float] = attrs.field(default=random.random, eq=False, repr=False)
    max_retry_after: float = MAX_RETRY_AFTER
    sleep: Callable[[float], Awaitable[object]] = attrs.field(default=asyncio.sleep, eq=False,
                                                              repr=False)

    def delay(self, error: DouyinError, attempt: int) -> float | None:
        """Seconds to wait before retrying after failed attempt number ``attempt`` (0-based),
        or None to give up."""
        if attempt >= self.max_retries or not is_retryable(error):
            return None
        delay = self.random() * min(self.cap, self.base * 2.0**attempt)
        if isinstance(error, RateLimitedError):
            delay = max(delay, self.rate_limit_floor)
        hint = error.retry_after if isinstance(error, ApiError) else None
        if hint is not None:
            delay = max(delay, min(hint, self.max_retry_after))
        return delay

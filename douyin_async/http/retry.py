"""Retry decisions: which errors are retried, and after how long (pure; randomness injected)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import attrs

from ..errors import (
    DouyinError,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
    TransportError,
)


def is_retryable(error: DouyinError) -> bool:
    """Server failures, rate limits, transport failures and cut or HTML bodies are retried."""
    if isinstance(error, ServerError | RateLimitedError | TransportError):
        return True
    return isinstance(error, ResponseDecodeError) and error.retryable


@attrs.frozen
class RetryPolicy:
    """Full-jitter exponential backoff: ``uniform(0, min(cap, base * 2**attempt))``.

    ``max_retries`` is the number of retries after the first attempt (0 = never retry).
    Rate-limit answers wait at least ``rate_limit_floor`` seconds. ``random`` draws the
    jitter and ``sleep`` waits the backoff out (tests inject both, and wait through none).
    """

    max_retries: int = 5
    base: float = 0.5
    cap: float = 20.0
    rate_limit_floor: float = 1.0
    random: Callable[[], float] = attrs.field(default=random.random, eq=False, repr=False)
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
        return delay

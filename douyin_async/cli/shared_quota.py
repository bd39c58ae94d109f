"""``--redis-url``: each app's quota kept in Redis, shared with every process that names it.

redis-py is imported only here, and only when the option is given. The URL may hold a
password, so messages name Redis by host, port and database only.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

from .exits import USAGE, CliError

#: Seconds allowed for connecting and for each Redis round trip.
REDIS_TIMEOUT = 5.0


def describe(url: str) -> str:
    """Where a Redis URL points, without credentials: ``Redis at HOST:PORT/DB``."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "unix":
            return f"Redis at unix:{parts.path}"
        db = parts.path.strip("/") or "0"
        return f"Redis at {parts.hostname or 'localhost'}:{parts.port or 6379}/{db}"
    except ValueError:
        return "Redis"


def _scrub(text: str, url: str) -> str:
    """``text`` with the URL's password (if any) blotted out."""
    try:
        password = urllib.parse.urlsplit(url).password
    except ValueError:
        password = None
    if password:
        text = text.replace(password, "***").replace(urllib.parse.unquote(password), "***")
    return text


def redis_module() -> Any:
    """[`douyin_async.pacing.redis_limiter`][douyin_async.pacing.redis_limiter], or a usage error
    naming the
    extra to install."""
    try:
        from ..pacing import redis_limiter
    except ImportError:
        raise CliError("--redis-url needs the redis package: "
                       "pip install 'douyin-async[redis]'", USAGE) from None
    return redis_limiter


async def open_redis(url: str) -> Any:
    """A Redis client for the limiters (see [`connect`][douyin_async.pacing.redis_limiter.connect]),
    checked with a PING. Raises
    [`RedisLimiterError`][douyin_async.pacing.redis_limiter.RedisLimiterError] (exit code 7) when
    Redis cannot be reached; no request is sent then."""
    module = redis_module()
    from redis.exceptions import RedisError

    try:
        client = module.connect(url, timeout=REDIS_TIMEOUT)
    except ValueError:
        raise CliError("--redis-url is not a valid Redis URL", USAGE) from None
    try:
        async with asyncio.timeout(REDIS_TIMEOUT):
            await client.ping()
    except (RedisError, OSError, TimeoutError) as exc:
        await client.aclose()
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise module.RedisLimiterError(
            f"cannot use {describe(url)} for the shared quota ({_scrub(reason, url)}); "
            "no request was sent") from None
    return client


def redis_limiter(redis: Any, app: str, rate: float) -> Any:
    """The shared limiter of one app: every process naming the same ``app`` shares ``rate``."""
    module = redis_module()
    return module.RedisRateLimiter(redis, app=app, rate=rate, redis_timeout=REDIS_TIMEOUT)


__all__ = ["REDIS_TIMEOUT", "describe", "open_redis", "redis_limiter", "redis_module"]

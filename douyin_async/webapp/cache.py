"""A short-TTL cache of answered pages, in process or in Redis (opt-in).

The platform's data is daily (T+1): a page asked a minute ago is the page asked now. A
dashboard that shows the same pages to many viewers can answer most of them from a cache
and spend the cap on pages nobody has seen yet.

What is cached is the *answer body* of a successful request (the JSON bytes the server
sent), under a key made of the app, the endpoint and the exact request body
([`cache_key`][douyin_async.webapp.cache.cache_key]), never the access token. A hit is decoded like
a fresh answer, so a cached page is the same typed page, and nothing but bytes ever crosses
Redis (no pickle: a shared cache never feeds code to its readers). Errors are never cached:
the client stores an answer only after it decoded as a page.

[`MemoryPageCache`][douyin_async.webapp.cache.MemoryPageCache] keeps entries in the process (LRU,
bounded, clock injected for tests); [`RedisPageCache`][douyin_async.webapp.cache.RedisPageCache]
shares them between the processes of a deployment, with Redis expiring them. A cache is an
optimisation: when Redis fails, the lookup is a miss (logged) and the request goes out.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from ..errors import InvalidParameterError

log = logging.getLogger(__name__)

#: Key prefix of cached pages in Redis.
DEFAULT_PREFIX = "douyin-async:page"


def cache_key(app: str, endpoint: str, body: bytes) -> str:
    """``app:endpoint:sha256(body)``: what a request asks, for whom; never the token."""
    return f"{app}:{endpoint}:{hashlib.sha256(body).hexdigest()}"


@runtime_checkable
class PageCache(Protocol):
    """What the client needs from a page cache (in-process, Redis, or your own)."""

    #: Seconds an answer stays fresh.
    ttl: float
    #: The app the cache belongs to (part of every key).
    app: str

    async def get(self, key: str) -> bytes | None:
        """The cached answer body, or None."""

    async def set(self, key: str, body: bytes) -> None:
        """Store a successful answer body for ``ttl`` seconds."""


def _check_ttl(ttl: float) -> float:
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
        raise InvalidParameterError(f"cache ttl must be a positive number of seconds, "
                                    f"got {ttl!r}")
    return float(ttl)


class MemoryPageCache:
    """Answers kept in this process for ``ttl`` seconds (at most ``max_entries``, LRU).

    ``clock`` is a monotonic seconds source (tests inject one). ``hits`` and ``misses``
    count lookups.
    """

    def __init__(
        self,
        ttl: float,
        *,
        app: str = "default",
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = _check_ttl(ttl)
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) \
                or max_entries < 1:
            raise InvalidParameterError("max_entries must be a positive integer")
        self.app = app
        self.max_entries = max_entries
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        """The fresh answer of ``key``, or None (an expired entry is dropped)."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self.clock():
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    async def set(self, key: str, body: bytes) -> None:
        """Keep ``body`` for ``ttl`` seconds, dropping the least recently used beyond
        ``max_entries``."""
        self._entries[key] = (self.clock() + self.ttl, body)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __repr__(self) -> str:
        return f"MemoryPageCache(ttl={self.ttl:g}, app={self.app!r}, entries={len(self)})"


class RedisPageCache:
    """Answers shared between processes in Redis, expired by Redis after ``ttl`` seconds.

    Args:
        redis: a ``redis.asyncio.Redis`` client (your own, left open), or a URL; a URL gets
            a client made by ``douyin_async.pacing.redis_limiter.connect()`` (RESP2
            explicitly, since redis-py 8 defaults to RESP3), closed by
            [`aclose`][douyin_async.webapp.cache.RedisPageCache.aclose].
        ttl: seconds an answer stays fresh.
        app: the app the cached pages belong to; use the same name in every process of the
            app (for example its client key), and different names for different apps.
        prefix: the key prefix.
    """

    def __init__(self, redis: Any, *, ttl: float, app: str,
                 prefix: str = DEFAULT_PREFIX) -> None:
        self.ttl = _check_ttl(ttl)
        if not isinstance(app, str) or not app:
            raise InvalidParameterError("RedisPageCache needs the app's name (app='...')")
        self.app = app
        self.prefix = prefix
        self._owns_redis = isinstance(redis, str)
        if isinstance(redis, str):
            from ..pacing.redis_limiter import connect

            redis = connect(redis)
        self.redis = redis
        self.hits = 0
        self.misses = 0
        self.failures = 0

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    async def get(self, key: str) -> bytes | None:
        """The cached answer of ``key``, or None (also when Redis fails)."""
        try:
            value = await self.redis.get(self._key(key))
        except Exception as exc:  # a cache failure is a miss, never a failed view
            self._failed("read", exc)
            return None
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        return bytes(value)

    async def set(self, key: str, body: bytes) -> None:
        """Store ``body`` with a TTL of ``ttl`` seconds (a Redis failure is logged only)."""
        try:
            await self.redis.set(self._key(key), body, px=max(1, int(self.ttl * 1000)))
        except Exception as exc:
            self._failed("write", exc)

    def _failed(self, what: str, exc: Exception) -> None:
        self.failures += 1
        self.misses += what == "read"
        log.warning("page cache %s failed (%s); the request goes to the API",
                    what, type(exc).__name__)

    async def aclose(self) -> None:
        """Close the Redis client if this cache made it from a URL."""
        if self._owns_redis:
            await self.redis.aclose()

    def __repr__(self) -> str:
        return f"RedisPageCache(ttl={self.ttl:g}, app={self.app!r}, prefix={self.prefix!r})"


def as_cache(cache: PageCache | float | None, *, app: str = "default") -> PageCache | None:
    """The client's ``cache=`` option: a cache, a TTL in seconds (an in-process cache),
    or None (no cache)."""
    if cache is None or isinstance(cache, PageCache):
        return cache
    return MemoryPageCache(cache, app=app)


__all__ = [
    "DEFAULT_PREFIX",
    "MemoryPageCache",
    "PageCache",
    "RedisPageCache",
    "as_cache",
    "cache_key",
]

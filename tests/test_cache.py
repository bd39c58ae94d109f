"""The page cache: TTL on an injected clock, LRU bound, keys, and the Redis backend."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from douyin_async.errors import InvalidParameterError
from douyin_async.sandbox import ManualClock
from douyin_async.webapp.cache import (
    MemoryPageCache,
    PageCache,
    RedisPageCache,
    as_cache,
    cache_key,
)

pytest_plugins = ["redis_server"]  # the redis_server and redis_client fixtures

BODY = b'{"plan_id":1,"page":1}'


def test_key_names_app_endpoint_and_body_never_a_token() -> None:
    key = cache_key("app-1", "/poi/x/", BODY)
    assert key == cache_key("app-1", "/poi/x/", BODY)
    assert key != cache_key("app-2", "/poi/x/", BODY)
    assert key != cache_key("app-1", "/poi/y/", BODY)
    assert key != cache_key("app-1", "/poi/x/", b'{"plan_id":1,"page":2}')
    assert key.startswith("app-1:/poi/x/:")


async def test_memory_entries_expire_after_the_ttl() -> None:
    clock = ManualClock()
    cache = MemoryPageCache(60, clock=clock.monotonic)
    await cache.set("k", b"answer")
    clock.advance(59.9)
    assert await cache.get("k") == b"answer"
    clock.advance(0.1)
    assert await cache.get("k") is None
    assert len(cache) == 0
    assert (cache.hits, cache.misses) == (1, 1)


async def test_memory_cache_is_bounded_least_recently_used_first() -> None:
    cache = MemoryPageCache(60, max_entries=2, clock=ManualClock().monotonic)
    await cache.set("a", b"1")
    await cache.set("b", b"2")
    assert await cache.get("a") == b"1"  # "a" is now the most recently used
    await cache.set("c", b"3")
    assert await cache.get("b") is None
    assert await cache.get("a") == b"1" and await cache.get("c") == b"3"


def test_options() -> None:
    assert as_cache(None) is None
    made = as_cache(30, app="app-1")
    assert isinstance(made, MemoryPageCache) and made.ttl == 30 and made.app == "app-1"
    mine = MemoryPageCache(5)
    assert as_cache(mine) is mine
    assert isinstance(mine, PageCache)
    for bad in (0, -1, True, "60"):
        with pytest.raises(InvalidParameterError):
            MemoryPageCache(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        RedisPageCache(object(), ttl=5, app="")


async def test_redis_cache_shares_answers_between_caches_of_one_app(redis_client: Any) -> None:
    writer = RedisPageCache(redis_client, ttl=60, app="app-1")
    reader = RedisPageCache(redis_client, ttl=60, app="app-1")
    key = cache_key("app-1", "/poi/x/", BODY)
    assert await reader.get(key) is None
    await writer.set(key, b'{"data":{"list":[]}}')
    assert await reader.get(key) == b'{"data":{"list":[]}}'
    assert (reader.hits, reader.misses) == (1, 1)
    # Redis keeps it for the TTL and then drops it by itself.
    ttl_ms = await redis_client.pttl(f"douyin-async:page:{key}")
    assert 59_000 < ttl_ms <= 60_000
    assert await redis_client.keys("*token*") == []


async def test_redis_entries_expire(redis_client: Any) -> None:
    cache = RedisPageCache(redis_client, ttl=0.05, app="app-1")
    await cache.set("k", b"answer")
    assert await cache.get("k") == b"answer"
    await redis_client.pexpire("douyin-async:page:k", 1)  # let Redis expire it now
    for _ in range(100):
        if await redis_client.exists("douyin-async:page:k") == 0:
            break
    assert await cache.get("k") is None


async def test_redis_cache_from_a_url_speaks_resp2(redis_server: Any) -> None:
    cache = RedisPageCache(redis_server.url, ttl=10, app="app-1")
    try:
        await cache.set("k", b"v")
        assert await cache.get("k") == b"v"
        assert cache.redis.connection_pool.connection_kwargs["protocol"] == 2
    finally:
        await cache.aclose()


async def test_a_failing_redis_is_a_miss_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    class Down:
        async def get(self, key: str) -> bytes:
            raise ConnectionError("refused")

        async def set(self, key: str, value: bytes, px: int) -> None:
            raise ConnectionError("refused")

    cache = RedisPageCache(Down(), ttl=10, app="app-1")
    with caplog.at_level(logging.WARNING, logger="douyin_async.webapp.cache"):
        await cache.set("k", b"v")
        assert await cache.get("k") is None
    assert cache.failures == 2 and cache.misses == 1
    assert "page cache read failed" in caplog.text

"""A process's shared limiters (one per quota, on the process's Redis client) are closed before
that client: a pause learned in the run's last moments reaches the other processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from douyin_async.cli.queue_access import limiters
from douyin_async.cli.shared_quota import open_redis

if TYPE_CHECKING:
    from redis_server import RedisServer

pytest_plugins = ["redis_server"]  # the redis_server fixture


async def test_a_pause_of_the_last_moment_is_written_before_redis_is_closed(
        redis_server: RedisServer) -> None:
    redis = await open_redis(redis_server.url)
    shared = limiters(redis)
    assert shared("quota-a", 10) is shared("quota-a", 10)  # one limiter per quota
    shared("quota-a", 10).on_rate_limited()  # a rate-limit answer just before the end
    try:
        await shared.aclose()
    finally:
        await redis.aclose()
    other = await open_redis(redis_server.url)  # another process of the same app
    try:
        peer = limiters(other)("quota-a", 10)
        assert not await peer.start_pause()  # the pause is already there: not started again
        await limiters(other).aclose()
    finally:
        await other.aclose()


async def test_without_redis_there_is_no_shared_limiter() -> None:
    shared = limiters(None)
    assert shared("quota-a", 10) is None
    await shared.aclose()

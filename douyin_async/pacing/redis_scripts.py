"""The Lua scripts of the Redis rate limiter, and how they are run (EVALSHA, reloaded after a
flush). The arithmetic they do is described in [`douyin_async.pacing.redis_limiter`][]; the pause
script mirrors the rule of `ratelimit.widen`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

__all__ = [
    "ACQUIRE",
    "ACQUIRE_SCRIPT",
    "PAUSE",
    "PAUSE_SCRIPT",
    "US",
    "Script",
    "connect",
    "describe",
    "now_arg",
    "us",
]

#: Microseconds per second: the scripts count in whole microseconds.
US = 1_000_000


def _now_from(arg: int) -> str:
    """Lua that sets ``now`` (us) from ``ARGV[arg]``, or from Redis's clock when it is empty."""
    return f"""
local now
if ARGV[{arg}] ~= nil and ARGV[{arg}] ~= '' then
  now = tonumber(ARGV[{arg}])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
"""


#: Reserve a slot. KEYS[1]: the limiter hash. ARGV: spacing (us, at factor 1), max_wait (us),
#: recovery (factor multiplier per reservation), now (us; empty: Redis TIME). Returns
#: {granted 0/1, wait in us, the script's now in us}. A refusal stores nothing.
ACQUIRE_SCRIPT = _now_from(4) + """local state = redis.call('HMGET', KEYS[1], 'tat', 'factor')
local tat = tonumber(state[1]) or now
local factor = tonumber(state[2]) or 1
if tat < now then tat = now end
local wait = tat - now
if wait > tonumber(ARGV[2]) then
  return {0, wait, now}
end
local new_tat = tat + math.floor(tonumber(ARGV[1]) * factor + 0.5)
if factor > 1 then
  factor = math.max(1, factor * tonumber(ARGV[3]))
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', new_tat),
           'factor', string.format('%.6f', factor))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.floor((new_tat - now) / 1000) + 1000))
return {1, wait, now}
"""

#: Start a shared pause. KEYS[1]: the limiter hash. ARGV: pause (us), max_factor, now (us;
#: empty: Redis TIME). Pushes tat forward by the pause and doubles the spacing factor, unless
#: a pause already started less than one pause ago: the rule of ``ratelimit.widen``, which
#: the in-process limiter uses (both are tested on one table). Returns 1 when applied, else 0.
PAUSE_SCRIPT = _now_from(3) + """local pause = tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'tat', 'factor', 'paused')
local paused = tonumber(state[3])
if paused and now < paused + pause then
  return 0
end
local tat = tonumber(state[1]) or now
if tat < now then tat = now end
tat = tat + pause
local factor = math.min((tonumber(state[2]) or 1) * 2, tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat),
           'factor', string.format('%.6f', factor), 'paused', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.floor((tat - now) / 1000) + 1000))
return 1
"""


class Script:
    """A Lua script run by EVALSHA; loaded (SCRIPT LOAD) on first use and after NOSCRIPT."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, client: Any, key: str, *args: str | int) -> Any:
        try:
            return await client.evalsha(self.sha, 1, key, *args)
        except NoScriptError:
            await client.script_load(self.source)
            return await client.evalsha(self.sha, 1, key, *args)


ACQUIRE = Script(ACQUIRE_SCRIPT)
PAUSE = Script(PAUSE_SCRIPT)


def connect(
    url: str, *, timeout: float = 5.0, max_connections: int = 64
) -> aioredis.Redis:
    """A Redis client suited to limiters: RESP2, bounded timeouts, and a *blocking* pool.

    Pass it to any number of
    [`RedisRateLimiter`][douyin_async.pacing.redis_limiter.RedisRateLimiter] (one
    per app) and close it with ``await client.aclose()``. The pool makes callers wait for a free
    connection instead of failing when many tasks reserve at once (redis-py's default pool raises
    ``MaxConnectionsError``). RESP2 is explicit: redis-py 8 defaults to RESP3, which older
    servers lack.
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        url, protocol=2, max_connections=max_connections, timeout=timeout,
        socket_timeout=timeout, socket_connect_timeout=timeout,
    )
    return aioredis.Redis.from_pool(pool)


def describe(client: Any) -> str:
    """Where a Redis client points, without credentials."""
    kwargs: Mapping[str, Any] = (client.connection_pool.connection_kwargs
                                 if isinstance(client, aioredis.Redis) else {})
    if "path" in kwargs:
        return f"Redis at unix:{kwargs['path']}"
    if "host" in kwargs:
        return f"Redis at {kwargs['host']}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
    return "Redis"


def us(seconds: float) -> int:
    """Seconds as the whole microseconds the scripts take."""
    return round(seconds * US)


def now_arg(now: float | None) -> str:
    """The `now` argument of a script: empty for Redis's own clock."""
    return "" if now is None else str(us(now))


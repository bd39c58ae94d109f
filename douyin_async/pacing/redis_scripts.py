"""The Lua scripts of the Redis rate limiter, and how they are run (EVALSHA, reloaded after a
flush). The arithmetic they do is described in [`douyin_async.pacing.redis_limiter`][]; the pause
script mirrors the rule of `ratelimit.widen`.

The schedule is kept on the limiter's *shared clock*: Redis's `TIME` less the `skew` stored
in the limiter's hash. A step of Redis's clock is absorbed by the rebase script, which adds
the step to `skew` (once: it is keyed by the `epoch` the caller saw), so the shared clock
runs on without a jump and no slot is booked from two offsets into one window.
[`limiter_scripts`][douyin_async.pacing.redis_scripts.limiter_scripts] builds the scripts on
another time source (tests step a fake clock with it).

Beside the schedule, the hash keeps the *send turn*
([`douyin_async.pacing.redis_turn`][]): `holder` (the request between its slot and its
departure), `held` (since when) and `sent` (when the next departure is due), all on the
shared clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import attrs
import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

__all__ = [
    "ACQUIRE",
    "ACQUIRE_SCRIPT",
    "PAUSE",
    "PAUSE_SCRIPT",
    "REBASE",
    "REBASE_SCRIPT",
    "REDIS_TIME",
    "SCRIPTS",
    "SKEW_TTL_MS",
    "US",
    "LimiterScripts",
    "Script",
    "connect",
    "limiter_scripts",
    "describe",
    "now_arg",
    "us",
]

#: Microseconds per second: the scripts count in whole microseconds.
US = 1_000_000


#: The scripts' time source: Redis's own clock, ``{seconds, microseconds}``.
REDIS_TIME = "redis.call('TIME')"
#: A key whose shared clock was re-based lives at least this long (ms), idle or not: its
#: skew must outlive the processes' offsets to it, which do not expire.
SKEW_TTL_MS = 86_400_000


def _clock(time_source: str, now_arg: int | None) -> str:
    """Lua that sets ``clock`` (the shared clock, us: the time source less the stored skew),
    ``epoch`` (the current skew's name) and, with ``now_arg``, ``now``: ``ARGV[now_arg]``, the
    caller's reading of the shared clock, or ``clock`` when it is empty. ``state`` holds
    ``HMGET`` of the fields asked, then ``skew`` and ``epoch``."""
    now = "" if now_arg is None else f"""local now = clock
if ARGV[{now_arg}] ~= '' then now = tonumber(ARGV[{now_arg}]) end
"""
    return f"""local t = {time_source}
local raw = tonumber(t[1]) * 1000000 + tonumber(t[2])
local clock = raw - (tonumber(state[#state - 1]) or 0)
local epoch = state[#state] or '0'
local function expire(ms)
  if epoch ~= '0' then ms = math.max(ms, {SKEW_TTL_MS}) end
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', ms))
end
local function keep(ms)
  if redis.call('PTTL', KEYS[1]) < ms then expire(ms) end
end
""" + now


def _acquire(time_source: str) -> str:
    """Reserve a slot. KEYS[1]: the limiter hash. ARGV: spacing (us, at factor 1), max_wait
    (us), recovery (factor multiplier per reservation), now (us on the shared clock; empty:
    the clock itself), ahead and lag (us; empty: ``now`` is taken as it is). A ``now`` that
    is a caller's reading of the clock is refused (code 2) when more than ``ahead`` in front
    of it, and moved up to the clock when behind it by at most ``lag`` (the way there): so
    a step of the clock moves the schedule by at most ``lag``. Returns {code: 1 granted, 0
    queue too long, 2 ``now`` ahead; wait in us; the shared clock in us; the epoch; the
    ``now`` booked from}. Only a grant stores anything."""
    return ("local state = redis.call('HMGET', KEYS[1], 'tat', 'factor', 'skew', 'epoch')\n"
            + _clock(time_source, 4) + """if ARGV[5] ~= '' then
  if now > clock + tonumber(ARGV[5]) then
    return {2, 0, clock, epoch, now}
  end
  now = math.max(now, math.min(clock, now + tonumber(ARGV[6])))
end
local tat = tonumber(state[1]) or now
local factor = tonumber(state[2]) or 1
if tat < now then tat = now end
local wait = tat - now
if wait > tonumber(ARGV[2]) then
  return {0, wait, clock, epoch, now}
end
local new_tat = tat + math.floor(tonumber(ARGV[1]) * factor + 0.5)
if factor > 1 then
  factor = math.max(1, factor * tonumber(ARGV[3]))
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', new_tat),
           'factor', string.format('%.6f', factor))
expire(math.floor((new_tat - now) / 1000) + 1000)
return {1, wait, clock, epoch, now}
""")


def _pause(time_source: str) -> str:
    """Start a shared pause. KEYS[1]: the limiter hash. ARGV: pause (us), max_factor, now (us
    on the shared clock; empty: the clock). Pushes tat forward by the pause and doubles the
    spacing factor, unless a pause already started less than one pause ago: the rule of
    ``ratelimit.widen``, which the in-process limiter uses (both are tested on one table).
    Returns 1 when applied, else 0."""
    return ("local state = redis.call('HMGET', KEYS[1], 'tat', 'factor', 'paused', 'skew', "
            "'epoch')\n" + _clock(time_source, 3) + """local pause = tonumber(ARGV[1])
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
expire(math.floor((tat - now) / 1000) + 1000)
return 1
""")


def _rebase(time_source: str) -> str:
    """Absorb a step of the time source. KEYS[1]: the limiter hash. ARGV: the epoch the
    caller's clock reading belongs to, the step (us). When that epoch is still current, the
    step is added to the skew and a new epoch is named; otherwise another caller re-based
    already and nothing changes. Returns {the epoch, the shared clock in us}."""
    return ("local state = redis.call('HMGET', KEYS[1], 'skew', 'epoch')\n"
            + _clock(time_source, None) + """if epoch == ARGV[1] then
  local skew = (tonumber(state[1]) or 0) + tonumber(ARGV[2])
  epoch = string.format('%.0f', raw)
  redis.call('HSET', KEYS[1], 'skew', string.format('%.0f', skew), 'epoch', epoch)
  expire(0)
  clock = raw - skew
end
return {epoch, clock}
""")


def _turn(time_source: str) -> str:
    """Take the send turn. KEYS[1]: the limiter hash. ARGV: the caller's ticket, now (us on
    the shared clock; empty: the clock), spacing (us, at factor 1), max_hold (us), tolerance
    (us). The turn is free when nobody holds it and ``sent`` (when the next departure is
    due: one widened spacing after the last, or later) is at most ``tolerance`` away. A
    holder older than ``max_hold`` counts as a departure then, and the turn is taken from
    it. Returns {1 taken, or 0; us to wait before asking again}."""
    return ("local state = redis.call('HMGET', KEYS[1], 'factor', 'sent', 'holder', 'held', "
            "'skew', 'epoch')\n" + _clock(time_source, 2) + """local spacing =
  math.floor(tonumber(ARGV[3]) * (tonumber(state[1]) or 1) + 0.5)
local hold = tonumber(ARGV[4])
local due = tonumber(state[2])
local held = tonumber(state[4])
if state[3] and held then
  if now < held + hold then
    return {0, math.min(math.max(now - held, 1000), math.floor(spacing / 4))}
  end
  due = math.max(due or 0, held + hold) + spacing
  redis.call('HSET', KEYS[1], 'sent', string.format('%.0f', due))
end
if due and now < due - tonumber(ARGV[5]) then
  return {0, due - tonumber(ARGV[5]) - now}
end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'held', string.format('%.0f', now))
keep(math.floor(hold / 1000) + 1000)
return {1, 0}
""")


def _release(time_source: str) -> str:
    """End a turn or an unused slot. KEYS[1]: the limiter hash. ARGV: the caller's ticket,
    ``1`` when its request left now (empty: it did not), spacing (us, at factor 1), now (us
    on the shared clock; empty: the clock), ``1`` to give the slot back. The turn is freed
    if the ticket holds it; a departure makes the next one due a widened spacing later; a
    slot given back shortens the queue by one widened spacing (never to before ``now``).
    Returns 1."""
    return ("local state = redis.call('HMGET', KEYS[1], 'tat', 'factor', 'sent', 'holder', "
            "'skew', 'epoch')\n" + _clock(time_source, 4) + """if state[4] == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'holder')
end
local spacing = math.floor(tonumber(ARGV[3]) * (tonumber(state[2]) or 1) + 0.5)
if ARGV[2] ~= '' then
  local due = math.max(tonumber(state[3]) or 0, now) + spacing
  redis.call('HSET', KEYS[1], 'sent', string.format('%.0f', due))
  keep(math.floor((due - now) / 1000) + 1000)
end
local tat = tonumber(state[1])
if tat and ARGV[5] ~= '' and tat > now then
  redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', math.max(now, tat - spacing)))
end
return 1
""")


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


@attrs.frozen
class LimiterScripts:
    """The scripts of a limiter, on one time source."""

    acquire: Script
    pause: Script
    rebase: Script
    turn: Script
    release: Script


def limiter_scripts(time_source: str = REDIS_TIME) -> LimiterScripts:
    """The limiter's scripts reading the time from ``time_source`` (Lua giving
    ``{seconds, microseconds}``, as ``TIME`` does)."""
    return LimiterScripts(*(Script(make(time_source))
                            for make in (_acquire, _pause, _rebase, _turn, _release)))


#: The scripts on Redis's own clock.
SCRIPTS = limiter_scripts()
ACQUIRE, PAUSE, REBASE = SCRIPTS.acquire, SCRIPTS.pause, SCRIPTS.rebase
ACQUIRE_SCRIPT, PAUSE_SCRIPT, REBASE_SCRIPT = ACQUIRE.source, PAUSE.source, REBASE.source


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


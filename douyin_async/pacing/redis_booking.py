"""Booking slots on the shared clock of a Redis limiter, whatever Redis's own clock does.

The schedule kept in Redis is on the *shared clock*: Redis's `TIME` less a `skew` stored
beside it (see [`douyin_async.pacing.redis_scripts`][]). Each process reads the shared clock
on its own monotonic clock, through the offset a
[`RemoteClock`][douyin_async.pacing.remote_clock.RemoteClock] measures, and books with that
reading as `now` (moved up to the clock by the time the request took to reach it, at most
[`MAX_LAG`][douyin_async.pacing.redis_booking.MAX_LAG]), so a step of Redis's clock changes
no booking, or by no more than that. The answers still carry the shared
clock, and [`Booking`][douyin_async.pacing.redis_booking.Booking] checks each one:

- an answer of a new *epoch* (another process re-based the shared clock) is measured afresh;
- an answer that cannot be squared with the offset is a step of Redis's clock: the shared
  clock is re-based by it (the rebase script adds it to `skew` once, for the first process
  that reports it in an epoch) and the offset measured again.

A process that has measured nothing yet books on Redis's clock and learns the offset from the
answer. A reading more than [`MAX_AHEAD`][douyin_async.pacing.redis_booking.MAX_AHEAD] ahead
of the shared clock is refused by the script and measured again: an offset that wrong would
push the whole fleet's queue forward.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from .redis_scripts import US, LimiterScripts, Script, now_arg, us
from .remote_clock import RemoteClock

#: A reading of the shared clock further ahead of it than this (seconds) is refused.
MAX_AHEAD = 0.5
#: A reading behind the shared clock by at most this (seconds: the way to Redis, a wait for
#: a connection) is moved up to it, so a slot is never booked before it was asked for; a
#: forward step of Redis's clock moves the schedule by no more.
MAX_LAG = 1.0
#: Round trips one reservation may take when its readings keep being refused; the last one
#: books on Redis's clock.
_ATTEMPTS = 3

Run = Callable[..., Awaitable[Any]]


@attrs.frozen
class Reservation:
    """The answer of one reservation round trip.

    ``granted``: a slot was booked and falls due in ``wait`` seconds, at ``due`` on the
    event loop's clock. Otherwise nothing was booked: the queue is ``wait`` seconds long,
    more than ``max_wait``.
    """

    granted: bool
    wait: float
    due: float | None = None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Booking:
    """One process's view of a limiter's shared clock: its offset, the epoch it belongs to,
    and the scripts that book on it."""

    def __init__(self, scripts: LimiterScripts) -> None:
        self.scripts = scripts
        self.clock = RemoteClock()
        self.epoch = "0"
        #: Steps of Redis's clock noticed here (each re-based the shared clock, or found it
        #: re-based already).
        self.steps = 0

    def reading(self, now: float | None = None) -> float | None:
        """``now`` if given, else this process's reading of the shared clock (None before
        the first answer)."""
        if now is not None or self.clock.offset is None:
            return now
        return self.clock.remote(asyncio.get_running_loop().time())

    async def reserve(self, run: Run, spacing: int, max_wait: int, recovery: str,
                      now: float | None) -> Reservation:
        """Book one slot through ``run(script, *args)``; ``now`` (tests) replaces the clock."""
        loop = asyncio.get_running_loop()
        clock = self.clock
        for attempt in range(_ATTEMPTS):
            sent = loop.time()
            view = None
            if now is None and clock.offset is not None and attempt < _ATTEMPTS - 1:
                view = clock.remote(sent)
            reply = await run(self.scripts.acquire, spacing, max_wait, recovery,
                              now_arg(now if view is None else view),
                              *(("", "") if view is None else (us(MAX_AHEAD), us(MAX_LAG))))
            received = loop.time()
            code, wait = int(reply[0]), int(reply[1]) / US
            if now is not None:
                return Reservation(granted=code == 1, wait=wait)
            remote = int(reply[2]) / US
            await self._calibrate(run, sent, received, remote, _text(reply[3]))
            if code != 2:  # 2: the reading ran ahead of the shared clock; measured again
                due = clock.local(int(reply[4]) / US + wait)
                return Reservation(granted=code == 1, wait=wait, due=due)
        raise AssertionError("the last attempt books on Redis's clock")  # pragma: no cover

    async def _calibrate(self, run: Run, sent: float, received: float, remote: float,
                         epoch: str) -> None:
        clock = self.clock
        if epoch != self.epoch:
            self.epoch = epoch
            clock.reset(sent, received, remote)
            return
        step = clock.sample(sent, received, remote)
        if step is None:
            return
        self.steps += 1
        loop = asyncio.get_running_loop()
        sent = loop.time()
        rebase: Script = self.scripts.rebase
        reply = await run(rebase, self.epoch, us(step))
        self.epoch = _text(reply[0])
        clock.reset(sent, loop.time(), int(reply[1]) / US)


__all__ = ["MAX_AHEAD", "MAX_LAG", "Booking", "Reservation"]

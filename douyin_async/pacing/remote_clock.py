"""When a slot booked on another machine's clock falls due here, and when it is too late.

A shared limiter books slots on Redis's clock: "your slot falls due at T". The caller sleeps
until then and sends. Two things can go wrong on a busy machine: the reply is read late (the
event loop was busy), so a sleep of the answered `wait` ends late; and the sleep itself
ends late. A request sent late while the next one goes out on time lands closer to it than
the spacing allows, and the server's rolling second then counts one request too many.

[`RemoteClock`][douyin_async.pacing.remote_clock.RemoteClock] converts Redis's clock to the local
monotonic clock from the fastest round trip seen (the way NTP picks its samples: the
shortest exchange bounds the offset best), so the due time is known locally whatever the
reply's delay. [`too_late`][douyin_async.pacing.remote_clock.too_late] is the rule: a caller that
wakes
more than half the limiter's margin after its slot gives the slot up and books again. Half
the margin, because the margin is the whole slack of a rolling second (`rate + 1`
consecutive slots span `1 + margin` seconds) and the other half is left to the network.
Pure: the times are handed in.
"""

from __future__ import annotations

#: Samples after which the best one is replaced whatever its round trip (clocks drift).
_MAX_AGE = 256
#: The least lateness ever refused (seconds): below it, timer granularity, not load.
MIN_TOLERANCE = 0.002


class RemoteClock:
    """The offset between a remote clock and the local monotonic clock (pure)."""

    def __init__(self) -> None:
        self.offset: float | None = None
        self.best_rtt = float("inf")
        self._age = 0

    def sample(self, sent: float, received: float, remote: float) -> None:
        """Learn from one exchange: sent and received on the local clock, `remote` read by
        the other side in between."""
        rtt = max(0.0, received - sent)
        self._age += 1
        if self.offset is None or rtt <= self.best_rtt or self._age > _MAX_AGE:
            self.best_rtt, self._age = rtt, 0
            self.offset = remote - (sent + received) / 2

    def local(self, remote: float) -> float:
        """A remote time on the local clock."""
        assert self.offset is not None, "no exchange sampled yet"
        return remote - self.offset


def too_late(woke: float, due: float, margin: float) -> bool:
    """True when a caller that woke at `woke` for a slot due at `due` (both local seconds)
    must not send: it is later than half the limiter's `margin` (seconds of slack in a
    rolling second)."""
    return woke - due > max(margin / 2, MIN_TOLERANCE)


__all__ = ["MIN_TOLERANCE", "RemoteClock", "too_late"]

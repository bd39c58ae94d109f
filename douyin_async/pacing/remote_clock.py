"""When a slot booked on Redis's clock falls due here, and when it is too late. Pure.

[`RemoteClock`][douyin_async.pacing.remote_clock.RemoteClock] maps Redis's clock to the local
monotonic one from the fastest round trip seen (as NTP does), so a late-read reply does not
shift the due time. [`too_late`][douyin_async.pacing.remote_clock.too_late]: a caller waking
more than half the margin after its slot books again, since a late request lands too close to
the next one for the server's rolling second.
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

"""When a slot booked on Redis's clock falls due here, and when it is too late. Pure.

[`RemoteClock`][douyin_async.pacing.remote_clock.RemoteClock] maps Redis's clock to the local
monotonic one from the fastest round trip seen (as NTP does), so a late-read reply does not
shift the due time. [`too_late`][douyin_async.pacing.remote_clock.too_late]: a caller waking
more than half the margin after its slot books again, since a late request lands too close to
the next one for the server's rolling second.
Every exchange is also a check: a round trip whose interval misses the known offset by more
than its error means the remote clock stepped, and
[`sample`][douyin_async.pacing.remote_clock.RemoteClock.sample] answers the step instead of
learning from it.
"""

from __future__ import annotations

#: Samples after which the best one is replaced whatever its round trip (clocks drift).
_MAX_AGE = 256
#: The least lateness ever refused (seconds): below it, timer granularity, not load.
MIN_TOLERANCE = 0.002
#: The most two clocks drift apart without a step (NTP slews at most 500 ppm).
MAX_DRIFT = 500e-6
#: The least disagreement taken for a step (seconds): below it, noise.
STEP_FLOOR = 0.002


class RemoteClock:
    """The offset between a remote clock and the local monotonic clock (pure)."""

    def __init__(self) -> None:
        self.offset: float | None = None
        self.best_rtt = float("inf")
        self._age = 0
        self._at = 0.0  # when the best sample was taken (local)

    def reset(self, sent: float, received: float, remote: float) -> None:
        """Forget what was learnt: this exchange alone gives the offset."""
        self.best_rtt, self._age, self._at = max(0.0, received - sent), 0, sent
        self.offset = remote - (sent + received) / 2

    def sample(self, sent: float, received: float, remote: float) -> float | None:
        """Learn from one exchange: sent and received on the local clock, `remote` read by
        the other side in between. Answers None, or the step (seconds, remote minus
        expected) when the exchange cannot be squared with the known offset; a step is not
        learnt from."""
        if self.offset is None:
            self.reset(sent, received, remote)
            return None
        slack = self.best_rtt / 2 + STEP_FLOOR + MAX_DRIFT * max(0.0, sent - self._at)
        if remote - sent < self.offset - slack or remote - received > self.offset + slack:
            return remote - (sent + received) / 2 - self.offset
        self._age += 1
        if max(0.0, received - sent) <= self.best_rtt or self._age > _MAX_AGE:
            self.reset(sent, received, remote)
        return None

    def local(self, remote: float) -> float:
        """A remote time on the local clock."""
        assert self.offset is not None, "no exchange sampled yet"
        return remote - self.offset

    def remote(self, local: float) -> float:
        """A local time on the remote clock."""
        assert self.offset is not None, "no exchange sampled yet"
        return local + self.offset


def too_late(woke: float, due: float, margin: float) -> bool:
    """True when a caller that woke at `woke` for a slot due at `due` (both local seconds)
    must not send: it is later than half the limiter's `margin` (seconds of slack in a
    rolling second)."""
    return woke - due > max(margin / 2, MIN_TOLERANCE)


__all__ = ["MAX_DRIFT", "MIN_TOLERANCE", "STEP_FLOOR", "RemoteClock", "too_late"]

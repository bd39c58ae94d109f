"""When a slot booked on another machine's clock falls due here, and when it is too late.

A shared limiter books slots on Redis's clock: "your slot falls due at T". The caller sleeps
until then and sends. Two things can go wrong on a busy machine: the reply is read late (the
event loop was busy), so a sleep of the answered `wait` ends late; and the sleep itself
ends late. A request sent late while the next one goes out on time lands closer to it than
the spacing allows, and the server's rolling second then counts one request too many.

[`RemoteClock`][douyin_async.pacing.remote_clock.RemoteClock] converts Redis's clock to the local
monotonic clock from the fastest round trip seen (the way NTP picks its samples: the
shortest exchange bounds the offset best), so the due time is known locally whatever the
reply's delay. Every exchange is also a check: it bounds the offset to the interval its
round trip allows, and an interval that misses the known offset by more than the known
offset's own error (half its round trip, 2 ms, and 500 ppm of drift since) means the remote
clock *stepped* (an NTP step, a settime):
[`sample`][douyin_async.pacing.remote_clock.RemoteClock.sample] answers the step instead
of learning from it, and the limiter re-bases the shared clock.
[`too_late`][douyin_async.pacing.remote_clock.too_late] is the rule: a caller that wakes
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

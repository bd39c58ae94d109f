"""How fast the admission gate really turns, and when the last request left (pure; clock in).

The honest wait of a call is the grants ahead of it times the limiter's spacing, plus any
shared pause ([`AdmissionQueue`][douyin_async.webapp.admission.AdmissionQueue]).
[`GatePace`][douyin_async.webapp.pace.GatePace] adds only what the gate itself costs per grant
on this event loop (a hand-over, the wait for the previous request to leave), and it adds the
*median* of the recent back-to-back intervals, never one sample: one loop stall (a first
decode, a garbage collection) is not the pace, and a queue that went idle is not measured
across its idle time. A moving average of raw intervals was both: a single stall in the first
interval set the estimate for every later call, and refused them at once.

It also remembers when the last request left ([`sent`][douyin_async.webapp.pace.GatePace.sent]):
the next one may start only one spacing after it, not one spacing after the previous *slot*.
A slot taken just before the loop stalled would otherwise leave late, together with the next.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import deque


def loop_time() -> float:
    """The running loop's clock (what `asyncio.timeout` and `asyncio.sleep` use), or the
    monotonic clock outside a loop; the two are the same clock on asyncio's own loops."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


class GatePace:
    """The measured cost of a grant beyond the spacing, and the last departure (pure).

    ``window`` back-to-back intervals are kept; their median counts once ``min_samples`` are
    there. A sample is taken only between two grants of which the second holder was handed
    the gate by the first (calls were queued): any other gap is idle time, not pace.
    """

    def __init__(self, *, window: int = 15, min_samples: int = 5) -> None:
        self.samples: deque[float] = deque(maxlen=window)
        self.min_samples = min_samples
        #: The median of `samples` once there are `min_samples` (0: not yet), kept as they
        #: change: every estimate reads it.
        self.median = 0.0
        self.last_grant: float | None = None
        #: When the last request left (its body written), on the gate's clock.
        self.last_sent = float("-inf")

    def interval(self, spacing: float) -> float:
        """Seconds per grant: ``spacing``, or the median measured interval when longer."""
        return max(spacing, self.median)

    def granted(self, now: float, queued: bool) -> None:
        """A slot was granted at ``now``; ``queued``: calls wait behind it (back to back)."""
        if self.last_grant is not None:
            self.samples.append(now - self.last_grant)
            if len(self.samples) >= self.min_samples:
                self.median = statistics.median(self.samples)
        self.last_grant = now if queued else None

    def idle(self) -> None:
        """The gate went idle, or a holder left without a grant: the next interval is not
        back to back."""
        self.last_grant = None

    def sent(self, now: float) -> None:
        """A request left at ``now``."""
        self.last_sent = max(self.last_sent, now)

    def send_wait(self, now: float, spacing: float) -> float:
        """Seconds before the next request may start: one spacing after the last left."""
        return max(0.0, self.last_sent + spacing - now)


__all__ = ["GatePace", "loop_time"]

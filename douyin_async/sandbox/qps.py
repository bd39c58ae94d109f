"""The strict rolling QPS cap the data endpoints enforce per access token.

A request is refused (28003018) when the previous ``cap`` arrivals of its token all fell within
the last ``window`` seconds. Every arrival counts, refused ones included: a client that keeps
knocking while over the cap stays refused until it pauses for a whole window. Both data
endpoints share one count per token.
"""

from __future__ import annotations

import collections


class RollingCap:
    """Arrival times per key, at most ``cap`` of them inside any ``window``."""

    def __init__(self, cap: int | None, window: float = 1.0) -> None:
        self.cap = cap
        self.window = window
        self._arrivals: dict[str, collections.deque[float]] = {}

    def arrive(self, key: str, now: float) -> bool:
        """Record an arrival at ``now``; True when it is within the cap."""
        if self.cap is None:
            return True
        arrivals = self._arrivals.get(key)
        if arrivals is None:
            arrivals = self._arrivals[key] = collections.deque(maxlen=self.cap)
        allowed = len(arrivals) < self.cap or now - arrivals[0] >= self.window
        arrivals.append(now)
        return allowed

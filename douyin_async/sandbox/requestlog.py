"""The server-side request log: one entry per request, read by tests and benchmarks.

Entries are appended on arrival and completed when the answer is decided, so they are in
arrival order. Tokens are never stored: only the first 6 hex digits of their SHA-256.
"""

from __future__ import annotations

import bisect
import collections
import hashlib
import threading

import attrs

#: Endpoint names used in the log.
TASK_VIDEO = "task_video"
TALENT_MEDIA = "talent_media"
CLIENT_TOKEN = "client_token"
STABLE_CLIENT_TOKEN = "stable_client_token"
AUTH_TOKEN = "get_auth_token"
BILL_LINK = "bill_link"
AGENCY_BILL_LINK = "agency_bill_link"
BILL_FILE = "bill_file"
DATA_ENDPOINTS = (TASK_VIDEO, TALENT_MEDIA, BILL_LINK, AGENCY_BILL_LINK)

OK = "ok"
PENDING = "pending"
CANCELLED = "cancelled"


def fingerprint(token: str | None) -> str:
    """A short, stable, non-secret label for a token ("" when there is none)."""
    if not token:
        return ""
    return hashlib.sha256(token.encode()).hexdigest()[:6]


@attrs.define
class LogEntry:
    """One request.

    ``outcome`` is ``"ok"``, the error code as text (``"28003018"``), or for answers that are
    not envelopes the fault kind (``"bad_gateway"``, ``"reset"``, ``"cut_body"``);
    ``"pending"`` while undecided, ``"cancelled"`` when the client left first. ``fault`` names
    the injected fault, if any (``"slow"`` and ``"server_error"`` still end in an envelope).
    ``http_status`` is None when no status line was sent. On the file host (``bill_file``)
    ``byte_range`` is the ``(first, last)`` byte range answered (inclusive), and ``outcome`` is
    ``"ok"``, ``"expired"``, ``"bad_signature"``, ``"not_found"``, ``"unsatisfiable"``,
    ``"server_error"`` or ``"cut"``.
    """

    seq: int
    monotonic: float
    wall: float
    endpoint: str
    page: int | None = None
    page_size: int | None = None
    token: str = ""
    outcome: str = PENDING
    fault: str | None = None
    http_status: int | None = None
    byte_range: tuple[int, int] | None = None


class RequestLog:
    """Thread-safe append-only list of
    [`LogEntry`][douyin_async.sandbox.LogEntry] with counting helpers."""

    def __init__(self) -> None:
        self._entries: list[LogEntry] = []
        self._lock = threading.Lock()

    def add(self, monotonic: float, wall: float, endpoint: str, token: str | None) -> LogEntry:
        """Append a pending entry for a request that just arrived."""
        with self._lock:
            entry = LogEntry(len(self._entries), monotonic, wall, endpoint,
                             token=fingerprint(token))
            self._entries.append(entry)
        return entry

    def entries(self, endpoint: str | None = None, ok_only: bool = False) -> list[LogEntry]:
        """A snapshot of the entries, optionally of one endpoint or only the successful ones."""
        with self._lock:
            items = list(self._entries)
        return [e for e in items
                if (endpoint is None or e.endpoint == endpoint)
                and (not ok_only or e.outcome == OK)]

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def counts(self, endpoint: str | None = None) -> collections.Counter[str]:
        """How many requests ended in each outcome."""
        return collections.Counter(e.outcome for e in self.entries(endpoint))

    def fault_counts(self) -> collections.Counter[str]:
        """How many faults of each kind were injected."""
        return collections.Counter(e.fault for e in self.entries() if e.fault)

    def arrivals(self, endpoint: str | None = None, ok_only: bool = False) -> list[float]:
        """Arrival times (monotonic scale), ascending."""
        return sorted(e.monotonic for e in self.entries(endpoint, ok_only))

    def max_in_rolling_window(
        self, window: float = 1.0, endpoint: str | None = None, ok_only: bool = False
    ) -> int:
        """The most arrivals inside any half-open window ``[t, t + window)``."""
        return max_in_window(self.arrivals(endpoint, ok_only), window)

    def span(self, endpoint: str | None = None, ok_only: bool = False) -> float:
        """Seconds from the first to the last arrival (0 for fewer than two)."""
        times = self.arrivals(endpoint, ok_only)
        return times[-1] - times[0] if len(times) > 1 else 0.0

    def achieved_rate(self, endpoint: str | None = None, ok_only: bool = False) -> float:
        """Arrivals per second between the first and the last one (0 for fewer than two)."""
        times = self.arrivals(endpoint, ok_only)
        if len(times) < 2 or times[-1] == times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])


def max_in_window(times: list[float], window: float) -> int:
    """The most of ``times`` (ascending) inside any half-open window ``[t, t + window)``."""
    best = 0
    for i, start in enumerate(times):
        j = bisect.bisect_left(times, start + window, lo=i)
        best = max(best, j - i)
    return best

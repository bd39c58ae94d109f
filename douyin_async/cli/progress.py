"""Progress display: a live line on a terminal, periodic log lines otherwise, and a summary.

Counts come from the client's :class:`~douyin_async.stats.ClientStats` (requests, retries,
rate-limit answers) and from the pages written. Talent-media answers tell their page count, so
once every unit has answered its first page the remaining pages, and an ETA, are known; task
videos have no totals, so their ETA is estimated from the share of units finished (``~``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TextIO

from ..stats import ClientStats


def _clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else \
        f"{rest // 60:d}:{rest % 60:02d}"


class Progress:
    """Tracks a pull and reports it on ``stream`` (stderr)."""

    def __init__(
        self,
        stats: ClientStats,
        stream: TextIO,
        *,
        units_total: int,
        units_done: int = 0,
        rate_cap: float,
        live: bool,
        quiet: bool,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stats = stats
        self.stream = stream
        self.units_total = units_total
        self.units_done = units_done
        self.rate_cap = rate_cap
        self.live = live
        self.quiet = quiet
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.pages = 0
        self.records = 0
        self._page_counts: dict[str, int] = {}
        self._pages_seen: dict[str, int] = {}
        self._resumed_units = units_done
        self._line_shown = False

    def on_page(self, unit: str, page: int, records: int, done: bool,
                page_count: int | None) -> None:
        """Count a written page."""
        self.pages += 1
        self.records += records
        self._pages_seen[unit] = page
        if page_count is not None:
            self._page_counts[unit] = max(page_count, 1)
        if done:
            self.units_done += 1

    def eta(self) -> str:
        """Time left: exact-ish when all page totals are known, ``~`` from units otherwise."""
        elapsed = self.clock() - self.started
        open_units = self.units_total - self._resumed_units
        if self.pages and open_units and len(self._page_counts) >= open_units:
            left = sum(total - self._pages_seen.get(unit, 0)
                       for unit, total in self._page_counts.items())
            return _clock_text(left * elapsed / self.pages)
        finished = self.units_done - self._resumed_units
        if finished > 0 and open_units:
            return "~" + _clock_text(elapsed * (open_units - finished) / finished)
        return "?"

    def line(self) -> str:
        """The current state in one line."""
        elapsed = self.clock() - self.started
        rate = self.stats.requests / elapsed if elapsed > 0 else 0.0
        return (f"pages {self.pages:,} | records {self.records:,} | "
                f"{rate:.1f}/{self.rate_cap:g} req/s | retries {self.stats.retries} | "
                f"rate-limited {self.stats.rate_limited} | "
                f"units {self.units_done}/{self.units_total} | "
                f"elapsed {_clock_text(elapsed)} | ETA {self.eta()}")

    def show(self) -> None:
        """Print the current state (overwriting the live line on a terminal)."""
        if self.quiet:
            return
        if self.live:
            self.stream.write("\r\x1b[K" + self.line())
            self._line_shown = True
        else:
            self.stream.write("progress: " + self.line() + "\n")
        self.stream.flush()

    async def run(self) -> None:
        """Show the state periodically until cancelled."""
        period = 0.5 if self.live else self.interval
        while True:
            await asyncio.sleep(period)
            self.show()

    def clear(self) -> None:
        """End the live line so the next message starts on a fresh line."""
        if self._line_shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._line_shown = False

    def summary(self) -> str:
        """The final line: records, pages, requests, request rate, retries and wall time."""
        elapsed = self.clock() - self.started
        rate = self.stats.requests / elapsed if elapsed > 0 else 0.0
        resumed = f", {self._resumed_units} units already done" if self._resumed_units else ""
        return (f"done: {self.records:,} records, {self.pages:,} pages, "
                f"{self.stats.requests:,} requests ({rate:.1f} req/s), "
                f"{self.stats.retries} retries, {self.stats.rate_limited} rate-limited, "
                f"{self.units_done}/{self.units_total} units{resumed}, "
                f"wall {elapsed:.1f} s")

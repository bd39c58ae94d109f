"""What ``douyin-async sync`` shows as it goes: a line per day loaded (days done, records,
rate, time left), a live status line on a terminal, and the plan of a ``--dry-run``."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import TextIO

from ...sync import SyncPlan, SyncReport
from ...sync.runner import SyncRun

#: Seconds between two updates of the live line.
INTERVAL = 0.5


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class SyncLines:
    """Progress of one run: `days_total` days to load into `table`."""

    def __init__(self, stream: TextIO, table: str, *, live: bool, quiet: bool,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.stream, self.table, self.live, self.quiet = stream, table, live, quiet
        self.monotonic = monotonic
        self.started = monotonic()
        self.days_total = 0
        self.days_done = 0
        self.records = 0
        self._shown = False

    def on_start(self, days: int) -> None:
        self.days_total = days

    def on_records(self, count: int) -> None:
        self.records += count

    def on_day(self, day: dt.date, records: int) -> None:
        self.days_done += 1
        if not self.quiet:
            self._clear()
            self.stream.write(f"{self.table}: {day} loaded ({records:,} records); "
                              f"{self.status()}\n")
            self.stream.flush()

    def status(self) -> str:
        """Days done, records, rate and time left."""
        elapsed = max(self.monotonic() - self.started, 1e-9)
        total = f"/{self.days_total}" if self.days_total else ""
        text = (f"{self.days_done}{total} days, {self.records:,} records, "
                f"{self.records / elapsed:,.0f} records/s")
        if self.days_done and self.days_total > self.days_done:
            left = elapsed / self.days_done * (self.days_total - self.days_done)
            text += f", about {_clock(left)} left"
        return text

    def _clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self._shown = False

    async def run(self) -> None:
        """Redraw the live line until cancelled (on a terminal only)."""
        if not self.live or self.quiet:
            return
        while True:
            await asyncio.sleep(INTERVAL)
            self.stream.write(f"\r\x1b[K{self.table}: {self.status()}")
            self.stream.flush()
            self._shown = True

    def done(self, report: SyncReport, shown: str) -> None:
        """The last line: what the run did."""
        self._clear()
        if self.quiet:
            return
        if report.nothing is not None:
            self.stream.write(f"{report.nothing}; nothing changed in {shown}\n")
            return
        days = sorted(report.days)
        span = f"{days[0]}" if len(days) == 1 else f"{days[0]} .. {days[-1]}"
        elapsed = self.monotonic() - self.started
        self.stream.write(f"done: {len(days)} day(s) of {self.table} ({span}), "
                          f"{report.records:,} records, loaded into {shown} in "
                          f"{_clock(elapsed)}\n")


def _days_text(days: tuple[dt.date, ...] | list[dt.date]) -> str:
    if len(days) <= 6:
        return ", ".join(map(str, days))
    return f"{days[0]} .. {days[-1]} ({len(days)} days)"


def plan_lines(run: SyncRun, plan: SyncPlan, page_size: int | None) -> list[str]:
    """What a ``--dry-run`` prints: the state, the days, the requests at least."""
    shown = run.destination.shown
    lines = [f"sync {plan.table} into {shown}"]
    state = plan.state
    if plan.reset:
        lines.append("--force: every row and loaded day of the table would be removed first")
    elif state is None or not state.days:
        lines.append("no day loaded yet")
    else:
        lines.append(f"{len(state.days)} day(s) loaded, the last {max(state.days)}")
    if not run.source.dated:
        requests = run.source.requests(run.client, None, run.clock())
        lines.append("would load the server's current data date (talent media has one "
                     f"snapshot); at least {requests} request(s), one per talent")
        return lines
    if not plan.days:
        lines.append("nothing new: nothing would be loaded")
        return lines
    if plan.plan.new:
        lines.append(f"would load {len(plan.plan.new)} new day(s): {_days_text(plan.plan.new)}")
    if plan.plan.again:
        lines.append(f"would load again, replacing them: {_days_text(plan.plan.again)}")
    requests = sum(run.source.requests(run.client, d, run.clock()) for d in plan.days)
    more = (f"; more when a publish window holds over {page_size:,} videos"
            if page_size else "; plus one download per bill file")
    lines.append(f"requests: at least {requests:,}{more}")
    return lines


__all__ = ["SyncLines", "plan_lines"]

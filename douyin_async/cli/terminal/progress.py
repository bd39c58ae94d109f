"""Progress display: live lines on a terminal, periodic log lines otherwise, and a summary.

Counts come from the client's [`ClientStats`][douyin_async.stats.ClientStats] (requests, retries,
rate-limit answers) and from the pages written. Talent-media answers tell their page count, so
once every unit has answered its first page the remaining pages, and an ETA, are known; task
videos have no totals, so their ETA is estimated from the share of units finished (``~``).

On a terminal the display is drawn in place by rich, fitted to the terminal's width
([`ProgressView`][douyin_async.cli.terminal.progress_view.ProgressView]); elsewhere a plain line is
written every ``interval`` seconds. A pull for many apps shows the totals of all its clients,
each app's request rate (on a line of its own on a terminal), and a summary line per app
before the final one. With ``--log-format json`` the lines are log records of
``douyin_async.cli`` with their figures as fields.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from ...stats import ClientStats
from ..dryrun import plural
from .logs import CLI_LOGGER

if TYPE_CHECKING:
    from rich.console import Console

    from .progress_view import LiveDisplay, ProgressView

log = logging.getLogger(CLI_LOGGER)


def _clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else \
        f"{rest // 60:d}:{rest % 60:02d}"


#: Apps shown by name in the progress line; more are shown as a range of rates.
NAMED_APPS = 4


class Totals:
    """The counters of several clients added up (read like one
    [`ClientStats`][douyin_async.stats.ClientStats])."""

    def __init__(self, parts: Sequence[ClientStats]) -> None:
        self.parts = list(parts)

    @property
    def requests(self) -> int:
        """Requests sent."""
        return sum(part.requests for part in self.parts)

    @property
    def retries(self) -> int:
        """Retries."""
        return sum(part.retries for part in self.parts)

    @property
    def rate_limited(self) -> int:
        """Rate-limit answers."""
        return sum(part.rate_limited for part in self.parts)


class _AppCount:
    def __init__(self, stats: ClientStats) -> None:
        self.stats = stats
        self.pages = 0
        self.records = 0
        self.finished: float | None = None


@attrs.define(slots=False, eq=False)
class Progress:
    """Tracks a pull and reports it on ``stream`` (stderr).

    ``apps`` (a pull of many apps) maps each app's name to its client's counters; ``stats``
    is then their [`Totals`][douyin_async.cli.terminal.progress.Totals] and ``rate_cap`` the sum of
    the apps' rates. ``out`` names the output in the summary (``-``: standard output);
    ``json`` makes every line a log record instead. ``live`` draws on ``console`` (by
    default a rich console on ``stream``).
    """

    stats: ClientStats | Totals
    stream: TextIO
    units_total: int = attrs.field(kw_only=True)
    rate_cap: float = attrs.field(kw_only=True)
    live: bool = attrs.field(kw_only=True)
    quiet: bool = attrs.field(kw_only=True)
    units_done: int = attrs.field(default=0, kw_only=True)
    interval: float = attrs.field(default=5.0, kw_only=True)
    clock: Callable[[], float] = attrs.field(default=time.monotonic, kw_only=True)
    apps: Mapping[str, ClientStats] | None = attrs.field(default=None, kw_only=True)
    out: str | None = attrs.field(default=None, kw_only=True)
    json: bool = attrs.field(default=False, kw_only=True)
    _console: Console | None = attrs.field(default=None, kw_only=True, alias="console")
    started: float = attrs.field(init=False)
    pages: int = attrs.field(init=False, default=0)
    records: int = attrs.field(init=False, default=0)
    #: Records quarantined (``--on-invalid-record quarantine``), earlier runs included.
    rejected: int = attrs.field(init=False, default=0)
    _page_counts: dict[str, int] = attrs.field(init=False, factory=dict)
    _pages_seen: dict[str, int] = attrs.field(init=False, factory=dict)
    _resumed_units: int = attrs.field(init=False, default=0)
    _display: LiveDisplay | None = attrs.field(init=False, default=None)
    _apps: dict[str, _AppCount] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        self.started = self.clock()
        self._resumed_units = self.units_done
        self._apps = {name: _AppCount(stats) for name, stats in (self.apps or {}).items()}

    def on_page(self, unit: str, page: int, records: int, done: bool,
                page_count: int | None, app: str | None = None) -> None:
        """Count a written page (of ``app``, in a pull of many apps)."""
        self.pages += 1
        self.records += records
        if app is not None:
            count = self._apps[app]
            count.pages += 1
            count.records += records
        self._pages_seen[unit] = page
        if log.isEnabledFor(logging.DEBUG):
            log.debug(f"page {page} of {unit}: {plural(records, 'record')}",
                      extra={"event": "page", "unit": unit, "page": page, "records": records,
                             "last": done, "app": app})
        if page_count is not None:
            self._page_counts[unit] = max(page_count, 1)
        if done:
            self.units_done += 1

    def app_done(self, app: str) -> None:
        """Note that every page of ``app`` has been fetched (its rate stops counting time)."""
        self._apps[app].finished = self.clock()

    def app_rate(self, app: str) -> float:
        """Requests per second of one app, over the time it was pulling."""
        count = self._apps[app]
        elapsed = (count.finished if count.finished is not None else self.clock()) - self.started
        return count.stats.requests / elapsed if elapsed > 0 else 0.0

    def _apps_text(self) -> str:
        rates = {name: self.app_rate(name) for name in self._apps}
        if len(rates) <= NAMED_APPS:
            each = ", ".join(f"{name[:16]} {rate:.1f}" for name, rate in rates.items())
        else:
            each = f"{min(rates.values()):.1f}..{max(rates.values()):.1f} each"
        return f" ({len(rates)} apps: {each})"

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
        apps = self._apps_text() if self._apps else ""
        refused = f" | refused {self.rejected:,}" if self.rejected else ""
        return (f"pages {self.pages:,} | records {self.records:,}{refused} | "
                f"{rate:.1f}/{self.rate_cap:g} req/s{apps} | retries {self.stats.retries} | "
                f"rate-limited {self.stats.rate_limited} | "
                f"units {self.units_done}/{self.units_total} | "
                f"elapsed {_clock_text(elapsed)} | ETA {self.eta()}")

    def figures(self) -> dict[str, Any]:
        """The counts behind the progress and summary lines."""
        elapsed = self.clock() - self.started
        return {"records": self.records, "pages": self.pages,
                "requests": self.stats.requests, "retries": self.stats.retries,
                "rate_limited": self.stats.rate_limited, "units_done": self.units_done,
                "units_total": self.units_total, "elapsed_s": round(elapsed, 3),
                "eta": self.eta(), "out": self.out, "refused": self.rejected}

    def fraction(self) -> float | None:
        """The share of the pull done: of its pages when every open unit told its page
        count, of its units otherwise (``None`` before anything is known)."""
        open_units = self.units_total - self._resumed_units
        if self.pages and open_units and len(self._page_counts) >= open_units:
            total = sum(self._page_counts.values())
            seen = sum(self._pages_seen.get(unit, 0) for unit in self._page_counts)
            return (self._resumed_units + open_units * seen / total) / self.units_total
        return self.units_done / self.units_total if self.units_total else None

    def view(self) -> ProgressView:
        """The live display of the current state (a rich renderable that fits any width)."""
        from .progress_view import AppFigures, Figures, ProgressView

        elapsed = self.clock() - self.started
        apps = tuple(AppFigures(name, count.records, count.pages, self.app_rate(name),
                                count.stats.retries, count.stats.rate_limited,
                                count.finished is not None)
                     for name, count in self._apps.items())
        return ProgressView(Figures(
            pages=self.pages, records=self.records, refused=self.rejected,
            rate=self.stats.requests / elapsed if elapsed > 0 else 0.0,
            rate_cap=self.rate_cap, retries=self.stats.retries,
            rate_limited=self.stats.rate_limited, units_done=self.units_done,
            units_total=self.units_total, elapsed=_clock_text(elapsed), eta=self.eta(),
            fraction=self.fraction(), apps=apps))

    def show(self) -> None:
        """Print the current state (redrawing the live display on a terminal)."""
        if self.quiet:
            return
        if self.json:
            log.info("progress", extra={"event": "progress", **self.figures()})
            return
        if self.live:
            if self._display is None:
                self._start_display()
            else:
                self._display.refresh()
            return
        self.stream.write("progress: " + self.line() + "\n")
        self.stream.flush()

    def _start_display(self) -> None:
        from rich.console import Console

        from .progress_view import LiveDisplay

        console = self._console or Console(file=self.stream, force_terminal=True,
                                           highlight=False)
        self._display = LiveDisplay(console, self.stream, self.view)
        self._display.start()

    async def run(self) -> None:
        """Show the state periodically until cancelled (on a terminal from the start)."""
        period = 0.5 if self.live and not self.json else self.interval
        resumed = (f", {plural(self._resumed_units, 'unit')} already done"
                   if self._resumed_units else "")
        log.info(f"pulling {plural(self.units_total, 'unit')}{resumed}"
                 + (f" into {self.out}" if self.out not in (None, "-") else ""),
                 extra={"event": "start", "units_total": self.units_total,
                        "units_done": self.units_done, "out": self.out,
                        "apps": sorted(self._apps) or None})
        if self.live and not self.json:
            self.show()
        while True:
            await asyncio.sleep(period)
            self.show()

    def clear(self) -> None:
        """Remove the live display so the next message starts on a fresh line."""
        if self._display is not None:
            self._display.stop()
            self._display = None

    def app_lines(self) -> list[str]:
        """One summary line per app (none for a pull of one app)."""
        return [f"app {name}: {plural(count.records, 'record')}, "
                f"{plural(count.pages, 'page')}, {plural(count.stats.requests, 'request')} "
                f"({self.app_rate(name):.1f} req/s), "
                f"{plural(count.stats.retries, 'retry', 'retries')}, "
                f"{count.stats.rate_limited} rate-limited"
                for name, count in self._apps.items()]

    def summary(self) -> str:
        """The final line: records, pages, requests, request rate, retries and wall time."""
        elapsed = self.clock() - self.started
        rate = self.stats.requests / elapsed if elapsed > 0 else 0.0
        resumed = (f", {plural(self._resumed_units, 'unit')} already done"
                   if self._resumed_units else "")
        apps = f", {plural(len(self._apps), 'app')}" if self._apps else ""
        where = "" if self.out is None else \
            " to standard output" if self.out == "-" else f" into {self.out}"
        units = "unit" if self.units_total == 1 else "units"
        refused = f", {self.rejected:,} refused (quarantined)" if self.rejected else ""
        return (f"done: {plural(self.records, 'record')}{refused}{where}, "
                f"{plural(self.pages, 'page')}, "
                f"{plural(self.stats.requests, 'request')} ({rate:.1f} req/s), "
                f"{plural(self.stats.retries, 'retry', 'retries')}, "
                f"{self.stats.rate_limited} rate-limited, "
                f"{self.units_done}/{self.units_total} {units}{resumed}{apps}, "
                f"wall {elapsed:.1f} s")

    def report(self, stream: TextIO) -> None:
        """Write the summary lines (one per app, then the final one), or log them as JSON."""
        if self.quiet:
            return
        if self.json:
            for name, count in self._apps.items():
                log.info(f"app {name} done", extra={
                    "event": "app_done", "app": name, "records": count.records,
                    "pages": count.pages, "requests": count.stats.requests})
            log.info(self.summary(), extra={"event": "done", **self.figures()})
            return
        for line in self.app_lines():
            stream.write(line + "\n")
        stream.write(self.summary() + "\n")
        stream.flush()

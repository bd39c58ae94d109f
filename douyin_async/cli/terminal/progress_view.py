"""The live progress display of a pull on a terminal: rich lines fitted to the width.

[`Progress`][douyin_async.cli.terminal.progress.Progress] hands its counts over as
[`Figures`][douyin_async.cli.terminal.progress_view.Figures];
[`ProgressView`][douyin_async.cli.terminal.progress_view.ProgressView] draws them as one line of
totals (and, for a few apps, one line per app), never wider than the terminal: the least
important figures are shortened, then dropped, until the line fits, and the room left holds a
bar. The ETA and the request rate go last.
[`LiveDisplay`][douyin_async.cli.terminal.progress_view.LiveDisplay] redraws the view in place and
prints the command's log records above it meanwhile.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

import attrs
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.live import Live
from rich.text import Text

#: Between the figures of a line.
SEPARATOR = " · "
#: Apps drawn on a line each (terminal height permitting); more are one range of rates.
APP_LINES = 8
#: Cells of an app's name at most.
NAME_CELLS = 16
#: Cells of the bar at most, and at least (less room: no bar).
BAR_CELLS = (10, 40)


@attrs.frozen
class Field:
    """One figure of a line: its text, a shorter text for narrow terminals, and its rank
    (0 goes last when the line is too wide)."""

    full: str
    rank: int
    short: str | None = None
    style: str = ""

    def text(self, short: bool) -> str:
        """The text of the figure, short or full."""
        return self.short if short and self.short is not None else self.full


def choose(rows: Sequence[Sequence[Field]], width: int) -> list[tuple[int, bool]]:
    """The columns of ``rows`` (figures of equal meaning) that fit in ``width`` cells, with
    whether each is shortened: the least important column is shortened, then dropped, before
    the next one is touched (one column is always kept)."""
    if not rows:
        return []
    count = len(rows[0])
    full = [max(cell_len(row[c].text(False)) for row in rows) for c in range(count)]
    short = [max(cell_len(row[c].text(True)) for row in rows) for c in range(count)]
    rank = [min(row[c].rank for row in rows) for c in range(count)]
    shown = {c: False for c in range(count) if full[c]}  # an empty column is not drawn

    def used() -> int:
        return (sum(short[c] if s else full[c] for c, s in shown.items())
                + len(SEPARATOR) * (len(shown) - 1))

    for column in sorted(shown, key=lambda c: (-rank[c], -c)):
        if short[column] < full[column] and used() > width:
            shown[column] = True
        if used() <= width or len(shown) == 1:
            break
        del shown[column]
    return sorted(shown.items())


def _cell(field: Field, short: bool, cells: int) -> Text:
    text = Text(field.text(short), style=field.style)
    text.truncate(cells, overflow="ellipsis", pad=True)
    return text


def draw(rows: Sequence[Sequence[Field]], width: int) -> list[Text]:
    """``rows`` as lines of at most ``width`` cells, their columns aligned."""
    columns = choose(rows, width)
    cells = {c: max(cell_len(row[c].text(s)) for row in rows) for c, s in columns}
    lines = []
    for row in rows:
        line = Text()
        for index, (column, short) in enumerate(columns):
            empty = not row[column].full
            if index:
                line.append(" " * len(SEPARATOR) if empty else SEPARATOR, style="dim")
            line.append_text(_cell(row[column], short, cells[column]))
        line.rstrip()
        line.truncate(width, overflow="ellipsis")
        lines.append(line)
    return lines


def bar(fraction: float, cells: int) -> Text:
    """A bar of ``cells`` cells, filled to ``fraction``, and the percentage."""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = round(fraction * cells)
    return Text.assemble(("━" * filled, "bar.complete"), ("━" * (cells - filled), "bar.back"),
                         f" {fraction:4.0%}")


@attrs.frozen
class AppFigures:
    """One app's counts in a pull of many apps."""

    name: str
    records: int
    pages: int
    rate: float
    retries: int
    rate_limited: int
    finished: bool


@attrs.frozen
class Figures:
    """What the display shows: the counts of the pull, its rate against the cap, the
    share done (``None`` while unknown), elapsed time and ETA as text, and the apps."""

    pages: int
    records: int
    refused: int
    rate: float
    rate_cap: float
    retries: int
    rate_limited: int
    units_done: int
    units_total: int
    elapsed: str
    eta: str
    fraction: float | None = None
    apps: tuple[AppFigures, ...] = ()


def _trouble(retries: int, rate_limited: int, low: int) -> list[Field]:
    """Retries and rate-limit answers: unimportant while none, important once some."""
    return [Field(f"retries {retries:,}", 3 if retries else low, f"retry {retries:,}",
                  "yellow" if retries else ""),
            Field(f"rate-limited {rate_limited:,}", 3 if rate_limited else low + 1,
                  f"limited {rate_limited:,}", "yellow" if rate_limited else "")]


def total_fields(f: Figures, apps_in_line: bool) -> list[Field]:
    """The figures of the totals line, in the order drawn."""
    fields = [Field(f"pages {f.pages:,}", 5, f"{f.pages:,} pg"),
              Field(f"records {f.records:,}", 2, f"{f.records:,} rec", "bold")]
    if f.refused:
        fields.append(Field(f"refused {f.refused:,}", 3, f"{f.refused:,} ref", "red"))
    fields.append(Field(f"{f.rate:.1f}/{f.rate_cap:g} req/s", 1, f"{f.rate:.1f} req/s", "green"))
    if apps_in_line and len(f.apps) == 1:
        fields.append(Field(f"app {f.apps[0].name}", 6))
    elif apps_in_line:
        rates = [app.rate for app in f.apps]
        fields.append(Field(f"{len(rates)} apps {min(rates):.1f}..{max(rates):.1f} each", 6,
                            f"{len(rates)} apps"))
    fields += _trouble(f.retries, f.rate_limited, 7)
    fields += [Field(f"units {f.units_done:,}/{f.units_total:,}", 4,
                     f"{f.units_done:,}/{f.units_total:,} u"),
               Field(f"elapsed {f.elapsed}", 6, style="dim"),
               Field(f"ETA {f.eta}", 0, style="bold cyan")]
    return fields


def app_fields(app: AppFigures) -> list[Field]:
    """The figures of one app's line, in the order drawn."""
    name = Text(app.name)  # names are printable (checked when the apps file is read)
    name.truncate(NAME_CELLS, overflow="ellipsis")
    return [Field("  " + name.plain, 0, style="bold"),
            Field(f"records {app.records:,}", 2, f"{app.records:,} rec"),
            Field(f"pages {app.pages:,}", 5, f"{app.pages:,} pg"),
            Field(f"{app.rate:.1f} req/s", 1, style="green"),
            *_trouble(app.retries, app.rate_limited, 6),
            Field("done" if app.finished else "", 1, style="green")]


class ProgressView:
    """The display of [`Figures`][douyin_async.cli.terminal.progress_view.Figures]: a rich
    renderable
    fitted to the width it is drawn in."""

    def __init__(self, figures: Figures) -> None:
        self.figures = figures

    def lines(self, width: int, height: int) -> list[Text]:
        """The lines for a terminal of ``width`` columns and ``height`` rows."""
        f = self.figures
        per_app = 1 < len(f.apps) <= min(APP_LINES, height - 2)
        (line,) = draw([total_fields(f, bool(f.apps) and not per_app)], width)
        room = width - line.cell_len - len(SEPARATOR) - 5
        if f.fraction is not None and room >= BAR_CELLS[0]:
            line = Text.assemble(bar(f.fraction, min(room, BAR_CELLS[1])),
                                 (SEPARATOR, "dim"), line)
        lines = [line]
        if per_app:
            lines += draw([app_fields(app) for app in f.apps], width)
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width, options.height or console.size.height):
            line.no_wrap = True
            line.overflow = "ellipsis"
            yield line


class Above(io.TextIOBase):
    """A text stream whose lines print above a live display on ``console``, each whole (the
    terminal wraps a long one, so it copies as one line)."""

    def __init__(self, console: Console, stream: TextIO) -> None:
        self.console = console
        self.stream = stream
        self._partial = ""

    def write(self, text: str) -> int:
        """Print the lines ``text`` completes; keep the rest for the next write."""
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self.console.out(line, highlight=False)
        return len(text)

    def flush(self) -> None:
        """Print a line left unfinished."""
        if self._partial:
            self.console.out(self._partial, highlight=False)
            self._partial = ""

    def isatty(self) -> bool:
        """As the stream below."""
        return self.stream.isatty()

    def fileno(self) -> int:
        """The stream below's."""
        return self.stream.fileno()


class LiveDisplay:
    """What ``render`` returns, redrawn in place on ``console`` (rich's ``Live``) until
    stopped, which removes it. Meanwhile the log records of ``douyin_async`` bound for the
    same stream, and anything written to ``sys.stderr`` when that is the stream, print above
    it (a line of their own each, the display drawn again below)."""

    def __init__(self, console: Console, stream: TextIO,
                 render: Callable[[], RenderableType]) -> None:
        self.console = console
        self.stream = stream
        self.live = Live(console=console, get_renderable=render, auto_refresh=False,
                         transient=True, redirect_stdout=False, redirect_stderr=False)
        self._handlers: list[tuple[logging.StreamHandler[TextIO], TextIO]] = []
        self._above = Above(console, stream)

    def start(self) -> None:
        """Draw the view for the first time; log records go above it from now on."""
        self.live.start(refresh=True)
        for handler in logging.getLogger("douyin_async").handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is self.stream:
                self._handlers.append((handler, handler.stream))
                handler.setStream(self._above)
        if sys.stderr is self.stream:
            sys.stderr = self._above

    def refresh(self) -> None:
        """Draw the view again with the current figures."""
        self.live.refresh()

    def stop(self) -> None:
        """Remove the view; log records go to the stream directly again."""
        self._above.flush()
        if sys.stderr is self._above:
            sys.stderr = self.stream
        for handler, stream in self._handlers:
            handler.setStream(stream)
        self._handlers.clear()
        self.live.stop()

"""The progress display: fitted to the terminal's width, drawn in place, plain lines elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import io
import logging
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from douyin_async.cli.terminal.progress import Progress, Totals
from douyin_async.cli.terminal.progress_view import Field, choose
from douyin_async.stats import ClientStats

WIDTHS = (40, 80, 200)
#: Escape sequences (CSI and private modes) and the carriage returns and newlines between them.
CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def fragments(raw: str) -> list[str]:
    """What a terminal shows between carriage returns and newlines, escapes removed: each
    fragment is drawn from the left edge, so one wider than the terminal wraps."""
    return [part for part in re.split(r"[\r\n]", CSI.sub("", raw)) if part.strip()]


def console(width: int) -> Console:
    return Console(file=io.StringIO(), width=width, height=25, force_terminal=True)


def rendered(progress: Progress, width: int) -> list[str]:
    screen = console(width)
    screen.print(progress.view())
    assert isinstance(screen.file, io.StringIO)
    return Text.from_ansi(screen.file.getvalue()).plain.splitlines()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def media_pull(clock: Clock, records: int = 250, units: int = 4) -> Progress:
    """A talent-media pull whose page counts are known: half its pages are written."""
    stats = ClientStats(requests=40, retries=1)
    progress = Progress(stats, io.StringIO(), units_total=units, rate_cap=10, live=True,
                        quiet=False, clock=clock)
    clock.now = 4.0
    for unit in range(units):
        progress.on_page(f"u{unit}", 1, records, False, 2)
    return progress


def apps_pull(clock: Clock, names: list[str], live: bool = True,
              stream: io.StringIO | None = None) -> Progress:
    apps = {name: ClientStats(requests=10 * (i + 1), rate_limited=i % 2)
            for i, name in enumerate(names)}
    progress = Progress(Totals(list(apps.values())), stream or io.StringIO(),
                        units_total=2 * len(names), rate_cap=10 * len(names), live=live,
                        quiet=False, clock=clock, apps=apps)
    clock.now = 5.0
    for name in names:
        progress.on_page(f"{name}-1", 1, 1_000, True, None, name)
    progress.app_done(names[0])
    clock.now = 10.0
    return progress


PULLS: dict[str, Callable[[Clock], Progress]] = {
    "one app": media_pull,
    "huge counts": lambda clock: media_pull(clock, records=123_456_789, units=1_000),
    "refused records": lambda clock: _refused(media_pull(clock)),
    "three apps": lambda clock: apps_pull(clock, ["shop-a", "shop-b", "店铺丙-很长的名字-第三家"]),
    "one named app": lambda clock: apps_pull(clock, ["shop-a"]),
    "twelve apps": lambda clock: apps_pull(clock, [f"app-{i:02d}" for i in range(12)]),
}


def _refused(progress: Progress) -> Progress:
    progress.rejected = 3
    return progress


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("pull", sorted(PULLS))
def test_every_line_fits_the_width_and_keeps_rate_and_eta(pull: str, width: int) -> None:
    progress = PULLS[pull](Clock())
    lines = rendered(progress, width)
    assert lines and all(cell_len(line) <= width for line in lines), lines
    assert "ETA " in lines[0] and " req/s" in lines[0], lines
    if width >= 80 or pull != "huge counts":
        assert f"{progress.records:,}" in lines[0]
    if width == 200 and pull != "twelve apps":
        assert "retries" in lines[0] and "rate-limited" in lines[0] and "elapsed" in lines[0]


def test_the_known_share_is_a_bar_where_there_is_room() -> None:
    progress = media_pull(Clock())
    assert progress.fraction() == 0.5
    assert "ETA 0:04" in rendered(progress, 80)[0]  # 4 pages left at one page per second
    wide = rendered(progress, 200)[0]
    assert wide.startswith("━") and " 50% · pages 4 · records 1,000 · 10.0/10 req/s" in wide
    assert "━" not in rendered(progress, 40)[0]


def test_few_apps_get_a_line_each_many_a_range() -> None:
    three = rendered(apps_pull(Clock(), ["shop-a", "shop-b", "商家-长名字的店铺名称很长很长"]), 80)
    assert len(three) == 4
    assert [line.split()[0] for line in three[1:]] == ["shop-a", "shop-b", "商家-长名字的店…"]
    assert three[1].endswith("done") and not three[2].endswith("done")
    columns = {cell_len(line[:line.index("req/s")]) for line in three[1:]}
    assert len(columns) == 1  # the columns line up, in cells
    many = rendered(apps_pull(Clock(), [f"app-{i:02d}" for i in range(12)]), 200)
    assert len(many) == 1 and "12 apps 2.0..12.0 each" in many[0]


def test_less_important_figures_are_shortened_then_dropped() -> None:
    fields = [Field("pages 12", 5, "12 pg"), Field("records 1,000", 2, "1,000 rec"),
              Field("retries 0", 7), Field("ETA 0:04", 0)]
    assert choose([fields], 200) == [(0, False), (1, False), (2, False), (3, False)]
    assert choose([fields], 40) == [(0, False), (1, False), (3, False)]
    assert choose([fields], 34) == [(0, True), (1, False), (3, False)]
    assert choose([fields], 20) == [(1, True), (3, False)]
    assert choose([fields], 1) == [(3, False)]  # the most important figure stays


def test_live_display_redraws_in_place_and_goes_away() -> None:
    clock = Clock()
    screen = console(80)
    progress = Progress(ClientStats(requests=9), screen.file, units_total=3, rate_cap=10,
                        live=True, quiet=False, clock=clock, console=screen)
    for step in range(1, 4):
        clock.now = float(step)
        progress.on_page(f"u{step}", 1, 100, True, None)
        progress.show()
    progress.clear()
    progress.report(screen.file)
    assert isinstance(screen.file, io.StringIO)
    raw = screen.file.getvalue()
    seen = fragments(raw)
    assert all(cell_len(part) <= 80 for part in seen[:-1]), seen
    assert [part for part in seen if "units 3/3" in part and "ETA ~0:00" in part]
    assert seen[-1].startswith("done: 300 records, 3 pages, 9 requests")
    assert raw.count("\x1b[2K") >= 3  # each redraw erases the line it draws over


def test_log_records_print_above_the_live_display(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = console(80)
    assert isinstance(screen.file, io.StringIO)
    monkeypatch.setattr(sys, "stderr", screen.file)
    handler = logging.StreamHandler(screen.file)
    logger = logging.getLogger("douyin_async")
    logger.addHandler(handler)
    long = "a warning of the pull, longer than the terminal is wide: " + "x" * 60
    try:
        progress = Progress(ClientStats(), screen.file, units_total=1, rate_cap=10,
                            live=True, quiet=False, clock=Clock(), console=screen)
        progress.show()
        logging.getLogger("douyin_async.cli").warning(long)
        print("written to stderr", file=sys.stderr)
        progress.show()
        progress.clear()
        assert handler.stream is screen.file and sys.stderr is screen.file  # given back
    finally:
        logger.removeHandler(handler)
    seen = fragments(screen.file.getvalue())
    assert long in seen and "written to stderr" in seen  # whole lines: the terminal wraps them
    assert seen.index(long) < seen.index("written to stderr") < len(seen) - 1
    assert "ETA ?" in seen[-1]  # the display, drawn again below them


async def test_plain_periodic_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = apps_pull(Clock(), ["shop-a", "shop-b"], live=False, stream=stream)
    progress.interval = 0.01
    ticker = asyncio.ensure_future(progress.run())
    for _ in range(1000):
        if stream.getvalue().count("\n") >= 3:
            break
        await asyncio.sleep(0.01)
    ticker.cancel()
    await asyncio.gather(ticker, return_exceptions=True)
    progress.clear()
    progress.report(stream)
    lines = stream.getvalue().splitlines(keepends=True)
    assert all(line.endswith("\n") for line in lines)
    text = stream.getvalue()
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", text)  # no control characters
    progress_lines = [line for line in lines if line.startswith("progress: ")]
    assert len(progress_lines) >= 3
    assert "| units 2/4 | elapsed 0:10 | ETA ~0:10" in progress_lines[-1]
    assert lines[-3].startswith("app shop-a: 1,000 records")
    assert lines[-1].startswith("done: 2,000 records, 2 pages, 30 requests (3.0 req/s)")


# -- a real pull on a terminal ----------------------------------------------------------------


def _pull_args(out: Path) -> list[str]:
    today = dt.datetime.now(dt.UTC).date()
    return ["pull", "task-videos", "--sandbox", "--sandbox-latency", "0.02",
            "--sandbox-qps", "100", "--rate-limit", "20", "--billing-date",
            f"{today - dt.timedelta(days=2)}..{today - dt.timedelta(days=1)}",
            "--published-from", str(today - dt.timedelta(days=4)),
            "--published-to", str(today - dt.timedelta(days=1)),
            "--page-size", "100", "--force", "--out", str(out)]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("douyin-async")
    return [str(script)] if script.exists() else [sys.executable, "-m", "douyin_async"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith("DOUYIN_") and k not in ("COLUMNS", "LINES")}


@pytest.mark.slow
def test_live_display_in_an_80_column_terminal(tmp_path: Path) -> None:
    import pty

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen([*_command(), *_pull_args(tmp_path / "v.jsonl")],
                               stdin=slave, stdout=subprocess.DEVNULL, stderr=slave, env=_env())
    os.close(slave)
    data = bytearray()
    try:
        with contextlib.suppress(OSError):  # the end of the pull closes the terminal
            while chunk := os.read(master, 4096):
                data += chunk
    finally:
        os.close(master)
        process.wait(timeout=60)
    text = data.decode()
    assert process.returncode == 0, text
    seen = fragments(text)
    assert seen[-1].startswith("done: ") and "req/s" in seen[-1]
    drawn = seen[:-1]
    assert [part for part in drawn if "req/s" in part and "ETA" in part], seen
    assert all(cell_len(part) <= 80 for part in drawn), [p for p in drawn if cell_len(p) > 80]


@pytest.fixture
def tmux() -> Iterator[Callable[..., str]]:
    """A tmux server of its own (killed afterwards); calls return the command's output."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    where = tempfile.mkdtemp(prefix="tmux-", dir="/tmp")  # a socket path must be short
    socket = os.path.join(where, "s")

    def run(*args: str) -> str:
        return subprocess.run(["tmux", "-S", socket, "-f", "/dev/null", *args], check=True,
                              capture_output=True, text=True, env=_env(), timeout=60).stdout

    try:
        yield run
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True, env=_env())
        shutil.rmtree(where, ignore_errors=True)


@pytest.mark.slow
def test_sandbox_pull_in_an_80_column_tmux_pane(tmux: Callable[..., str],
                                                tmp_path: Path) -> None:
    done = tmp_path / "exit"
    command = shlex.join([*_command(), *_pull_args(tmp_path / "v.jsonl")])
    tmux("new-session", "-d", "-s", "pull", "-x", "80", "-y", "24",  # killed by the fixture
         "sh", "-c", f"{command}; echo $? > {shlex.quote(str(done))}; exec sleep 120")
    frames = []
    for _ in range(1200):  # polled until the pull ends: no figure depends on the timing
        frames.append(tmux("capture-pane", "-p", "-J", "-t", "pull"))
        if done.exists():
            break
        time.sleep(0.05)
    assert done.read_text().strip() == "0"
    final = tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "pull")
    lines = [line.rstrip() for frame in frames for line in frame.splitlines()]
    shown = [line for line in lines if "ETA" in line]
    assert shown and all("req/s" in line and cell_len(line) <= 80 for line in shown), shown
    left = [line for line in final.splitlines() if line.strip()]
    assert len(left) == 1 and left[0].startswith("done: "), final  # nothing stale is left

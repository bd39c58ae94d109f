"""A FastAPI app under real HTTP load (``hey``), today's behaviour against the new one.

    python -m benchmarks.bench_webapp            # the full run (about 3 minutes)
    python -m benchmarks.bench_webapp --quick    # a short smoke run (docs untouched)

One sandbox (200 ms latency, the 10-per-rolling-second cap, request log) runs in a thread
of this process; each run starts a fresh ``benchmarks.webapp`` under uvicorn in a child
process (one shared client), loads it with ``hey`` (200 workers, each at most one view per
second) and reads the API requests off the sandbox's log. Runs:

- A: 200 viewers over 20 pages (Zipf), the documented 10 s deadline: old vs new (single
  flight + a 60 s cache).
- B: 200 viewers over 2,000 pages with a 2 s deadline: old (the handler's timeout only)
  vs new (``deadline=2``: refused at once with 503 + Retry-After when it cannot be met).
- C: B's viewers while a 100-page batch pull runs through the same client: old (one FIFO
  queue) vs new (the pull in the background lane).

Loopback only; every run is bounded in time (``hey -z``) and the pull is awaited at most
two minutes. Writes its section of ``docs/benchmarks.md`` and ``docs/bench_webapp.png``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from douyin_async.sandbox import SandboxConfig, SandboxData, ThreadedSandbox

from .common import DOCS, ROOT, Result, Row, fmt, max_in_window
from .webapp import PLAN, PULL_PAGE_SIZE, PULL_PAGES, VIEW_PAGE_SIZE
from .webapp_plot import plot

VIEWERS = 200
PER_VIEWER_QPS = 1
HEY_PROCESSES = 20
PLOT = "bench_webapp.png"
START, END = "<!-- bench_webapp: start -->", "<!-- bench_webapp: end -->"


@dataclass
class Run:
    """One load run: what hey saw, what the sandbox saw, what the client counted."""

    name: str
    mode: str
    deadline: float
    seconds: float
    views: list[tuple[float, int, float]]  # (latency s, HTTP status, offset s)
    log: list[Any]  # sandbox entries of the run
    stats: dict[str, Any]
    started: float
    pull: dict[str, Any] = field(default_factory=dict)
    refusals: list[float] = field(default_factory=list)  # call to 503 in the app, seconds

    def status(self, code: int) -> list[float]:
        return [rt for rt, st, _ in self.views if st == code]

    @property
    def span(self) -> float:
        """From the first view sent to the last one answered, seconds."""
        return max((o + rt for rt, _, o in self.views), default=self.seconds)

    @property
    def per_second(self) -> float:
        return len(self.status(200)) / self.span

    def in_window(self) -> list[Any]:
        """Sandbox entries while views were being answered."""
        end = self.started + self.span
        return [e for e in self.log if self.started <= e.monotonic < end]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, data: dict[str, Any] | None = None) -> Any:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


class App:
    """``benchmarks.webapp`` under uvicorn in a child process, on a free port."""

    def __init__(self, base_url: str, token: str, mode: str, deadline: float,
                 extra: tuple[str, ...] = (), library: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [sys.executable, "-m", "benchmarks.webapp", "--base-url", base_url,
                    "--token", token, "--mode", mode, "--deadline", str(deadline),
                    "--port", str(self.port), *extra]
        # ``library``: a directory holding another version of the package, run instead (from
        # there: the working directory comes first on the path).
        self.cwd = library or ROOT
        self.env = None if library is None else {**os.environ,
                                                 "PYTHONPATH": f"{library}{os.pathsep}{ROOT}"}
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> App:
        self.process = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                get(self.url + "/health")
                return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("the benchmark app did not start")

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def hey(url: str, seconds: float, viewers: int = VIEWERS, qps: int | None = PER_VIEWER_QPS,
        processes: int = HEY_PROCESSES) -> list[tuple[float, int, float]]:
    """Run the viewers for ``seconds``; every answered request as (latency, status, offset).
    ``qps`` None: each viewer asks again as soon as it is answered.

    hey's ``-q`` ticks all of one process's workers together, so one process of 200 workers
    sends bursts of 200 views at once. Real viewers do not arrive in lockstep: the viewers
    are split over HEY_PROCESSES processes started evenly over one view interval.
    """
    binary = shutil.which("hey")
    if binary is None:
        raise RuntimeError("hey is not on PATH (Debian: apt-get install hey)")
    pace = [] if qps is None else ["-q", str(qps)]
    cmd = [binary, "-z", f"{seconds:g}s", "-c", str(viewers // processes), *pace,
           "-t", "20", "-o", "csv", url]
    origin = time.monotonic()
    runs = []
    for i in range(processes):
        delay = origin + i / ((qps or 1) * processes) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        runs.append((time.monotonic() - origin,
                     subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)))
    views: list[tuple[float, int, float]] = []
    for shift, process in runs:
        out, _ = process.communicate(timeout=seconds + 60)
        if process.returncode != 0:
            raise RuntimeError(f"hey failed (exit {process.returncode})")
        views += [(float(r["response-time"]), int(r["status-code"]), float(r["offset"]) + shift)
                  for r in csv.DictReader(io.StringIO(out))]
    return views


def pull_ids(data: SandboxData, pages: int) -> list[str]:
    """Talents whose media lists add up to exactly ``pages`` pages of PULL_PAGE_SIZE."""
    ids: list[str] = []
    total = i = 0
    while total < pages:
        douyin_id = f"pull-{i}"
        i += 1
        n = max(1, -(-data.count_talent_media(PLAN, douyin_id, 3) // PULL_PAGE_SIZE))
        if total + n <= pages:
            ids.append(douyin_id)
            total += n
    return ids


def one_run(sb: ThreadedSandbox, name: str, mode: str, dist: str, pages: int,
            deadline: float, seconds: float, pull: list[str] | None = None) -> Run:
    print(f"  run {name} ({mode}) ...", file=sys.stderr, flush=True)
    with App(sb.url, sb.token, mode, deadline) as app:
        first = len(sb.log)
        started = time.monotonic()
        if pull:
            get(app.url + "/pull", {"douyin_ids": pull})
        views = hey(f"{app.url}/view/{dist}/{pages}", seconds)
        progress: dict[str, Any] = {}
        if pull:
            limit = time.monotonic() + 120
            while not (progress := get(app.url + "/pull"))["done"] \
                    and time.monotonic() < limit:
                time.sleep(0.5)
        stats = get(app.url + "/stats")
        refusals = get(app.url + "/refusals")
    log = sb.log.entries()[first:]
    return Run(name, mode, deadline, seconds, views, log, stats, started, progress, refusals)


def api_figures(run: Run, rows: list[Row], bench: str) -> None:
    sent = run.in_window()
    arrivals = sorted(e.monotonic for e in sent)
    rejected = sum(1 for e in sent if e.outcome == "28003018")
    rate = len(sent) / run.span
    rows.append(Row(bench, f"{run.mode}: API requests sent per second (sandbox log)",
                    fmt(rate, 1), "<= 10", rate <= 10))
    rows.append(Row(bench, f"{run.mode}: most requests in a rolling second / rejected",
                    f"{max_in_window(arrivals)} / {rejected}", "<= 10 / 0",
                    max_in_window(arrivals) <= 10 and rejected == 0))


def view_figures(run: Run, rows: list[Row], bench: str) -> None:
    ok = run.status(200)
    rows.append(Row(bench, f"{run.mode}: views answered per second (HTTP 200)",
                    fmt(run.per_second, 1)))
    rows.append(Row(bench, f"{run.mode}: latency of answered views p50 / p99 (s)",
                    f"{pct(ok, 0.5):.3f} / {pct(ok, 0.99):.3f}"))


def deadline_figures(run: Run, rows: list[Row], bench: str) -> dict[str, float]:
    total = len(run.views)
    ok = run.status(200)
    busy = run.status(503)
    fast = [rt for rt in busy if rt <= 0.05]
    late_ok = [rt for rt in ok if rt > run.deadline]
    timeouts = len(run.status(504))
    cancelled = sum(1 for e in run.log if e.outcome == "cancelled")
    new = run.mode == "new"
    rows.append(Row(bench, f"{run.mode}: views / answered in time / answered 503",
                    f"{total} / {len(ok) - len(late_ok)} / {len(busy)} "
                    f"({len(busy) / max(1, total):.0%})"))
    rows.append(Row(bench, f"{run.mode}: 504 timed out / answered after the deadline",
                    f"{timeouts} / {len(late_ok)}", "0 / 0" if new else "",
                    (not timeouts and not late_ok) if new else None))
    if busy:
        rows.append(Row(bench, f"{run.mode}: 503 end to end at hey: within 50 ms / p50 / p99",
                        f"{len(fast) / len(busy):.0%} / {pct(busy, 0.5) * 1000:.0f} ms / "
                        f"{pct(busy, 0.99) * 1000:.0f} ms"))
    if new:
        quick = [t for t in run.refusals if t <= 0.05]
        rows.append(Row(bench, f"{run.mode}: 503 within 50 ms of the call (in the app) / "
                        "refused later, in the queue", f"{len(quick)} of {len(run.refusals)} "
                        f"({len(quick) / max(1, len(run.refusals)):.1%}) / "
                        f"{run.stats['queue_timeouts_late']}",
                        "all", len(quick) == len(run.refusals)))
        rows.append(Row(bench, f"{run.mode}: the app's event-loop lag p99 / max",
                        f"{run.stats['loop_lag_p99'] * 1000:.0f} ms / "
                        f"{run.stats['loop_lag_max'] * 1000:.0f} ms"))
    rows.append(Row(bench, f"{run.mode}: requests abandoned in flight (sandbox 'cancelled')",
                    str(cancelled), "0" if new else "", (cancelled == 0) if new else None))
    return {"ok": len(ok), "fast": len(fast), "total": total, "timeouts": timeouts}


def run(quick: bool) -> Result:
    seconds = 5.0 if quick else 15.0
    res = Result("webapp")
    rows = res.rows
    config = SandboxConfig(latency=0.2, qps=10)
    runs: dict[str, Run] = {}
    with ThreadedSandbox(config) as sb:
        ids = pull_ids(sb.data, PULL_PAGES)
        plan = [("A", "zipf", 20, 10.0, None), ("B", "uniform", 2000, 2.0, None),
                ("C", "uniform", 2000, 2.0, ids)]
        for name, dist, pages, deadline, pull in plan:
            for mode in ("old", "new"):
                runs[f"{name}-{mode}"] = one_run(sb, name, mode, dist, pages, deadline,
                                                 seconds, pull)
    for mode in ("old", "new"):
        a = runs[f"A-{mode}"]
        view_figures(a, rows, "A 20 pages")
        api_figures(a, rows, "A 20 pages")
    a_new = runs["A-new"]
    rows.append(Row("A 20 pages", "new: views answered per second", fmt(a_new.per_second, 1),
                    ">= 100", a_new.per_second >= 100))
    rows.append(Row("A 20 pages", "new: cache hits / shared flights (client stats)",
                    f"{a_new.stats['cache_hits']} / {a_new.stats['shared_flights']}"))
    for mode in ("old", "new"):
        b = runs[f"B-{mode}"]
        view_figures(b, rows, "B 2,000 pages")
        deadline_figures(b, rows, "B 2,000 pages")
        api_figures(b, rows, "B 2,000 pages")
    for mode in ("old", "new"):
        b, c = runs[f"B-{mode}"], runs[f"C-{mode}"]
        view_figures(c, rows, "C with a pull")
        deadline_figures(c, rows, "C with a pull")
        ratio = pct(c.status(200), 0.99) / pct(b.status(200), 0.99)
        rows.append(Row("C with a pull", f"{mode}: p99 of answered views, C / B", fmt(ratio),
                        "<= 1.3" if mode == "new" else "",
                        ratio <= 1.3 if mode == "new" else None))
        pulled = [e for e in c.in_window() if e.page_size == PULL_PAGE_SIZE]
        finished = c.pull.get("finished")
        took = (finished - c.pull["started"]) if finished else float("nan")
        rows.append(Row("C with a pull", f"{mode}: pull pages {PULL_PAGES}: done / seconds "
                        "/ share of requests during the views",
                        f"{c.pull.get('pages', 0)} / {took:.1f} / "
                        f"{len(pulled) / max(1, len(c.in_window())):.0%}",
                        "100 / - / -" if mode == "new" else "",
                        (c.pull.get("pages") == PULL_PAGES and not c.pull.get("error"))
                        if mode == "new" else None))
        api_figures(c, rows, "C with a pull")
    res.notes.append(
        f"Web app: `python -m benchmarks.bench_webapp`. One FastAPI app (uvicorn, one "
        f"process, one shared client) against the sandbox at 200 ms latency and the cap of "
        f"10 per rolling second; `hey -c {VIEWERS} -q {PER_VIEWER_QPS} -z {seconds:g}s` "
        f"(200 viewers, each at most one view per second); a view is one page of "
        f"{VIEW_PAGE_SIZE} records, the app picks the page (A: 20 pages, page k with weight "
        f"1/k; B, C: 2,000 pages, uniform). old: no single flight, no cache, the handler's "
        f"`asyncio.timeout()` only, a pull in the same FIFO as the views; new: single "
        f"flight, a 60 s cache, `deadline=` on every view, the pull in the background lane "
        f"(4 views : 1 pull while both wait). C pulls {PULL_PAGES} pages of "
        f"{PULL_PAGE_SIZE} records. API requests are counted on the sandbox's log during "
        f"the load; 'cancelled' are requests the client sent and then abandoned.")
    res.plots.append((PLOT, "Web app under load: views per second (A), view latency over "
                            "time (B), API requests by lane (C)"))
    if not quick:
        plot(runs, DOCS / PLOT)
    return res


def write_section(res: Result) -> None:
    """Put the web-app section into docs/benchmarks.md (between its markers)."""
    from .run import table

    page = DOCS / "benchmarks.md"
    text = page.read_text(encoding="utf-8")
    section = "\n".join([
        START,
        "## Web app under load",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        "`python -m benchmarks.bench_webapp` (needs `hey`); what the mechanisms are is in "
        "[Async web apps](web-apps.md).",
        "",
        table(res.rows, markdown=True),
        "",
        *[f"- {note}" for note in res.notes],
        "",
        *[f"![{caption}]({name})\n\n*{caption}*\n" for name, caption in res.plots],
        END,
    ])
    if START in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: section, text,
                      flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    page.write_text(text, encoding="utf-8")


def main(prog: str = "python -m benchmarks.bench_webapp",
         bench: Callable[[bool], Result] = run,
         write: Callable[[Result], None] = write_section) -> int:
    """Run ``bench`` (``--quick``: a smoke run), print its table, write its docs section."""
    from .run import table

    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--quick", action="store_true", help="short smoke run; docs untouched")
    ns = parser.parse_args()
    os.chdir(ROOT)
    res = bench(ns.quick)
    print(table(res.rows))
    if not ns.quick:
        write(res)
        print(f"wrote its section of {DOCS / 'benchmarks.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Admission under closed-loop viewers: the package of 2c38974 against this one, side by side.

    python -m benchmarks.bench_admission            # D 10 runs each, E 3 runs each
    python -m benchmarks.bench_admission --quick    # D and E once each (docs untouched)

Each run starts ``benchmarks.webapp`` (FastAPI, one process, one shared client) with one
version of the package or the other (the old one unpacked from git into a temporary
directory and put first on ``PYTHONPATH``), loads it with ``hey`` for 10 s, 50 viewers, each
asking again as soon as it is answered (five ``hey`` processes started over one second),
and reads the API requests off the sandbox's log (0.2 +- 0.05 s latency, the cap of 10 per
rolling second).

- D: 50 talent pages asked in turn, a 10 s deadline, no cache, and the app's cold start (the
  first answered view holds the loop 0.5 s: lazy imports, first decodes): about 50 views
  queue at once, a wait near 5.3 s, so every view can be served in time: refusals are
  wrong.
- E: the 30-day task-video aggregate of one of 5 talents (4 pages each), a 10 s deadline,
  ``cache=60``, the app's loop kept CPU-bound: views per second once the cache has filled,
  records decoded for views that then failed, requests per rolling second and rate-limit
  answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from typing import Any

from douyin_async.sandbox import SandboxConfig, ThreadedSandbox
from douyin_async.webapp.views import day_window

from .bench_webapp import START as _START
from .bench_webapp import App, get, hey, pct
from .bench_webapp import main as bench_main
from .common import DOCS, ROOT, Result, Row, max_in_window

OLD = "2c38974"
VIEWERS = 50
SECONDS = 10.0
DEADLINE = 10.0
START, END = "<!-- bench_admission: start -->", "<!-- bench_admission: end -->"


def old_package(into: str) -> str:
    """Unpack the package of commit OLD into ``into``; returns the directory."""
    archive = subprocess.run(["git", "archive", OLD, "douyin_async"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return into


def gmv_spec(sb: ThreadedSandbox, talents: int = 5) -> dict[str, Any]:
    """Five authors, each with a page size that makes its 30 days four pages."""
    start, end = day_window(30)
    billing_date = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    chosen = []
    for douyin_id in sb.data.douyin_ids:
        count = sb.data.count_task_videos(billing_date, start, end, douyin_id)
        size = count // 4 + 1
        if count >= 8 and 3 * size < count:
            chosen.append([douyin_id, size])
        if len(chosen) == talents:
            break
    return {"billing_date": billing_date, "start": start, "end": end, "talents": chosen}


def one_run(sb: ThreadedSandbox, library: str | None, path: str,
            extra: tuple[str, ...]) -> dict[str, Any]:
    with App(sb.url, sb.token, "new", DEADLINE, extra, library) as app:
        first = len(sb.log)
        started = time.monotonic()
        views = hey(app.url + path, SECONDS, viewers=VIEWERS, qps=None, processes=5)
        stats = get(app.url + "/stats")
    log = sb.log.entries()[first:]
    arrivals = sorted(e.monotonic for e in log if e.monotonic >= started)
    ok = [(rt, offset) for rt, status, offset in views if status == 200]
    fill = min((offset + rt for rt, offset in ok), default=0.0) + 2.0
    later = [o for _, o in ok if o >= fill]
    return {"views": len(views), "ok": len(ok), "refused": sum(s == 503 for _, s, _ in views),
            "timeouts": sum(s == 504 for _, s, _ in views), "stats": stats,
            "per_second": len(later) / max(0.1, SECONDS - fill),
            "p99": pct([rt for rt, _ in ok], 0.99),
            "rolling": max_in_window(arrivals),
            "closest": min((b - a for a, b in zip(arrivals, arrivals[1:], strict=False)),
                           default=float("nan")),
            "rate_limited": sum(e.outcome == "28003018" for e in log)}


def run(quick: bool) -> Result:
    res = Result("admission")
    config = SandboxConfig(latency=0.2, jitter=0.05, qps=10)
    runs_d, runs_e = (1, 1) if quick else (10, 3)
    with tempfile.TemporaryDirectory() as tmp, ThreadedSandbox(config) as sb:
        libraries = {"old": old_package(tmp), "new": None}
        spec = json.dumps(gmv_spec(sb))
        d = {name: [one_run(sb, lib, "/view/cycle/50", ("--cache", "0", "--cold-start", "0.5"))
                    for _ in range(runs_d)] for name, lib in libraries.items()}
        e = {name: [one_run(sb, lib, "/gmv/5", ("--cache", "60", "--cpu-bound", "--gmv", spec))
                    for _ in range(runs_e)] for name, lib in libraries.items()}
    for name, runs in d.items():
        clean = sum(1 for r in runs if r["refused"] == 0 and r["timeouts"] == 0)
        new = name == "new"
        res.rows.append(Row("D 50 pages", f"{name}: runs without a refusal or timeout",
                            f"{clean} of {len(runs)}", "all" if new else "",
                            clean == len(runs) if new else None))
        res.rows.append(Row("D 50 pages", f"{name}: views / answered / 503 / 504 (all runs)",
                            " / ".join(str(sum(r[k] for r in runs))
                                       for k in ("views", "ok", "refused", "timeouts"))))
        res.rows.append(Row("D 50 pages", f"{name}: p99 of answered views (s), worst run",
                            f"{max(r['p99'] for r in runs):.2f}"))
    for name, runs in e.items():
        new = name == "new"
        slowest = min(r["per_second"] for r in runs)
        thrown = sum(r["stats"]["thrown"] for r in runs)
        rolling = max(r["rolling"] for r in runs)
        limited = sum(r["rate_limited"] for r in runs)
        res.rows += [
            Row("E 30-day aggregate", f"{name}: views/s after the cache filled, slowest run",
                f"{slowest:.1f}", ">= 50" if new else "", slowest >= 50 if new else None),
            Row("E 30-day aggregate", f"{name}: views / answered / 503 / 504 (all runs)",
                " / ".join(str(sum(r[k] for r in runs))
                           for k in ("views", "ok", "refused", "timeouts"))),
            Row("E 30-day aggregate", f"{name}: records decoded for views that failed",
                str(thrown), "0" if new else "", thrown == 0 if new else None),
            Row("E 30-day aggregate", f"{name}: most requests in a rolling second / "
                "rate-limit answers (CPU-bound app)", f"{rolling} / {limited}",
                "<= 10 / 0" if new else "", (rolling <= 10 and limited == 0) if new else None),
            Row("E 30-day aggregate", f"{name}: closest two requests at the server (ms)",
                f"{min(r['closest'] for r in runs) * 1000:.0f}"),
            Row("E 30-day aggregate", f"{name}: the app's loop lag p99 (ms), worst run",
                f"{max(r['stats']['loop_lag_p99'] for r in runs) * 1000:.0f}"),
        ]
    res.notes.append(
        f"`python -m benchmarks.bench_admission`: old is the package of {OLD}, new this one, "
        f"each run a fresh app; {VIEWERS} closed-loop viewers (`hey -c`, no `-q`) for "
        f"{SECONDS:g} s, {runs_d} runs of D and {runs_e} of E per version; sandbox at 0.2 +- "
        "0.05 s latency and 10 requests per rolling second. The aggregate's window is 30 "
        "whole Beijing days (the same request all day).")
    return res


def write_section(res: Result) -> None:
    """Put this section into docs/benchmarks.md (between its markers, before the web app's)."""
    from .run import table

    page = DOCS / "benchmarks.md"
    text = page.read_text(encoding="utf-8")
    section = "\n".join([
        START, "## Admission under closed-loop viewers", "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        "`python -m benchmarks.bench_admission` (needs `hey` and git).", "",
        table(res.rows, markdown=True), "", *[f"- {note}" for note in res.notes], END])
    if START in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    elif _START in text:
        text = text.replace(_START, section + "\n\n" + _START)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    page.write_text(text, encoding="utf-8")


def main() -> int:
    return bench_main("python -m benchmarks.bench_admission", run, write_section)


if __name__ == "__main__":
    sys.exit(main())

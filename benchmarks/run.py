"""Run every benchmark, print one table and write ``docs/benchmarks.md``.

    python -m benchmarks.run            # the full run (a few minutes)
    python -m benchmarks.run --quick    # a short smoke run (docs are not rewritten)
    python -m benchmarks.run --only decode,stall

Each benchmark is a module of its own (``benchmarks/bench_*.py``) and runs alone too:
``python -m benchmarks.bench_decode``. Here each runs in a fresh Python process, so that none
measures the objects another left behind (the collector's full runs visit every object of the
process, and CPU and stall figures would carry them).
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from .common import DOCS, ROOT, Result, Row, load_average, machine

#: Every benchmark, in run order (those whose module is present).
BENCHES = [name for name in ("cap", "handloop", "decode", "cpu", "memory", "stall", "fetchahead",
                             "webapp", "bills", "sync", "apps", "queue")
           if (ROOT / "benchmarks" / f"bench_{name}.py").exists()]


def table(rows: Sequence[Row], markdown: bool = False) -> str:
    head = ("run", "measure", "figure", "target", "met")
    cells = [head] + [(r.bench, r.measure, r.value, r.target, r.verdict) for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
                  for row in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    out = []
    for n, row in enumerate(cells):
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def write_docs(results: Sequence[Result], info: dict[str, str], load: tuple[str, str],
               seconds: float) -> None:
    rows = [r for res in results for r in res.rows]
    redis = ROOT / "benchmarks" / "bench_redis.py"
    lines = [
        "# Benchmarks",
        "",
        "Measured against the built-in sandbox on 127.0.0.1. The machine is shared and small, "
        "so every figure below is a ratio or a count taken side by side in one run, not an "
        "absolute speed to compare across machines.",
        "",
        "Run them again with one command (it installs the `bench` extra: msgspec, pydantic, "
        "matplotlib, psutil):",
        "",
        "```",
        "make bench                       # = .venv/bin/python -m benchmarks.run",
        ".venv/bin/python -m benchmarks.run --quick   # smoke run, leaves this page alone",
        "```",
        "",
        "## Machine",
        "",
        f"- date: {info['date']}",
        f"- CPU: {info['cpu']}, {info['cores']} cores; memory {info['memory']}",
        f"- OS: {info['os']}; {info['python']}",
        f"- libraries: {info['libraries']}",
        f"- load average at start / end: {load[0]} / {load[1]}; the full run took "
        f"{seconds / 60:.1f} min",
        "",
        "## Results",
        "",
        table(rows, markdown=True),
        "",
        "## How each figure was taken",
        "",
    ]
    for res in results:
        lines += [f"- {note}" for note in res.notes]
    lines.append("")
    for res in results:
        for name, caption in res.plots:
            lines += [f"![{caption}]({name})", "", f"*{caption}*", ""]
    lines += [
        "## Reading the figures",
        "",
        "- Runs 1, 2 and 7 are latency-bound: the client's pacing, not the CPU, decides them.",
        "- Run 3 times the client's own decode path (`PageDecoder`: the record array is cut "
        "into runs of records unread, and msgspec decodes each run and the records are "
        "built, a run at a time) against msgspec "
        "and pydantic on the same bytes, on a tidy page, a realistic page of one key style "
        "and a realistic page mixing key styles; msgspec and pydantic are shown as peers "
        "(msgspec's Structs are not the client's records). msgspec checks and converts "
        "every value in C; what is left in Python per record is the record object itself "
        "(one slotted, GC-tracked instance filled with ordinary attribute stores) and its "
        "`extra`. A chunk of one key style is one msgspec call; a chunk mixing key styles "
        "is decoded per style, or parsed by orjson when msgspec refuses it. msgspec builds "
        "its Structs straight from the bytes and ignores unknown keys; the client and "
        "pydantic keep them.",
        "- Run 4 counts only the client's process; the sandbox runs in a child process.",
        "- Run 11 puts N clients in one process: with small pages the cap decides (N apps, N "
        "times the pages); with 10,000-record pages the process's CPU does, so its pages/s "
        "stop growing once one core is busy (and a shared machine gives it less than one).",
        "- Run 6's stall is the longest time the loop ran other code than the probe: a step of "
        "the decoder (the envelope, a run of records), the release of a page, and any "
        "garbage collection that falls into a step. "
        "The client decodes one page at a time, a page only once it is next in its stream, "
        "and yields before each step, so pages of other queries and pages fetched ahead do "
        "not add to it.",
        "",
    ]
    if redis.exists():
        lines += ["A shared-quota benchmark for the Redis limiter lives in "
                  "`benchmarks/bench_redis.py`; its figures are in "
                  "[One quota across processes](shared-quota.md).",
                  ""]
    (DOCS / "benchmarks.md").write_text("\n".join(lines), encoding="utf-8")


def run_one(name: str, quick: bool) -> Result:
    """One benchmark, in this process."""
    result: Result = importlib.import_module(f"benchmarks.bench_{name}").run(quick)
    return result


def run_fresh(name: str, quick: bool) -> Result:
    """One benchmark in a fresh Python process (spawned, not forked)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(run_one, name, quick).result()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run")
    parser.add_argument("--quick", action="store_true", help="short smoke run; docs untouched")
    parser.add_argument("--only", default="", help="comma-separated subset of " + ",".join(BENCHES))
    ns = parser.parse_args(argv)
    names = [n for n in ns.only.split(",") if n] or BENCHES
    unknown = set(names) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmarks: {sorted(unknown)}")
    info = machine()
    load_start = load_average()
    started = time.monotonic()
    results: list[Result] = []
    for name in names:
        t0 = time.monotonic()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        res = run_fresh(name, ns.quick)
        res.seconds = time.monotonic() - t0
        results.append(res)
        print(f"  {name}: {res.seconds:.1f} s", file=sys.stderr, flush=True)
    seconds = time.monotonic() - started
    rows = [r for res in results for r in res.rows]
    print()
    print(table(rows))
    print()
    missed = [r for r in rows if r.met is False]
    print(f"{len(rows)} figures, {sum(r.met is True for r in rows)} targets met, "
          f"{len(missed)} missed; {seconds:.0f} s")
    if not ns.quick and names == BENCHES:
        write_docs(results, info, (load_start, load_average()), seconds)
        print(f"wrote {DOCS / 'benchmarks.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

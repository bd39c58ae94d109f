"""Benchmark: one quota shared through Redis, counted by the sandbox.

Two rows, each against a fresh sandbox (its own thread, a 10 QPS rolling cap per token) and a
throwaway redis-server (the binary on PATH, a free port on 127.0.0.1):

* ``shared token``: N worker processes x T tasks pulling through one app's key;
* ``many apps``: A apps (A tokens, A keys) in one process, one aiohttp session.

Per row it prints the aggregate rate (the sum of the apps' rates) and its ratio to the cap,
the slowest app's rate, the highest count of arrivals
in any rolling second (per app), the shortest span holding cap + 1 arrivals (the cap holds
while it is >= 1 s) and the rejections. Run it alone::

    .venv/bin/python benchmarks/bench_redis.py              # the defaults of the tests
    .venv/bin/python benchmarks/bench_redis.py --margins 0.04 0.02 0 --json

The load harness lives in ``tests/redis_server.py`` (shared with the slow tests).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from redis_server import LoadResult, RedisServer, run_load  # noqa: E402


def row(name: str, result: LoadResult, cap: float) -> dict[str, Any]:
    """One printable row of figures."""
    apps = len(result.apps)
    return {
        "row": name,
        "processes": result.processes,
        "apps": apps,
        "tasks": result.tasks,
        "margin": result.margin,
        "aggregate_qps": round(result.aggregate_rate, 2),
        "of_cap": round(result.aggregate_rate / (cap * apps), 3),
        "slowest_app_qps": round(min(a.rate for a in result.apps), 2),
        "rolling_max": result.rolling_max,
        "rolling_max_per_app": sorted({a.rolling_max for a in result.apps}),
        "tightest_s": round(result.tightest, 4),
        "requests": sum(a.requests for a in result.apps),
        "rejected": result.rejected,
        "errors": result.errors,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the rows and print them (a table, or JSON lines with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=20, help="tasks per process (shared row)")
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--app-tasks", type=int, default=10, help="tasks per app (many apps)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--margins", type=float, nargs="+", default=[0.04])
    parser.add_argument("--only", choices=["shared", "apps"])
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    args = parser.parse_args(argv)

    rows = []
    with RedisServer() as server:
        for margin in args.margins:
            if args.only in (None, "shared"):
                result = run_load(server.url, processes=args.processes, apps=1,
                                  tasks=args.tasks, seconds=args.seconds, rate=args.rate,
                                  margin=margin)
                rows.append(row("redis: shared token", result, args.rate))
            if args.only in (None, "apps"):
                result = run_load(server.url, processes=1, apps=args.apps,
                                  tasks=args.app_tasks, seconds=args.seconds, rate=args.rate,
                                  margin=margin)
                rows.append(row("redis: many apps", result, args.rate))
            if args.json:
                for item in rows:
                    print(json.dumps(item), flush=True)
                rows.clear()
    if not args.json:
        for item in rows:
            print(
                f"{item['row']:<20} procs={item['processes']} apps={item['apps']:<3} "
                f"tasks={item['tasks']:<3} margin={item['margin']:.2f}  "
                f"{item['aggregate_qps']:>7.2f} QPS ({item['of_cap']:.1%} of cap, slowest app "
                f"{item['slowest_app_qps']:.2f})  "
                f"rolling max {item['rolling_max']:>2}  tightest {item['tightest_s']:.4f} s  "
                f"rejected {item['rejected']}  errors {item['errors']}"
            )


if __name__ == "__main__":
    main()

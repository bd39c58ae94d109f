"""A sync in a process of its own, for the kill tests: an in-process sandbox on the fixed clock
of the sync tests, a task-video backfill into ``INTO``, a line on stdout per batch written
and per day loaded (the parent kills it with SIGKILL after a chosen line).

    python tests/sync_worker.py INTO SINCE UNTIL
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from sync_helpers import NOW, sandbox_config, sync  # noqa: E402

from douyin_async.sandbox import ManualClock, Sandbox  # noqa: E402
from douyin_async.sync import TaskVideoSource  # noqa: E402

#: Small pages, so that a day is many batches and a kill lands inside one.
PAGE_SIZE = 400


class Lines:
    def on_start(self, days: int) -> None:
        pass

    def on_records(self, count: int) -> None:
        sys.stdout.write(f"batch {count}\n")
        sys.stdout.flush()

    def on_day(self, day: dt.date, records: int) -> None:
        sys.stdout.write(f"day {day} {records}\n")
        sys.stdout.flush()


async def main(into: str, since: str, until: str) -> None:
    clock = ManualClock(NOW)
    async with Sandbox(sandbox_config(clock, latency=0.005)) as sandbox:
        await sync(sandbox, into, clock, TaskVideoSource(page_size=PAGE_SIZE),
                   since=dt.date.fromisoformat(since), until=dt.date.fromisoformat(until),
                   progress=Lines(), days_at_once=2)
    sys.stdout.write("finished\n")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))

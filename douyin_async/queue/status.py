"""What the queue holds, for `douyin-async status --queue`: each run's units by app and state,
their records, and each app's request rate over the last minute (the requests of the units
that ended in it)."""

from __future__ import annotations

from typing import Any

import attrs

from .jobs import TASK, state_of

#: Seconds the request rates are taken over.
RATE_WINDOW = 60

_UNITS = """
SELECT j.queue_name AS run, j.args->>'app' AS app, j.status::text AS status,
       count(*) AS units, coalesce(sum(u.records) FILTER (WHERE j.status = 'succeeded'), 0)
       AS records
  FROM procrastinate_jobs j LEFT JOIN douyin_async_units u ON u.job_id = j.id
 WHERE j.task_name = %(task)s AND (%(run)s::text IS NULL OR j.queue_name = %(run)s)
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
_RATES = """
SELECT app, sum(requests) AS requests FROM douyin_async_units
 WHERE ended_at > now() - make_interval(secs => %(window)s) GROUP BY app ORDER BY app"""


@attrs.frozen
class AppUnits:
    """One app's units of one run: `units` by state (queued, running, done, failed)."""

    run: str
    app: str
    units: dict[str, int]
    records: int = 0

    def to_json(self) -> dict[str, Any]:
        """JSON values (every state, 0 when none)."""
        states = {state: self.units.get(state, 0) for state in ("queued", "running", "done",
                                                                 "failed")}
        return {"run": self.run, "app": self.app, **states, "records": self.records}


@attrs.frozen
class QueueStatus:
    """The units of every run (or one), and the apps' request rates."""

    apps: tuple[AppUnits, ...]
    #: app -> requests per second over the last
    #: [`RATE_WINDOW`][douyin_async.queue.status.RATE_WINDOW] seconds.
    rates: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        """JSON values."""
        return {"units": [a.to_json() for a in self.apps], "rates": self.rates,
                "rate_window": RATE_WINDOW}


async def queue_status(app: Any, run: str | None = None) -> QueueStatus:
    """The status of the queue of the opened procrastinate `app`."""
    rows = await app.connector.execute_query_all_async(_UNITS, task=TASK, run=run)
    units: dict[tuple[str, str], dict[str, int]] = {}
    records: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["run"], row["app"] or "")
        found = units.setdefault(key, {})
        state = state_of(row["status"])
        found[state] = found.get(state, 0) + int(row["units"])
        records[key] = records.get(key, 0) + int(row["records"])
    rates = await app.connector.execute_query_all_async(_RATES, window=RATE_WINDOW)
    return QueueStatus(tuple(AppUnits(r, a, v, records[r, a]) for (r, a), v in units.items()),
                       {r["app"]: int(r["requests"]) / RATE_WINDOW for r in rates})


__all__ = ["RATE_WINDOW", "AppUnits", "QueueStatus", "queue_status"]

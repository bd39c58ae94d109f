"""What the queue holds, for `douyin-async status --queue`: each run's units by app and state,
their records, and each app's request rate over the last minute (the requests of the units
that ended in it)."""

from __future__ import annotations

from typing import Any

import attrs

from .jobs import TASK

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
    """One app's units of one run."""

    run: str
    app: str
    queued: int = 0
    running: int = 0
    done: int = 0
    failed: int = 0
    records: int = 0


@attrs.frozen
class QueueStatus:
    """The units of every run (or one), and the apps' request rates."""

    apps: tuple[AppUnits, ...]
    #: app -> requests per second over the last
    #: [`RATE_WINDOW`][douyin_async.queue.status.RATE_WINDOW] seconds.
    rates: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        """JSON values."""
        return {"units": [attrs.asdict(a) for a in self.apps], "rates": self.rates,
                "rate_window": RATE_WINDOW}


_FIELD = {"todo": "queued", "doing": "running", "succeeded": "done"}


async def queue_status(app: Any, run: str | None = None) -> QueueStatus:
    """The status of the queue of the opened procrastinate `app`."""
    rows = await app.connector.execute_query_all_async(_UNITS, task=TASK, run=run)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        entry = found.setdefault((row["run"], row["app"] or ""), {})
        field = _FIELD.get(row["status"], "failed")
        entry[field] = entry.get(field, 0) + int(row["units"])
        entry["records"] = entry.get("records", 0) + int(row["records"])
    rates = await app.connector.execute_query_all_async(_RATES, window=RATE_WINDOW)
    return QueueStatus(tuple(AppUnits(r, a, **v) for (r, a), v in found.items()),
                       {r["app"]: int(r["requests"]) / RATE_WINDOW for r in rates})


__all__ = ["RATE_WINDOW", "AppUnits", "QueueStatus", "queue_status"]

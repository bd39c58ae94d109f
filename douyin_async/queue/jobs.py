"""The units of a sync as procrastinate jobs in PostgreSQL.

Each run's units are jobs of one procrastinate queue (`sync-<run id>`), each with a lock
named after its unit, so no two attempts at a unit run at once. Procrastinate keeps the jobs,
hands them to workers (LISTEN/NOTIFY), retries a failed attempt, and tells the jobs of a
worker that stopped sending heartbeats (killed) from the others; a periodic job of every
worker ([`STALLED_TASK`][douyin_async.queue.jobs.STALLED_TASK]) puts those back in the queue.
Beside procrastinate's tables, `douyin_async_units` keeps what each ended attempt reports
(records, requests, the error of a unit that failed for good), and a trigger on the jobs'
status notifies `douyin_async_jobs`, which a run's follower listens to.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import attrs

from ..sync.errors import DestinationError
from .units import Unit

#: The task of a unit, by name: a queue that only enqueues needs no function.
TASK = "douyin_async.sync_unit"
#: The periodic task that puts the units of killed workers back in the queue.
STALLED_TASK = "douyin_async.retry_stalled"
#: The channel a job's status change is told on (its payload: the job's queue).
CHANNEL = "douyin_async_jobs"
#: Advisory-lock key of the schema set-up (several workers may start at once).
SCHEMA_LOCK = 0x646F7579696E7131

_REPORT_DDL = [
    "CREATE TABLE IF NOT EXISTS douyin_async_units (job_id bigint PRIMARY KEY, "
    "queue_name text NOT NULL, app text NOT NULL, day text, records bigint NOT NULL DEFAULT 0, "
    "requests bigint NOT NULL DEFAULT 0, error text, kind text, "
    "ended_at timestamptz NOT NULL DEFAULT now())",
    "CREATE INDEX IF NOT EXISTS douyin_async_units_queue ON douyin_async_units (queue_name)",
    """CREATE OR REPLACE FUNCTION douyin_async_notify_status() RETURNS trigger
       LANGUAGE plpgsql AS $$ BEGIN
       PERFORM pg_notify('douyin_async_jobs', NEW.queue_name); RETURN NEW; END; $$""",
    "DROP TRIGGER IF EXISTS douyin_async_job_status ON procrastinate_jobs",
    "CREATE TRIGGER douyin_async_job_status AFTER UPDATE OF status ON procrastinate_jobs "
    "FOR EACH ROW EXECUTE FUNCTION douyin_async_notify_status()",
]


def queue_app(url: str) -> Any:
    """A procrastinate app on the PostgreSQL at `url` (not opened)."""
    try:
        import procrastinate
    except ImportError:
        raise DestinationError("--queue needs procrastinate: pip install "
                               "'douyin-async[queue]'") from None
    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))


async def ensure_schema(url: str) -> None:
    """Create procrastinate's tables and this package's report table and trigger, once."""
    import psycopg
    from procrastinate.schema import SchemaManager

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            found = await (await conn.execute(
                "SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).fetchone()
            if not (found and found[0]):
                await conn.execute(SchemaManager.get_schema())
            found = await (await conn.execute(
                "SELECT to_regclass('douyin_async_units') IS NOT NULL")).fetchone()
            if not (found and found[0]):
                for ddl in _REPORT_DDL:
                    await conn.execute(ddl)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def new_run_queue() -> str:
    """The queue of a new run."""
    return f"sync-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


async def enqueue(app: Any, queue: str, units: list[Unit]) -> list[int]:
    """Defer one job per unit on `queue`; their ids."""
    ids = []
    for unit in units:
        task = app.configure_task(name=TASK, queue=queue, lock=unit.key)
        ids.append(await task.defer_async(**unit.to_json()))
    return ids


async def report(app: Any, job_id: int, queue: str, unit: Unit, records: int, requests: int,
                 error: BaseException | None = None) -> None:
    """Record an ended attempt (the last one of a job wins)."""
    await app.connector.execute_query_async(
        "INSERT INTO douyin_async_units (job_id, queue_name, app, day, records, requests, error, "
        "kind) VALUES (%(job)s, %(queue)s, %(app)s, %(day)s, %(records)s, %(requests)s, "
        "%(error)s, %(kind)s) "
        "ON CONFLICT (job_id) DO UPDATE SET records = excluded.records, "
        "requests = douyin_async_units.requests + excluded.requests, error = excluded.error, "
        "kind = excluded.kind, ended_at = now()",
        job=job_id, queue=queue, app=unit.app, day=unit.day, records=records,
        requests=requests, kind=None if error is None else type(error).__name__,
        error=None if error is None else " ".join(str(error).split()) or type(error).__name__)


#: A unit's state as shown, by procrastinate's job status.
STATES = {"todo": "queued", "doing": "running", "succeeded": "done"}


def state_of(status: str) -> str:
    """`queued`, `running`, `done` or `failed` (failed, aborted or cancelled)."""
    return STATES.get(status, "failed")


@attrs.frozen
class RunCounts:
    """Where a run's units are (`units`: queued, running, done, failed), the records of
    those done, and the errors of those that failed for good."""

    queue: str
    units: dict[str, int]
    records: int = 0
    #: (app, day, error class, message) of each unit that failed for good.
    errors: tuple[tuple[str, str | None, str, str], ...] = ()

    def __getitem__(self, state: str) -> int:
        return self.units.get(state, 0)

    @property
    def over(self) -> bool:
        """Whether every unit ended (done, or failed for good)."""
        return self["queued"] == 0 and self["running"] == 0


async def run_counts(app: Any, queue: str) -> RunCounts:
    """The counts of the run on `queue`."""
    rows = await app.connector.execute_query_all_async(
        "SELECT status::text AS status, count(*) AS n FROM procrastinate_jobs "
        "WHERE queue_name = %(queue)s GROUP BY status", queue=queue)
    units: dict[str, int] = {}
    for row in rows:
        units[state_of(row["status"])] = units.get(state_of(row["status"]), 0) + int(row["n"])
    done = await app.connector.execute_query_all_async(
        "SELECT u.app, u.day, u.records, u.error, u.kind, j.status::text AS status "
        "FROM douyin_async_units u JOIN procrastinate_jobs j ON j.id = u.job_id "
        "WHERE u.queue_name = %(queue)s ORDER BY u.app, u.day", queue=queue)
    records = sum(int(r["records"]) for r in done if r["status"] == "succeeded")
    errors = tuple((r["app"], r["day"], r["kind"], r["error"]) for r in done
                   if r["status"] == "failed" and r["error"])
    return RunCounts(queue, units, records, errors)


__all__ = ["CHANNEL", "STALLED_TASK", "STATES", "TASK", "RunCounts", "enqueue", "ensure_schema",
           "new_run_queue", "queue_app", "report", "run_counts", "state_of"]

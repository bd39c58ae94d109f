"""A worker of a run's units, and the follower of a run, on procrastinate.

[`worker_app`][douyin_async.queue.worker.worker_app] registers the unit task and the
periodic task that puts back the units of workers that stopped sending heartbeats;
[`run_worker`][douyin_async.queue.worker.run_worker] takes units until stopped (SIGTERM or
Ctrl-C: the current unit is finished, or after `stop_timeout` abandoned: its day's
transaction is rolled back and the unit goes back to the queue).
[`follow`][douyin_async.queue.worker.follow] waits for a run's units to end, woken by the
status trigger's notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import attrs

from ..errors import AuthenticationError, InvalidParameterError, PermissionDeniedError
from ..sync.errors import StateConflictError
from .jobs import CHANNEL, STALLED_TASK, TASK, RunCounts, queue_app, report, run_counts
from .load import AccessOf, load_unit
from .units import Unit

#: Errors no later attempt can mend: the unit fails for good at once.
PERMANENT: tuple[type[BaseException], ...] = (AuthenticationError, PermissionDeniedError,
                                             InvalidParameterError, StateConflictError)


@attrs.frozen
class WorkerSettings:
    """How a worker runs (seconds throughout)."""

    concurrency: int = 1
    #: Attempts at a unit before it fails for good (transient errors).
    attempts: int = 5
    #: Seconds between attempts.
    retry_wait: int = 2
    #: Seconds between heartbeats.
    heartbeat: float = 10.0
    #: A worker silent this long is taken for dead; its units go back to the queue.
    stalled_after: float = 30.0
    #: Seconds between checks for such units (a cron with seconds).
    stalled_check: int = 5
    #: Seconds a stopping worker lets its unit finish (None: as long as it takes).
    stop_timeout: float | None = None
    #: This process's destination URL (with its password), for units that name it.
    into: str | None = None


def _retry(settings: WorkerSettings) -> Any:
    """Retry a unit's transient failures, not the permanent ones."""
    from procrastinate import BaseRetryStrategy, RetryStrategy

    class UnitRetry(BaseRetryStrategy):
        def __init__(self) -> None:
            self.inner = RetryStrategy(max_attempts=settings.attempts, wait=settings.retry_wait)

        def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
            if isinstance(exception, PERMANENT):
                return None
            return self.inner.get_retry_decision(exception=exception, job=job)

    return UnitRetry()


def worker_app(url: str, access: AccessOf, settings: WorkerSettings,
               limiter: Callable[[str, float], Any] | None = None) -> Any:
    """The procrastinate app of a worker: `access` gives an app's credentials by name,
    `limiter` its shared limiter (None: each client paces itself)."""
    app = queue_app(url)

    @app.task(name=TASK, pass_context=True, retry=_retry(settings))  # type: ignore[untyped-decorator]
    async def sync_unit(context: Any, **args: Any) -> int:
        unit = Unit.from_json(args)
        job = context.job
        records = requests = 0
        try:
            known = access(unit.app, unit.base_url)
            records, requests = await load_unit(
                unit, known, into=settings.into,
                limiter=limiter(known.quota, known.rate) if limiter is not None else None)
        except PERMANENT as exc:
            await report(context.app, job.id, job.queue, unit, 0, requests, exc)
            raise
        await report(context.app, job.id, job.queue, unit, records, requests)
        return records

    @app.periodic(cron=f"*/{settings.stalled_check} * * * * *",  # type: ignore[untyped-decorator]
                  periodic_id="stalled")
    @app.task(name=STALLED_TASK, queueing_lock=STALLED_TASK,  # type: ignore[untyped-decorator]
              pass_context=True)
    async def retry_stalled(context: Any, timestamp: int) -> int:
        manager = context.app.job_manager
        stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=settings.stalled_after)
        for job in stalled:
            await manager.retry_job(job)
        return len(list(stalled))

    del sync_unit, retry_stalled
    return app


async def run_worker(app: Any, settings: WorkerSettings) -> None:
    """Take units until stopped (see the module)."""
    options: dict[str, Any] = {
        "concurrency": settings.concurrency, "update_heartbeat_interval": settings.heartbeat,
        "stalled_worker_timeout": settings.stalled_after, "install_signal_handlers": True}
    if settings.stop_timeout is not None:
        options["shutdown_graceful_timeout"] = settings.stop_timeout
    async with app.open_async():
        await app.run_worker_async(**options)


async def follow(app: Any, queue: str, seen: Callable[[RunCounts], None],
                 safety: float = 10.0) -> RunCounts:
    """Wait until every unit of the run on `queue` ended; `seen` gets the counts at each
    change. A notification lost while the listener reconnects is made up for `safety`
    seconds later."""
    changed = asyncio.Event()

    async def on_notification(*, channel: str, payload: str) -> None:
        if payload == queue:
            changed.set()

    listener = asyncio.ensure_future(app.connector.listen_notify(
        on_notification=on_notification, channels=[CHANNEL]))
    try:
        while True:
            changed.clear()
            counts = await run_counts(app, queue)
            seen(counts)
            if counts.over:
                return counts
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(safety):
                    await changed.wait()
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)


__all__ = ["PERMANENT", "WorkerSettings", "follow", "run_worker", "worker_app"]

"""``douyin-async status --queue URL``: the units of spread syncs, by run and app, and each
app's request rate (see [`douyin_async.queue.status`][douyin_async.queue.status])."""

from __future__ import annotations

import asyncio
import json
import sys

from . import exits
from .exits import CliError


def show_queue_status(queue_url: str, run: str | None, as_json: bool) -> None:
    """Units queued, running, done and failed, records, and request rates per app."""
    from ..queue.jobs import ensure_schema, queue_app
    from ..queue.status import RATE_WINDOW
    from ..queue.status import queue_status as read

    async def status() -> object:
        await ensure_schema(queue_url)
        app = queue_app(queue_url)
        async with app.open_async():
            return await read(app, run)

    try:
        found = asyncio.run(status())
    except Exception as exc:  # one line, never a traceback
        raise CliError(" ".join(str(exc).split()) or type(exc).__name__, exits.API) from None
    from ..queue.status import QueueStatus

    assert isinstance(found, QueueStatus)
    if as_json:
        sys.stdout.write(json.dumps(found.to_json(), indent=2) + "\n")
        return
    lines = [f"{'run':<34} {'app':<16} {'queued':>7} {'running':>7} {'done':>6} "
             f"{'failed':>6} {'records':>12}"]
    for a in found.apps:
        n = a.to_json()
        lines.append(f"{a.run:<34} {a.app or '-':<16} {n['queued']:>7} {n['running']:>7} "
                     f"{n['done']:>6} {n['failed']:>6} {a.records:>12,}")
    if not found.apps:
        lines.append("no units")
    lines.append(f"requests per second over the last {RATE_WINDOW}s:")
    lines += [f"  {app or '-':<16} {rate:.2f}" for app, rate in found.rates.items()] or \
        ["  none"]
    sys.stdout.write("".join(f"{line}\n" for line in lines))

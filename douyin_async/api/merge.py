"""Many producers run at once, their items yielded as they come: the pull's unit streams.

[`merge`][douyin_async.api.merge.merge] never ends quietly short: a producer's error, or its
cancellation from outside, is raised to the consumer.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def _ended_badly(task: asyncio.Task[None], index: int) -> BaseException | None:
    """The error a finished producer ended with; cancellation counts as one."""
    if task.cancelled():
        return RuntimeError(
            f"producer {index} was cancelled before it finished (not by merge); "
            "what it had still to put is missing")
    return task.exception()


async def merge(
    producers: Sequence[Callable[[Callable[[T], Awaitable[None]]], Awaitable[None]]],
    *,
    buffer: int,
) -> AsyncGenerator[T, None]:
    """Run ``producers`` at once and yield what they put, as it comes.

    Each producer is called with an async ``put``; at most ``buffer`` items wait to be taken,
    so producers slow down to the consumer's pace. The first error of any producer stops the
    others at once and is raised at the consumer's next step, before anything still waiting
    in the buffer. A producer that ends cancelled without merge having cancelled it is such
    an error: `RuntimeError` (the items it had still to put would otherwise be silently
    missing). Leaving early or an error cancels every producer and waits for them.
    """
    ready: asyncio.Queue[T] = asyncio.Queue(maxsize=max(1, buffer))
    first: list[BaseException] = []
    stopping = False

    def stop() -> None:
        nonlocal stopping
        stopping = True
        for task in tasks:
            task.cancel()

    def landed(index: int, task: asyncio.Task[None]) -> None:
        if stopping:
            return  # cancelled by merge, or ended while merge was stopping them
        error = _ended_badly(task, index)
        if error is not None:
            first.append(error)
            stop()

    def check() -> None:
        if not first:
            for index, task in enumerate(tasks):
                error = _ended_badly(task, index) if task.done() else None
                if error is not None:
                    first.append(error)
                    break
        if first:
            stop()
            raise first[0]

    tasks = [asyncio.ensure_future(produce(ready.put)) for produce in producers]
    for index, task in enumerate(tasks):
        task.add_done_callback(functools.partial(landed, index))
    try:
        while True:
            check()
            if not ready.empty():
                item = ready.get_nowait()
            else:
                alive = [task for task in tasks if not task.done()]
                if not alive:
                    return
                getter = asyncio.ensure_future(ready.get())
                try:
                    await asyncio.wait([getter, *alive], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    if not getter.done():
                        getter.cancel()
                        await asyncio.gather(getter, return_exceptions=True)
                if getter.cancelled():
                    continue
                item = getter.result()
                del getter
                check()
            yield item
            del item  # the consumer holds it now, and alone
    finally:
        stop()
        await asyncio.gather(*tasks, return_exceptions=True)


__all__ = ["merge"]

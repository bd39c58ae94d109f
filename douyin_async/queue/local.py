"""Many apps of one sync over N local processes, without a queue server.

Each app goes to exactly one process ([`spread_apps`][douyin_async.queue.local.spread_apps]),
so its quota is kept by one limiter (or by Redis when the processes share it), and each
process loads its apps one after the other as a local sync loads them.
[`run_groups`][douyin_async.queue.local.run_groups] runs a picklable function over the groups
in a pool of fresh (spawned) processes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def spread_apps(apps: Sequence[str], processes: int) -> list[list[str]]:
    """The apps of each process (round robin; no empty group)."""
    groups = [list(apps[i::processes]) for i in range(processes)]
    return [g for g in groups if g]


async def run_groups(work: Callable[[T], R], jobs: Sequence[T]) -> list[R]:
    """`work` of each job, each in a process of its own, all at once."""
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, len(jobs)), mp_context=context) as pool:
        return list(await asyncio.gather(*(loop.run_in_executor(pool, work, job)
                                           for job in jobs)))


__all__ = ["run_groups", "spread_apps"]

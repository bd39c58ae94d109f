"""merge: producers interleaved, bounded by the buffer, and never a quiet end: errors and
cancellations of producers are raised promptly, whatever waits in the buffer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from douyin_async.api.merge import merge


async def test_merge_interleaves_producers_and_raises_the_first_error() -> None:
    def producer(name: str, n: int, fail_at: int | None = None):  # type: ignore[no-untyped-def]
        async def produce(put: Callable[[str], Any]) -> None:
            for i in range(n):
                if i == fail_at:
                    raise RuntimeError(f"{name} failed")
                await put(f"{name}{i}")
                await asyncio.sleep(0)

        return produce

    got = [x async for x in merge([producer("a", 3), producer("b", 3)], buffer=1)]
    assert sorted(got) == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert got.index("a2") > got.index("b0")  # interleaved
    with pytest.raises(RuntimeError, match="b failed"):
        async for _ in merge([producer("a", 1000), producer("b", 5, fail_at=2)], buffer=2):
            pass
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_merge_raises_when_a_producer_ends_cancelled_not_by_merge() -> None:
    async def cut_short(put: Callable[[str], Any]) -> None:
        await put("a0")
        raise asyncio.CancelledError  # e.g. something inside the producer was cancelled

    async def whole(put: Callable[[str], Any]) -> None:
        for i in range(5):
            await put(f"b{i}")

    got: list[str] = []
    with pytest.raises(RuntimeError, match="cancelled"):
        async for item in merge([cut_short, whole], buffer=2):
            got.append(item)
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_merge_raises_when_a_producer_task_is_cancelled_from_outside() -> None:
    async def victim(put: Callable[[str], Any]) -> None:
        await put("v0")
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().call_soon(task.cancel)
        await asyncio.sleep(3600)

    async def other(put: Callable[[str], Any]) -> None:
        for i in range(3):
            await put(f"o{i}")

    with pytest.raises(RuntimeError, match="producer 0"):
        async for _ in merge([victim, other], buffer=4):
            pass


async def test_merge_raises_a_producer_error_promptly_under_back_pressure() -> None:
    puts = 0

    async def busy(put: Callable[[int], Any]) -> None:
        nonlocal puts
        for i in range(1000):
            await put(i)
            puts += 1

    async def failing(put: Callable[[int], Any]) -> None:
        await put(-1)
        raise ValueError("producer failed")

    taken = 0
    with pytest.raises(ValueError, match="producer failed"):
        async for _ in merge([busy, failing], buffer=2):
            taken += 1
            await asyncio.sleep(0)  # a slow consumer: the buffer is always full
    assert taken < 10
    assert puts < 20  # the other producer was stopped at once
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

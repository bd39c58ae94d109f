"""An event loop on virtual time: timers fire in order, no wall clock passes, and a task can
"hog" the loop for a given number of virtual seconds (a CPU-bound step, a collection).

``run(main)`` runs a coroutine on it. Waiting for a timer moves the clock to the timer at
once; ``hog(seconds)`` moves it by ``seconds`` without running anything else in between,
which is what a CPU-bound step does to every other task of the loop. Only loop-driven code
belongs here (timers, futures): a socket would never become ready.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: Virtual seconds one turn of the loop takes (a real one takes microseconds; zero would let
#: code that re-arms a timer for "now" spin forever).
TURN = 1e-6


class _VirtualSelector(selectors.DefaultSelector):
    """Polls the real selector (the loop's self-pipe) without blocking, and spends the
    timeout it was asked to wait on the virtual clock instead."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if self.loop is None:
            return ready
        self.loop.now += TURN  # a turn of the loop is never free
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise RuntimeError("virtual loop: nothing scheduled and nothing ready (a hang)")
        self.loop.now += timeout
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector loop whose ``time()`` is virtual (see the module)."""

    def __init__(self) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        self.now = 0.0
        selector.loop = self

    def time(self) -> float:
        return self.now

    def hog(self, seconds: float) -> None:
        """A CPU-bound step of ``seconds``: nothing else runs meanwhile."""
        self.now += seconds


def run(main: Callable[[VirtualTimeLoop], Awaitable[T]]) -> T:
    """Run ``main(loop)`` to its end on a fresh virtual-time loop (tasks left over are
    cancelled, as `asyncio.run` does)."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        loop = runner.get_loop()
        assert isinstance(loop, VirtualTimeLoop)

        async def start() -> T:
            return await main(loop)

        return runner.run(start())

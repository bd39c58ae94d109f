"""Page plans (pure) and the driver that streams pages in order.

A :class:`PagePlan` decides which pages to ask for next. Talent media tells its ``page_count``
on page 1, so the rest can all be asked at once. Task videos have no total: the last page is
the first short one, so after a full page 1 the plan fetches ahead speculatively, doubling the
window while pages keep coming back full. A one-page answer costs exactly one request; pages
asked past the end are counted as wasted.

:func:`stream_pages` runs a plan against any ``fetch`` coroutine and yields pages in page
order; memory holds at most ``max_ahead`` pages (in flight or waiting for their turn).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence, Sized
from typing import Protocol, TypeVar


class PagePlan:
    """Which pages to request, given what came back so far (pure)."""

    def __init__(self, page_size: int, max_ahead: int, first_page: int = 1) -> None:
        self.page_size = page_size
        self.max_ahead = max(1, max_ahead)
        self.window = 1
        self.first_page = first_page
        self.next_page = first_page
        self.last_page: int | None = None

    def next_pages(self, pending: int) -> list[int]:
        """Pages to request now, given ``pending`` pages requested but not yet handed out."""
        pages: list[int] = []
        while pending + len(pages) < self.window and self.needed(self.next_page):
            pages.append(self.next_page)
            self.next_page += 1
        return pages

    def needed(self, page: int) -> bool:
        """False once ``page`` is known to lie past the end."""
        return self.last_page is None or page <= self.last_page

    def on_page(self, page: int, n_records: int, page_count: int | None = None) -> None:
        """Learn from an answered page: a total, a short page, or a full one."""
        if page_count is not None:
            self.last_page = max(page_count, 1) if self.last_page is None else self.last_page
            self.window = self.max_ahead
        if n_records < self.page_size:
            self.last_page = page if self.last_page is None else min(self.last_page, page)
        elif page_count is None:
            self.window = min(self.window * 2, self.max_ahead)

    @property
    def finished(self) -> bool:
        """True when every needed page has been requested."""
        return self.last_page is not None and self.next_page > self.last_page


class _PageLike(Protocol):
    @property
    def page(self) -> int: ...

    @property
    def records(self) -> Sized: ...


P = TypeVar("P", bound=_PageLike)
T = TypeVar("T")

#: ``fetch(page, still_needed)`` returns the page, or None if it was skipped as not needed.
Fetch = Callable[[int, Callable[[], bool]], Awaitable[P | None]]


class _Ticket:
    """Asks the plan whether a page is still needed and remembers if it was sent."""

    __slots__ = ("page", "plan", "sent")

    def __init__(self, plan: PagePlan, page: int) -> None:
        self.plan = plan
        self.page = page
        self.sent = False

    def __call__(self) -> bool:
        needed = self.plan.needed(self.page)
        self.sent = self.sent or needed
        return needed


async def stream_pages(
    fetch: Fetch[P],
    plan: PagePlan,
    *,
    page_count_of: Callable[[P], int | None] = lambda _: None,
    on_wasted: Callable[[int], None] = lambda _: None,
    raw_count_of: Callable[[P], int] = lambda page: len(page.records),
) -> AsyncGenerator[P, None]:
    """Fetch pages per ``plan`` concurrently and yield them in page order.

    ``fetch`` calls its second argument right before sending; a false answer means the page
    is no longer needed and it should return None without sending. Requests sent for pages
    past the end are reported once, as a count, to ``on_wasted``.

    An error from any page is raised here after the other fetches are cancelled; so is
    leaving early (``break``, ``aclose()``, cancellation): nothing is left running.
    """
    tasks: dict[asyncio.Task[P | None], int] = {}
    tickets: list[_Ticket] = []
    ready: dict[int, P] = {}
    next_out = plan.first_page
    try:
        def launch() -> None:
            for page in plan.next_pages(len(tasks) + len(ready)):
                ticket = _Ticket(plan, page)
                tickets.append(ticket)
                tasks[asyncio.ensure_future(fetch(page, ticket))] = page

        while True:
            launch()
            while next_out in ready:
                yield ready.pop(next_out)
                next_out += 1
                launch()
            if not plan.needed(next_out):
                return
            if not tasks:  # cannot happen with a consistent plan; never end silently
                raise RuntimeError(f"pagination stalled before page {next_out}")
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                page = tasks.pop(task)
                result = task.result()
                if result is None or not plan.needed(page):
                    continue
                plan.on_page(page, raw_count_of(result), page_count_of(result))
                if plan.needed(page):
                    ready[page] = result
                for later in [p for p in ready if not plan.needed(p)]:
                    del ready[later]
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        wasted = sum(1 for t in tickets if t.sent and not plan.needed(t.page))
        if wasted:
            on_wasted(wasted)


async def merge(
    producers: Sequence[Callable[[Callable[[T], Awaitable[None]]], Awaitable[None]]],
    *,
    buffer: int,
) -> AsyncGenerator[T, None]:
    """Run ``producers`` at once and yield what they put, as it comes.

    Each producer is called with an async ``put``; at most ``buffer`` items wait to be taken,
    so producers slow down to the consumer's pace. The first error of any producer is raised
    here; leaving early or an error cancels every producer and waits for them.
    """
    ready: asyncio.Queue[T] = asyncio.Queue(maxsize=max(1, buffer))
    tasks = [asyncio.ensure_future(produce(ready.put)) for produce in producers]
    try:
        while True:
            if not ready.empty():
                yield ready.get_nowait()
                continue
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
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
            if not getter.cancelled():
                yield getter.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

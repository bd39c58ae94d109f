"""Page plans (pure) and the drivers that stream pages in order and merge streams.

A [`PagePlan`][douyin_async.api.pagination.PagePlan] decides which pages to ask for next. Talent
media tells its ``total`` and ``page_count`` on page 1, so the rest can all be asked at once,
and none past the total; no plan asks past its ``max_pages``. Task videos
have no total: the last page is the first short one, so after a full page 1 the plan fetches
ahead speculatively, doubling the window while pages keep coming back full. A one-page answer
costs exactly one request; pages asked past the end are counted as wasted. Which page is the
last is decided by one function,
`is_last_page`, which the pages' ``is_last`` use too.

[`stream_pages`][douyin_async.api.pagination.stream_pages] runs a plan against any ``fetch``
coroutine and yields pages in page order, never quietly short; memory holds at most
``max_ahead`` pages (in flight or waiting for their turn), and the streams of one pull share
one [`PagesAhead`][douyin_async.api.pagination.PagesAhead] bound.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Sized
from typing import Protocol, TypeVar


def known_page_count(value: object) -> int | None:
    """A server's ``page_count`` as a positive int, or None when it tells nothing.

    Missing, 0, negative, a bool, a float (even ``3.0``) or any other type means "unknown".
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


def total_end(total: object, page_size: int) -> int | None:
    """The last page an announced ``total`` gives (page 1 for 0 records), or None when the
    total is not a non-negative int."""
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        return None
    return max(1, -(-total // page_size))


def is_last_page(page: int, raw_count: int, page_size: int, page_count: object = None,
                 total: object = None) -> bool:
    """Whether no page follows ``page``: the one definition of the last page.

    ``raw_count`` counts the records the server sent (refused ones included). An announced
    ``total`` bounds the query: the page that reaches it is the last, full or not, and no
    page past it is asked for (whether the pages held ``total`` records is checked as they
    are read, see [`PageCheck`][douyin_async.api.pagecheck.PageCheck]). Without a total, a
    short page (fewer than ``page_size``) is the last, unless a known ``page_count`` (see
    [`known_page_count`][douyin_async.api.pagination.known_page_count]) says more pages
    follow; and a full page is never the last, whatever ``page_count`` says, so that a wrong
    page count can cost requests but never ends a query quietly short (the number of pages
    is bounded by the plan's ``max_pages``).
    """
    end = total_end(total, page_size)
    if end is not None:
        return page >= end
    if raw_count >= page_size:
        return False
    count = known_page_count(page_count)
    return count is None or page >= count


def trusted_page_count(page: int, raw_count: int, page_size: int,
                       page_count: object, total: object = None) -> int | None:
    """The end a page announces when it can be believed: the end of a known ``total``, else
    a known ``page_count``, beyond ``page``. None otherwise: unknown, or at or before the
    page (which then is the last if it is short, and not believed if it is full)."""
    count = total_end(total, page_size) or known_page_count(page_count)
    if count is None or count <= page:
        return None
    return count


class PagePlan:
    """Which pages to request, given what came back so far (pure)."""

    def __init__(self, page_size: int, max_ahead: int, first_page: int = 1,
                 max_pages: int | None = None) -> None:
        self.page_size = page_size
        #: No page past this one is ever asked for (None: no bound).
        self.max_pages = max_pages
        self.max_ahead = max(1, max_ahead)
        self.window = 1
        self.first_page = first_page
        self.next_page = first_page
        #: The first short page, once seen: nothing after it is needed.
        self.short_page: int | None = None
        #: The end announced by a trusted ``page_count``, until a full page reaches it.
        self.announced: int | None = None
        #: The highest page seen that is not the last: an end at or before it is disproved.
        self.followed = 0

    @property
    def last_page(self) -> int | None:
        """The last page as known now (None: unknown)."""
        ends = [p for p in (self.short_page, self.announced, self.max_pages) if p is not None]
        return min(ends) if ends else None

    def next_pages(self, pending: int, most: int | None = None) -> list[int]:
        """Pages to request now, given ``pending`` pages requested but not yet handed out;
        ``most``: no more than that many."""
        pages: list[int] = []
        while (pending + len(pages) < self.window and self.needed(self.next_page)
               and (most is None or len(pages) < most)):
            pages.append(self.next_page)
            self.next_page += 1
        return pages

    def needed(self, page: int) -> bool:
        """False once ``page`` is known to lie past the end."""
        last = self.last_page
        return last is None or page <= last

    def on_page(self, page: int, raw_count: int, page_count: int | None = None,
                total: int | None = None) -> None:
        """Learn from an answered page: the last page (see
        `is_last_page`) ends the query; another with
        a trusted ``total`` or ``page_count`` tells where it ends; any other widens the
        window."""
        if is_last_page(page, raw_count, self.page_size, page_count, total):
            self.short_page = page if self.short_page is None else min(self.short_page, page)
            return
        self.followed = max(self.followed, page)
        if self.announced is not None and page >= self.announced:
            # Not the last page, yet at the announced end: that total was wrong. Ask again
            # for the pages skipped as past it.
            self.next_page = min(self.next_page, self.announced + 1)
            self.announced = None
        count = trusted_page_count(page, raw_count, self.page_size, page_count, total)
        if count is not None and count > self.followed:  # not disproved by a later page
            self.announced = count if self.announced is None else min(self.announced, count)
            self.window = self.max_ahead
        else:
            self.window = min(self.window * 2, self.max_ahead)

    @property
    def finished(self) -> bool:
        """True when every needed page has been requested."""
        last = self.last_page
        return last is not None and self.next_page > last


class PagesAhead:
    """The pages of one pull not yet taken by its consumer: asked for by its unit streams
    (in flight, waiting as bytes for their turn, being decoded) or handed on by them and
    waiting for the consumer. The streams ask for no more once these reach ``limit()`` (what
    keeps the cap busy), so a pull whose consumer, or whose decoder, is slower than the cap
    holds about one query's pages, not one query's per active query. A stream holding none
    waits until the consumer takes a page or another stream lets one go; a stuck one (its
    answered pages wait for a page not asked for, none in flight) may always ask for one, so
    none waits on a stream that waits."""

    def __init__(self, limit: Callable[[], int]) -> None:
        self.limit = limit
        self.handed = 0
        self._held: dict[int, int] = {}
        self._freed = asyncio.Event()

    def allowed(self, stream: int, holding: int, stuck: bool) -> int:
        """How many more pages the stream ``stream``, holding ``holding``, may ask for now
        (``stuck``: see the class docstring). Fewer than it held (pages failed, or dropped
        past the end) wakes the streams waiting."""
        self.hold(stream, holding)
        free = max(1, self.limit()) - sum(self._held.values()) - self.handed
        return max(free, 1 if stuck else 0)

    def hold(self, stream: int, holding: int) -> None:
        """The stream ``stream`` now holds ``holding`` pages (0 when it ends)."""
        if holding < self._held.get(stream, 0):
            self._freed.set()
        if holding:
            self._held[stream] = holding
        else:
            self._held.pop(stream, None)

    def hand_on(self, stream: int, holding: int) -> None:
        """The stream ``stream`` hands a page on to the consumer, and holds ``holding``."""
        self.handed += 1
        self.hold(stream, holding)

    def taken(self) -> None:
        """The consumer took a page handed on."""
        self.handed = max(0, self.handed - 1)
        self._freed.set()

    async def freed(self) -> None:
        """Wait until the consumer takes a page or a stream holds fewer (it handed one on,
        let one go or ended)."""
        self._freed.clear()
        await self._freed.wait()


class _PageLike(Protocol):
    @property
    def page(self) -> int: ...

    @property
    def records(self) -> Sized: ...


def page_raw_count(page: _PageLike) -> int:
    """Records the server sent for ``page``: ``len(page.records)`` (a caller whose pages
    drop refused records passes a ``raw_count_of`` that counts them)."""
    return len(page.records)


P = TypeVar("P", bound=_PageLike)

#: ``fetch(page, still_needed)`` returns the page, or None if it was skipped as not needed.
Fetch = Callable[[int, Callable[[], bool]], Awaitable[P | None]]


class _Ticket:
    """Asks the plan whether a page is still needed and remembers if it was sent; its
    ``turn`` is set once the page is the next the stream hands on."""

    __slots__ = ("page", "plan", "sent", "turn")

    def __init__(self, plan: PagePlan, page: int) -> None:
        self.plan = plan
        self.page = page
        self.sent = False
        self.turn = asyncio.Event()

    def __call__(self) -> bool:
        needed = self.plan.needed(self.page)
        self.sent = self.sent or needed
        return needed


def turn_of(needed: Callable[[], bool] | None) -> Callable[[], Awaitable[object]] | None:
    """The wait for its turn of the page a ``needed`` of ``stream_pages`` asks about (None:
    not a page of a stream)."""
    return needed.turn.wait if isinstance(needed, _Ticket) else None


async def stream_pages(
    fetch: Fetch[P],
    plan: PagePlan,
    *,
    page_count_of: Callable[[P], int | None] = lambda _: None,
    on_wasted: Callable[[int], None] = lambda _: None,
    raw_count_of: Callable[[P], int] = page_raw_count,
    total_of: Callable[[P], int | None] = lambda _: None,
    admit: Callable[[list[int]], None] = lambda _: None,
    fatal: Callable[[BaseException], bool] = lambda _: False,
    ahead: PagesAhead | None = None,
) -> AsyncGenerator[P, None]:
    """Fetch pages per ``plan`` concurrently and yield them in page order.

    ``fetch`` calls its second argument right before sending; a false answer means the page
    is no longer needed and it should return None without sending. Requests sent for pages
    past the end are reported once, as a count, to ``on_wasted``.

    As soon as the end is known, fetches of pages past it are cancelled, and their answers
    and errors are ignored (counted as wasted when they were sent). The error of a page is
    raised once the page is known to be needed (every page before it answered, none of them
    the last), after the other fetches are cancelled; so is leaving early (``break``,
    ``aclose()``, cancellation): nothing is left running. A fetch that ends cancelled
    although the stream did not cancel it raises `RuntimeError`: its page would be missing.
    ``admit`` is told the pages about to be fetched, before any is; its error ends the
    stream before they are sent. An error for which ``fatal`` is true is raised as soon as
    its page lies within the known end (a page count announced, or a short page seen), not
    after the pages before it: they would be fetched and decoded for nobody. ``ahead``: the
    bound this stream shares with the other streams of its pull.
    """
    tasks: dict[asyncio.Task[P | None], int] = {}
    dropped: set[asyncio.Task[P | None]] = set()
    tickets: list[_Ticket] = []
    turns: deque[_Ticket] = deque()  # tickets of pages not yet next, in page order
    ready: dict[int, P] = {}
    failed: dict[int, BaseException] = {}
    next_out = plan.first_page
    try:
        def launch() -> None:
            holding = len(tasks) + len(ready)
            pages = plan.next_pages(holding, None if ahead is None
                                    else ahead.allowed(id(tickets), holding, stuck=bool(
                                        ready) and not tasks and next_out not in ready))
            if pages:
                admit(pages)
            for page in pages:
                ticket = _Ticket(plan, page)
                tickets.append(ticket)
                turns.append(ticket)
                tasks[asyncio.ensure_future(fetch(page, ticket))] = page
            if ahead is not None:
                ahead.hold(id(tickets), len(tasks) + len(ready))

        def forget_past_the_end() -> None:
            for task, page in list(tasks.items()):
                if not plan.needed(page):
                    del tasks[task]
                    task.cancel()
                    dropped.add(task)
            for task in [t for t in dropped if t.done()]:
                dropped.discard(task)
                if not task.cancelled():
                    task.exception()  # retrieved, and ignored: the page is past the end
            for page in [p for p in (*ready, *failed) if not plan.needed(p)]:
                ready.pop(page, None)
                failed.pop(page, None)

        def settle(done: set[asyncio.Task[P | None]]) -> None:
            # A function of its own, so that no finished task (nor its page) outlives it:
            # a page is held by `ready` until it is yielded, then by its consumer alone.
            for task in done:
                page = tasks.pop(task)
                if task.cancelled():
                    failed[page] = RuntimeError(
                        f"the fetch of page {page} was cancelled from outside the stream")
                    continue
                error = task.exception()
                if not plan.needed(page):
                    continue  # past the end: its answer or error does not matter
                if error is not None:
                    failed[page] = error
                    continue
                result = task.result()
                if result is None:
                    continue
                plan.on_page(page, raw_count_of(result), page_count_of(result),
                             total_of(result))
                if plan.needed(page):
                    ready[page] = result

        def take_turns(upto: int) -> None:
            while turns and turns[0].page <= upto:
                turns.popleft().turn.set()

        while True:
            launch()
            while next_out in ready:
                take_turns(next_out + 1)
                if ahead is not None:
                    ahead.hand_on(id(tickets), len(tasks) + len(ready) - 1)
                yield ready.pop(next_out)
                next_out += 1
                launch()
            take_turns(next_out)
            if not plan.needed(next_out):
                return
            if next_out in failed:  # every page before it answered: this one is needed
                raise failed[next_out]
            if not tasks and not ready and ahead is not None and plan.next_page == next_out:
                await ahead.freed()  # not asked yet: the pull's other streams hold its pages
                continue
            if not tasks:  # cannot happen with a consistent plan; never end silently
                raise RuntimeError(f"pagination stalled before page {next_out}")
            settle((await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED))[0])
            forget_past_the_end()
            last = plan.last_page
            doomed = [p for p, e in failed.items() if fatal(e) and last and p <= last]
            if doomed:
                raise failed[min(doomed)]
    finally:
        if ahead is not None:
            ahead.hold(id(tickets), 0)
        pending = [*tasks, *dropped]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        wasted = sum(1 for t in tickets if t.sent and not plan.needed(t.page))
        if wasted:
            on_wasted(wasted)

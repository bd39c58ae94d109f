"""What one query's pages say of themselves, checked as they are handed out (pure).

A server can answer pages that never end (every page full, the same records each time), an
announced `total` that the pages do not hold, or one that changes under the query. A stream
of pages runs through [`checked_pages`][douyin_async.api.pagecheck.checked_pages], which ends
the query with a typed error instead of running on, repeating itself or ending quietly short:

- a page whose first or last record was the first or last record of an earlier page:
  [`RepeatedPageError`][douyin_async.errors.RepeatedPageError], raised before the page is
  handed out (so nothing is delivered twice);
- a `total` that changes between pages, or pages that deliver more records than it, or,
  once the query ends, fewer:
  [`TotalMismatchError`][douyin_async.errors.TotalMismatchError], naming expected and
  delivered counts and the short pages;
- a query that announces more records than its endpoint can hold, runs past its most pages
  (the plan asks no further), or answers `EMPTY_RUN` empty pages in a row while saying more
  follow: [`PageLimitError`][douyin_async.errors.PageLimitError].

Each page costs two `repr`s and two short digests; memory is two digests per page.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any, TypeVar

from ..errors import PageLimitError, PaginationError, RepeatedPageError, TotalMismatchError
from .pagination import is_last_page, page_raw_count, total_end

E = TypeVar("E", bound=PaginationError)

#: Empty pages in a row, none of them the last, that end a query.
EMPTY_RUN = 3


def max_pages(max_records: int, page_size: int) -> int:
    """The most pages a query of `page_size` needs to hold `max_records` records, and one
    more: the page that shows the end."""
    return -(-max_records // page_size) + 1


def _digest(record: Any) -> bytes:
    return hashlib.blake2b(repr(record).encode(), digest_size=16).digest()


class PageCheck:
    """The checks of one query's pages from `first_page` on, fed in page order.

    `max_records` is the most records a query of the endpoint can hold; `endpoint` names
    the endpoint in errors; `total_of` and `page_count_of` read what a page announces (the
    endpoint row's readers: None where the endpoint announces nothing); `raw_count_of` the
    records the server sent on a page, refused ones included (as
    the stream counts them).
    """

    def __init__(self, *, page_size: int, max_records: int, endpoint: str,
                 first_page: int = 1,
                 total_of: Callable[[Any], int | None] = lambda _: None,
                 page_count_of: Callable[[Any], int | None] = lambda _: None,
                 raw_count_of: Callable[[Any], int] = page_raw_count) -> None:
        self.total_of = total_of
        self.raw_count_of = raw_count_of
        self.page_count_of = page_count_of
        self.page_size = page_size
        self.max_records = max_records
        self.max_pages = max_pages(max_records, page_size)
        self.endpoint = endpoint
        self.first_page = first_page
        #: The `total` the first page that told one announced, and that page.
        self.total: int | None = None
        self.total_page = 0
        #: Records the server sent (refused ones included) on the pages handed out.
        self.delivered = 0
        #: Pages that held fewer than `page_size` records before the last one.
        self.short: list[tuple[int, int]] = []
        self.empty_run: list[int] = []
        self.last: tuple[int, bool, str] | None = None
        self._edges: dict[bytes, int] = {}

    def _expected(self) -> int | None:
        if self.total is None:
            return None
        return max(0, self.total - (self.first_page - 1) * self.page_size)

    def _error(self, cls: type[E], message: str, pages: tuple[int, ...], log_id: str) -> E:
        error = cls(message, http_status=200, endpoint=self.endpoint, log_id=log_id)
        error.pages = pages
        return error

    def _mismatch(self, message: str, page: int, log_id: str) -> TotalMismatchError:
        error = self._error(TotalMismatchError, message,
                            tuple(p for p, _ in self.short) or (page,), log_id)
        error.expected, error.delivered = self._expected(), self.delivered
        return error

    def page(self, item: Any) -> None:
        """Check a page before it is handed out (raises the error it reveals)."""
        page, log_id = item.page, item.log_id
        raw, total = self.raw_count_of(item), self.total_of(item)
        total = total if total_end(total, self.page_size) is not None else None
        if total is not None and self.total is None:
            self.total, self.total_page = total, page
            if total > self.max_records:
                raise self._error(
                    PageLimitError, f"page {page} announces {total:,} records, more than a "
                    f"query of this endpoint can hold ({self.max_records:,})", (page,), log_id)
        elif total is not None and total != self.total:
            raise self._mismatch(f"the announced total changed from {self.total:,} (page "
                                 f"{self.total_page}) to {total:,} (page {page})", page, log_id)
        self._check_repeat(item, page, log_id)
        self.delivered += raw
        expected = self._expected()
        if expected is not None and self.delivered > expected:
            raise self._mismatch(f"page {page} brings the records delivered to "
                                 f"{self.delivered:,}, more than the announced total of "
                                 f"{expected:,}", page, log_id)
        last = is_last_page(page, raw, self.page_size, self.page_count_of(item), self.total)
        if not last and raw < self.page_size:
            self.short.append((page, raw))
        self._check_empty(page, raw, last, log_id)
        self.last = (page, last, log_id)

    def _check_repeat(self, item: Any, page: int, log_id: str) -> None:
        records = item.records
        if not records:
            return
        edges = {_digest(records[0]), _digest(records[-1])}
        earlier = sorted({self._edges[e] for e in edges if e in self._edges})
        if earlier:
            raise self._error(
                RepeatedPageError, f"page {page} repeats records of page {earlier[0]}: the "
                "server answers the same records again, so the query would never end",
                (earlier[0], page), log_id)
        self._edges.update(dict.fromkeys(edges, page))

    def _check_empty(self, page: int, raw: int, last: bool, log_id: str) -> None:
        self.empty_run = [*self.empty_run, page] if raw == 0 and not last else []
        if len(self.empty_run) >= EMPTY_RUN:
            raise self._error(
                PageLimitError, f"pages {self.empty_run[0]}-{page} were empty while the "
                "answers said more would follow", tuple(self.empty_run), log_id)

    def end(self) -> None:
        """Check the query once its last page was handed out."""
        if self.last is None:
            return
        page, last, log_id = self.last
        if not last and page >= self.max_pages:
            raise self._error(
                PageLimitError, f"the query reached page {page}, the most a query of this "
                f"endpoint needs at page size {self.page_size} ({self.max_records:,} records),"
                " and the server still had more", (page,), log_id)
        expected = self._expected()
        if expected is not None and self.delivered != expected:
            shorts = ", ".join(f"{p} ({n} of {self.page_size})" for p, n in self.short[:10])
            where = f"; short pages: {shorts}" if shorts else ""
            raise self._mismatch(
                f"the query delivered {self.delivered:,} records of the {expected:,} its "
                f"total announced (pages {self.first_page}-{page}){where}", page, log_id)


async def checked_pages(pages: AsyncGenerator[Any, None],
                        check: PageCheck) -> AsyncGenerator[Any, None]:
    """`pages`, each checked before it is handed out, and the query checked at its end
    (not when the consumer leaves early). The stream is closed with the generator."""
    async with aclosing(pages) as stream:
        async for page in stream:
            check.page(page)
            yield page
            del page
    check.end()


__all__ = ["EMPTY_RUN", "PageCheck", "checked_pages", "max_pages"]

"""What a sync pulls for a day: the sources of the three tables.

A source turns a day into the client's queries and their pages into
[`Batch`][douyin_async.sync.units.Batch]es of records for the destination; the last batch of
a day says the day is complete (`closes`). A task-video day asks every publish window the API
lets one ask about for that billing date: from the earliest start it allows (90 days back,
less [`START_MARGIN`][douyin_async.sync.units.START_MARGIN]) to the end of the billing day
in Beijing time, cut into 30-day windows as `pull` cuts them, all pulled at once. A bill day
is its video file (and its live-room file with `live`). Talent media has no day to ask for:
the server answers its current data date (`date` of the answer), and the rows carry it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from typing import Any, Protocol

import attrs

from ..client import DouyinClient
from ..days import beijing_moment
from ..errors import InvalidParameterError
from ..models import (
    MAX_START_AGE_SECONDS,
    Query,
    TalentMediaPage,
    TalentMediaQuery,
    TaskVideoQuery,
)
from .tables import BILLS, TALENT_MEDIA, TASK_VIDEOS, Row, SyncTable, row_maker, to_day

#: Seconds between the earliest publish start the API allows (90 days before now) and the
#: start a day's windows ask for: a window's requests must still pass the API's age check
#: while the day is pulled.
START_MARGIN = 300


@attrs.frozen
class Batch:
    """Records of one day, with the context columns they lack (`front`), and the days this
    batch completes."""

    day: dt.date
    front: tuple[Any, ...]
    records: Sequence[Any]
    make: Callable[[tuple[Any, ...], Any], Row]
    closes: tuple[dt.date, ...] = ()

    def rows(self) -> list[Row]:
        """The rows of the records, in table column order."""
        make, front = self.make, self.front
        return [make(front, record) for record in self.records]


Stream = Callable[[], AsyncGenerator[Batch, None]]


class Source(Protocol):
    """The queries of one table and how their pages become rows."""

    @property
    def table(self) -> SyncTable:
        """The table it loads."""
        ...

    @property
    def dated(self) -> bool:
        """Whether the run chooses the days (False: the server's data date, talent
        media)."""
        ...

    def options(self) -> dict[str, Any]:
        """The query options, as the state records them."""
        ...

    def streams(self, client: DouyinClient, days: Sequence[dt.date],
                now: Callable[[], float]) -> list[Stream]:
        """One stream of batches per unit of work (a day), checked before any request."""
        ...

    def requests(self, client: DouyinClient, day: dt.date | None, now: float) -> int:
        """Requests a day needs at least (a dry run's estimate)."""
        ...


@attrs.frozen
class TaskVideoSource:
    """Task videos of billing dates: every video the API lets one ask about."""

    douyin_id: str | None = None
    agency_client_key: str | None = None
    page_size: int = 10_000
    table: SyncTable = TASK_VIDEOS
    dated: bool = True

    def options(self) -> dict[str, Any]:
        return {"douyin_id": self.douyin_id, "agency_client_key": self.agency_client_key}

    def query(self, day: dt.date, now: float) -> TaskVideoQuery:
        """The query of one billing date at `now`: the whole publish range the API allows."""
        start = math.ceil(now) - MAX_START_AGE_SECONDS + START_MARGIN
        end = int(beijing_moment(day + dt.timedelta(days=1)).timestamp()) - 1
        if end < start:
            raise InvalidParameterError(
                f"billing date {day} ended more than 90 days ago: the API no longer lets one "
                "ask for any video of it")
        return TaskVideoQuery(billing_date=day, video_publish_start_time=start,
                              video_publish_end_time=end, douyin_id=self.douyin_id,
                              agency_client_key=self.agency_client_key,
                              page_size=self.page_size)

    def windows(self, client: DouyinClient, day: dt.date, now: float) -> list[Query]:
        """The API-sized windows of a billing date."""
        return client.units([self.query(day, now)])

    def streams(self, client: DouyinClient, days: Sequence[dt.date],
                now: Callable[[], float]) -> list[Stream]:
        for day in days:
            self.windows(client, day, now())
        make = row_maker(TASK_VIDEOS, 1)

        def stream(day: dt.date) -> Stream:
            async def batches() -> AsyncGenerator[Batch, None]:
                units = self.windows(client, day, now())  # the age rule, when it starts
                async with aclosing(client.pull(units)) as pages:
                    async for page in pages:
                        yield Batch(day, (day,), page.records, make)
                yield Batch(day, (day,), (), make, (day,))

            return batches

        return [stream(day) for day in days]

    def requests(self, client: DouyinClient, day: dt.date | None, now: float) -> int:
        assert day is not None
        return len(self.windows(client, day, now))


@attrs.frozen
class TalentMediaSource:
    """Talent media of one plan and its talents, at the server's current data date."""

    plan_id: int
    douyin_ids: tuple[str, ...]
    content_type: int = 3
    page_size: int = 100
    table: SyncTable = TALENT_MEDIA
    dated: bool = False

    def options(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "douyin_ids": sorted(self.douyin_ids),
                "content_type": self.content_type}

    def queries(self) -> list[Query]:
        """One query per talent."""
        return [TalentMediaQuery(plan_id=self.plan_id, douyin_id=d,
                                 content_type=self.content_type, page_size=self.page_size)
                for d in self.douyin_ids]

    def streams(self, client: DouyinClient, days: Sequence[dt.date],
                now: Callable[[], float]) -> list[Stream]:
        queries = client.units(self.queries())
        make = row_maker(TALENT_MEDIA, 3)

        async def batches() -> AsyncGenerator[Batch, None]:
            seen: list[dt.date] = []
            async with aclosing(client.pull(queries)) as pages:
                async for page in pages:
                    assert isinstance(page, TalentMediaPage)
                    if not page.date:
                        raise InvalidParameterError(
                            "a talent-media answer carries no data date; its rows cannot be "
                            "placed in a day")
                    day = to_day(page.date)
                    if day not in seen:
                        seen.append(day)
                    q = page.query
                    assert isinstance(q, TalentMediaQuery)
                    yield Batch(day, (day, q.plan_id, q.douyin_id), page.records, make)
            for day in seen:
                yield Batch(day, (), (), make, (day,))

        return [batches]

    def requests(self, client: DouyinClient, day: dt.date | None, now: float) -> int:
        return len(self.douyin_ids)


@attrs.frozen
class BillSource:
    """Bill files of settlement dates: the video file, and the live-room one with `live`."""

    agency: bool = False
    live: bool = False
    batch_rows: int = 5000
    table: SyncTable = BILLS
    dated: bool = True

    def options(self) -> dict[str, Any]:
        return {"agency": self.agency, "live": self.live}

    @property
    def kinds(self) -> tuple[str, ...]:
        """The files of a day."""
        return ("video", "live") if self.live else ("video",)

    def streams(self, client: DouyinClient, days: Sequence[dt.date],
                now: Callable[[], float]) -> list[Stream]:
        from ..bills.links import bill_date_of

        for day in days:
            bill_date_of(day, now())
        make = row_maker(BILLS, 2)

        def stream(day: dt.date) -> Stream:
            async def batches() -> AsyncGenerator[Batch, None]:
                for kind in self.kinds:
                    files = client.bill_batches(day, agency=self.agency, kind=kind,  # type: ignore[arg-type]
                                                batch_rows=self.batch_rows)
                    async with aclosing(files) as batches:
                        async for batch in batches:
                            yield Batch(day, (day, kind), batch.records, make)
                yield Batch(day, (day,), (), make, (day,))

            return batches

        return [stream(day) for day in days]

    def requests(self, client: DouyinClient, day: dt.date | None, now: float) -> int:
        return 1


__all__ = ["START_MARGIN", "Batch", "BillSource", "Source", "Stream", "TalentMediaSource",
           "TaskVideoSource"]

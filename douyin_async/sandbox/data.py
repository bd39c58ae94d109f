"""Ground truth: the complete, ordered record sets the sandbox serves, for tests to compare with.

Everything here is a pure function of the configuration (no clock, no request state), so two
sandboxes with the same seed and data knobs return the same records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from .bills import BillFile, BillFiles, BillKind
from .config import SandboxConfig
from .talentmedia import TalentMediaPopulation
from .taskvideos import TaskVideoPopulation


def parse_billing_date(value: str) -> dt.date:
    """A ``YYYY-MM-DD`` string as a date; ValueError for any other form."""
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise ValueError(f"billing_date must be YYYY-MM-DD, got {value!r}")
    return dt.date.fromisoformat(value)


class SandboxData:
    """The records behind both data endpoints, in wire form and server order.

    Task-video windows are inclusive at both ends; ``douyin_id`` restricts to one author
    (an unknown id matches nothing) and ``agency_client_key`` to that agency's authors (author
    ``a`` belongs to ``agency_keys[a % len(agency_keys)]``; an unknown key matches nothing).
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.task_video_population = TaskVideoPopulation(self.config)
        self.talent_media_population = TalentMediaPopulation(self.config)
        self.bill_files = BillFiles(self.config, self.task_video_population.douyin_ids)

    @property
    def douyin_ids(self) -> tuple[str, ...]:
        """The douyin ids of the author pool (index = author number)."""
        return self.task_video_population.douyin_ids

    @property
    def agency_keys(self) -> tuple[str, ...]:
        """The agency client keys the task-video endpoint knows."""
        return self.config.agency_keys

    def task_videos(
        self, billing_date: str, start: int, end: int,
        douyin_id: str | None = None, agency_client_key: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every record of a task-video query, in server order."""
        pop = self.task_video_population
        for video, date in self._videos(billing_date, start, end, douyin_id, agency_client_key):
            yield pop.record(video, date)

    def expected_task_videos(
        self, billing_date: str, start: int, end: int,
        douyin_id: str | None = None, agency_client_key: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every record of a task-video query in the client's terms, in server order.

        Each is a dict of the record's fields by snake_case name, as a correct client decodes
        them in either profile: counters the server left out or sent as null are 0, a missing
        or null ``client_name`` / ``date`` is None, ``publish_time`` is an aware UTC datetime,
        ``date`` a ``datetime.date``, and ``extra`` maps the keys the client does not know
        (spelled as sent) to their values. ``VideoDailyData(**record)`` builds the expected
        record.
        """
        pop = self.task_video_population
        for video, date in self._videos(billing_date, start, end, douyin_id, agency_client_key):
            yield pop.expected(video, date)

    def _videos(self, billing_date: str, start: int, end: int, douyin_id: str | None,
                agency_client_key: str | None) -> Iterator[tuple[Any, dt.date]]:
        pop = self.task_video_population
        date = parse_billing_date(billing_date)
        flt = pop.resolve(douyin_id, agency_client_key)
        for video in pop.videos(date, start, end, flt):
            yield video, date

    def count_task_videos(
        self, billing_date: str, start: int, end: int,
        douyin_id: str | None = None, agency_client_key: str | None = None,
    ) -> int:
        """How many records a task-video query has (cheap: nothing is generated)."""
        pop = self.task_video_population
        flt = pop.resolve(douyin_id, agency_client_key)
        return pop.count(parse_billing_date(billing_date), start, end, flt)

    def task_video_page(
        self, billing_date: str, start: int, end: int,
        douyin_id: str | None = None, agency_client_key: str | None = None,
        page_num: int = 1, page_size: int | None = None,
    ) -> list[dict[str, Any]]:
        """One page of a task-video query (``page_size=None``: everything)."""
        pop = self.task_video_population
        date = parse_billing_date(billing_date)
        flt = pop.resolve(douyin_id, agency_client_key)
        offset = 0 if page_size is None else (page_num - 1) * page_size
        videos = pop.videos(date, start, end, flt, offset, page_size)
        return [pop.record(v, date) for v in videos]

    def talent_media(
        self, plan_id: int, douyin_id: str, content_type: int
    ) -> Iterator[dict[str, Any]]:
        """Every record of a talent-media query, in server order (plan permission ignored)."""
        return self.talent_media_population.records(plan_id, douyin_id, content_type)

    def expected_talent_media(
        self, plan_id: int, douyin_id: str, content_type: int
    ) -> Iterator[dict[str, Any]]:
        """Every record of a talent-media query in the client's terms (known fields by name,
        ``extra`` for the rest): ``TalentMedia(**record)`` builds the expected record."""
        pop = self.talent_media_population
        for record in pop.records(plan_id, douyin_id, content_type):
            yield pop.expected(record)

    def count_talent_media(self, plan_id: int, douyin_id: str, content_type: int) -> int:
        """The ``total`` the talent-media endpoint answers for this query."""
        return self.talent_media_population.count(plan_id, douyin_id, content_type)

    def talent_media_page(
        self, plan_id: int, douyin_id: str, content_type: int, page_no: int, page_size: int
    ) -> list[dict[str, Any]]:
        """One page of a talent-media query."""
        pop = self.talent_media_population
        return list(pop.records(plan_id, douyin_id, content_type,
                                (page_no - 1) * page_size, page_size))

    def plan_allowed(self, plan_id: int) -> bool:
        """Whether the app may query this plan."""
        return self.talent_media_population.plan_allowed(plan_id)

    # -- bill files --------------------------------------------------------------------

    def bill_file(self, bill_date: str | dt.date, agency: bool = False,
                  kind: BillKind = "video") -> BillFile:
        """The layout of one bill file: rows, encoding, header bytes, row length, size."""
        date = parse_billing_date(bill_date) if isinstance(bill_date, str) else bill_date
        return self.bill_files.file(date, agency, kind)

    def bill_rows(
        self, bill_date: str | dt.date, *, agency: bool = False, kind: BillKind = "video",
        decoded: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every row of a bill file, in file order, as a dict of header -> cell text.

        ``decoded=True`` gives values instead: ints for ids, counts and money (fen), a
        ``datetime.date`` for 账单统计日期, aware Beijing-time datetimes for the two time
        columns, text for the rest. Generated lazily: a file of millions of rows is fine.
        """
        return self.bill_files.rows(self.bill_file(bill_date, agency, kind), decoded)

    def bill_bytes(
        self, bill_date: str | dt.date, *, agency: bool = False, kind: BillKind = "video",
        start: int = 0, stop: int | None = None,
    ) -> bytes:
        """The bytes ``[start, stop)`` of a bill file, exactly as the file host serves them."""
        f = self.bill_file(bill_date, agency, kind)
        return b"".join(self.bill_files.read(f, start, stop))

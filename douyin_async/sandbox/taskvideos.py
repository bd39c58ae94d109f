"""The virtual population behind the task-video endpoint, generated lazily.

Unix hour ``h`` holds ``n(h)`` videos (uniform in ``0 .. 2 * videos_per_hour``, from a hash of
the seed and ``h``). Video ``i`` of that hour gets its publish second, task and title from a hash
of ``(h, i)``; its author is ``(base(h) + i * step) % authors`` with ``step`` coprime to the pool
size, so the videos of one author (or of one agency) in an hour are the indices ``i`` of one
residue class and can be counted without generating them.

A query covers the videos whose ``PublishTime`` lies in ``[start, end]`` (both inclusive),
ordered by ``(PublishTime, VideoId)``. ``VideoId`` is ``PublishTime << 32`` plus hash bits plus
``2 * i + 1``: unique, odd, above 2**53 and increasing with the publish time, like the real ids.
A page is located with per-hour counts and only its own slice is generated. Metrics of a
(video, billing date) pair come from a hash of both.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import attrs

from ..days import BEIJING
from .config import SandboxConfig
from .hashing import Hasher, split
from .names import (
    APP_TITLES,
    EXTRA_VIDEO_KEY,
    NICK_HEADS,
    NICK_TAILS,
    PASCAL_KEYS,
    SNAKE_KEYS,
    TITLE_HEADS,
    TITLE_TAILS,
)
from .realism import RealisticVideos, expected_fields

HOUR = 3600
_HOUR_CACHE_LIMIT = 200_000
_TASK_EPOCH = 1_690_000_000

# A video: (video_id, publish_time, author, task, title_bits, mid)
Video = tuple[int, int, int, int, int, int]


@attrs.frozen
class VideoFilter:
    """The optional filters of a query, resolved against the author pool.

    ``author`` / ``agency`` are pool indices; ``empty`` means no video can match (an unknown
    douyin id or agency key, or an author outside the agency).
    """

    author: int | None = None
    agency: int | None = None
    empty: bool = False


class TaskVideoPopulation:
    """Lazily generated task videos and their daily metrics."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._hash = Hasher(config.seed, "task-videos")
        self._keys = PASCAL_KEYS if config.key_style == "pascal" else SNAKE_KEYS
        self._extra_key = EXTRA_VIDEO_KEY[config.key_style] if config.extra_fields else None
        self._realism = RealisticVideos(config.seed) if config.realistic else None
        self._span = 2 * config.videos_per_hour + 1
        n_authors = config.authors
        step = 7919
        while math.gcd(step, n_authors) != 1:
            step += 1
        self._step = step
        self._n_agencies = len(config.agency_keys)
        self._inv_step_authors = pow(step, -1, n_authors) if n_authors > 1 else 0
        self._inv_step_agencies = pow(step, -1, self._n_agencies) if self._n_agencies > 1 else 0
        self.douyin_ids: tuple[str, ...] = self._make_douyin_ids(n_authors)
        self._author_of_id = {d: a for a, d in enumerate(self.douyin_ids)}
        self._nicknames = tuple(self._nickname(a) for a in range(n_authors))
        self._client_names = tuple(f"撮合网站应用{j:03d}" for j in range(self._n_agencies))
        self._tasks = tuple(self._task(t) for t in range(config.tasks))
        self._hours: dict[int, tuple[int, int]] = {}

    # -- pools -------------------------------------------------------------------------

    def _make_douyin_ids(self, count: int) -> tuple[str, ...]:
        seen: set[str] = set()
        out = []
        for a in range(count):
            value = 10_000_000_000 + self._hash.bits("author", a) % 89_999_999_999
            while str(value) in seen:
                value += 1
            seen.add(str(value))
            out.append(str(value))
        return tuple(out)

    def _nickname(self, author: int) -> str:
        x, y = split(self._hash.bits("nick", author), 16, 16)
        return f"{NICK_HEADS[x % len(NICK_HEADS)]}{NICK_TAILS[y % len(NICK_TAILS)]}{author}"

    def _task(self, task: int) -> tuple[int, str, str]:
        noise, app = split(self._hash.bits("task", task), 31, 16)
        task_id = ((_TASK_EPOCH + task * 86_400) << 32) | (noise << 1) | 1
        return task_id, f"小程序推广任务{task:02d}", APP_TITLES[app % len(APP_TITLES)]

    def author_of(self, douyin_id: str) -> int | None:
        """The pool index of a douyin id, or None when no generated author has it."""
        return self._author_of_id.get(douyin_id)

    def agency_of(self, agency_client_key: str) -> int | None:
        """The index of an agency key, or None when it is not one of ``agency_keys``."""
        keys = self.config.agency_keys
        return keys.index(agency_client_key) if agency_client_key in keys else None

    def resolve(self, douyin_id: str | None, agency_client_key: str | None) -> VideoFilter:
        """The filter for a query's optional fields (empty strings mean "not given")."""
        author = agency = None
        if douyin_id:
            author = self.author_of(douyin_id)
            if author is None:
                return VideoFilter(empty=True)
        if agency_client_key:
            agency = self.agency_of(agency_client_key)
            if agency is None:
                return VideoFilter(empty=True)
        if author is not None and agency is not None and author % self._n_agencies != agency:
            return VideoFilter(empty=True)
        return VideoFilter(author=author, agency=agency)

    # -- hours -------------------------------------------------------------------------

    def _hour(self, hour: int) -> tuple[int, int]:
        """``(n(h), base(h))``: how many videos the hour holds and its author offset."""
        cached = self._hours.get(hour)
        if cached is None:
            x, y = split(self._hash.bits("hour", hour), 32, 32)
            cached = (x % self._span, y % self.config.authors)
            if len(self._hours) >= _HOUR_CACHE_LIMIT:
                self._hours.clear()
            self._hours[hour] = cached
        return cached

    def _indices(self, hour: int, flt: VideoFilter) -> range:
        """The video indices of ``hour`` that pass the author/agency filter."""
        n, base = self._hour(hour)
        if flt.author is not None:
            r = (flt.author - base) * self._inv_step_authors % self.config.authors
            return range(r, n, self.config.authors)
        if flt.agency is not None:
            r = (flt.agency - base) * self._inv_step_agencies % self._n_agencies
            return range(r, n, self._n_agencies)
        return range(n)

    def _video(self, hour: int, i: int, base: int) -> Video:
        b = self._hash.pair(1, hour, i)
        sec = (b & 0xFFFF) % HOUR
        publish = hour * HOUR + sec
        video_id = (publish << 32) | (((b >> 16) & 0xFFFFF) << 12) | (i << 1) | 1
        author = (base + i * self._step) % self.config.authors
        task = ((b >> 36) & 0xFFFF) % self.config.tasks
        mid = ((publish + 60 + sec % 600) << 32) | ((b >> 68) & 0xFFFFFFFF)
        return video_id, publish, author, task, (b >> 52) & 0xFFFF, mid

    def _hour_videos(self, hour: int, flt: VideoFilter, start: int, end: int) -> list[Video]:
        _, base = self._hour(hour)
        videos = [self._video(hour, i, base) for i in self._indices(hour, flt)]
        if hour * HOUR < start or hour * HOUR + HOUR - 1 > end:
            videos = [v for v in videos if start <= v[1] <= end]
        videos.sort()
        return videos

    # -- queries -----------------------------------------------------------------------

    def _bounds(self, billing_date: dt.date, start: int, end: int) -> tuple[int, int]:
        if self.config.published_before_billing_only:
            cutoff = dt.datetime.combine(billing_date + dt.timedelta(days=1), dt.time(),
                                         tzinfo=BEIJING)
            end = min(end, int(cutoff.timestamp()) - 1)
        return max(start, 0), end

    def count(self, billing_date: dt.date, start: int, end: int, flt: VideoFilter) -> int:
        """How many videos a query covers."""
        return sum(c for _, c, _ in self._hour_counts(billing_date, start, end, flt))

    def _hour_counts(
        self, billing_date: dt.date, start: int, end: int, flt: VideoFilter
    ) -> Iterator[tuple[int, int, list[Video] | None]]:
        """``(hour, count, videos or None)`` for each hour of the window, in order."""
        start, end = self._bounds(billing_date, start, end)
        if flt.empty or end < start:
            return
        first, last = start // HOUR, end // HOUR
        for hour in range(first, last + 1):
            if hour in (first, last):
                videos = self._hour_videos(hour, flt, start, end)
                yield hour, len(videos), videos
            else:
                yield hour, len(self._indices(hour, flt)), None

    def videos(
        self, billing_date: dt.date, start: int, end: int, flt: VideoFilter,
        offset: int = 0, limit: int | None = None,
    ) -> Iterator[Video]:
        """The covered videos in server order, from ``offset``, at most ``limit`` of them."""
        start_b, end_b = self._bounds(billing_date, start, end)
        remaining = limit
        skip = offset
        for hour, count, videos in self._hour_counts(billing_date, start, end, flt):
            if remaining is not None and remaining <= 0:
                return
            if skip >= count:
                skip -= count
                continue
            if videos is None:
                videos = self._hour_videos(hour, flt, start_b, end_b)
            stop = len(videos) if remaining is None else min(len(videos), skip + remaining)
            yield from videos[skip:stop]
            if remaining is not None:
                remaining -= stop - skip
            skip = 0

    def values(self, video: Video, billing_date: dt.date) -> tuple[Any, ...]:
        """One video's data for one billing date, position for position with ``SNAKE_KEYS``."""
        video_id, publish, author, task, title, mid = video
        task_id, task_name, app_title = self._tasks[task]
        m = self._hash.pair(2, video_id, billing_date.toordinal())
        if m & 0xFF < 90:
            active = gmv = refund = billing_gmv = billing_refund_gmv = 0
            ad_cost = feed_cost = profit = 0
        else:
            active = ((m >> 8) & 0xFFFF) % 5000
            gmv = ((m >> 24) & 0x3FF) * ((m >> 34) & 0x3FF) * 3
            refund = gmv * ((m >> 44) & 0x1F) // 100
            billing_gmv = gmv - gmv * ((m >> 49) & 0x7) // 100
            billing_refund_gmv = refund * ((m >> 52) & 0x3F) // 63
            ad_cost = ((m >> 58) & 0xFFFF) % 50_000
            feed_cost = ad_cost * ((m >> 74) & 0x3F) // 63
            share = 5 + ((m >> 80) & 0xF)
            profit = (billing_gmv - billing_refund_gmv) * share // 100 + ad_cost // 2
        agency = author % self._n_agencies
        title_text = (TITLE_HEADS[title % len(TITLE_HEADS)]
                      + TITLE_TAILS[(title >> 8) % len(TITLE_TAILS)])
        return (
            active, ad_cost, self._nicknames[author], billing_gmv, billing_refund_gmv,
            self._client_names[agency], feed_cost, self.douyin_ids[author], profit, gmv,
            app_title, publish, refund, task_id, task_name, video_id,
            f"https://www.iesdouyin.com/share/video/{video_id}/?region=CN&mid={mid}",
            title_text, billing_date.isoformat(),
        )

    def record(self, video: Video, billing_date: dt.date) -> dict[str, Any]:
        """The wire form of one video's data for one billing date."""
        values = self.values(video, billing_date)
        if self._realism is not None:
            return self._realism.render(values, video[1], billing_date)
        out = dict(zip(self._keys, values, strict=True))
        if self._extra_key is not None:
            out[self._extra_key] = values[8] * 3 // 10
        return out

    def expected(self, video: Video, billing_date: dt.date) -> dict[str, Any]:
        """One record in the client's terms (see ``douyin_async.sandbox.realism.expected``)."""
        values = self.values(video, billing_date)
        if self._realism is not None:
            return self._realism.expected(values, video[1], billing_date)
        extra = {} if self._extra_key is None else {self._extra_key: values[8] * 3 // 10}
        return expected_fields(values, extra)

"""Dates and times of the command line, absolute or relative, checked in the user's terms.

Every function is pure: the current time comes in as ``now`` (unix seconds), read once when
the command starts, so ``--billing-date yesterday`` and ``--published-from -30d`` mean the
same instant for the whole run. Days are Beijing days (UTC+8, the platform's calendar, see
[`douyin_async.days`][douyin_async.days]): a job at 07:30 in Beijing (23:30 UTC the day
before) means by ``yesterday`` the same day as at 09:00.

- ``YYYY-MM-DD``; ``today``; ``yesterday``; ``-Nd`` (N days before today);
- for ``--billing-date`` a date or an inclusive range of two of them (``-7d..-1d``);
- for ``--published-from`` / ``--published-to`` also unix seconds or an ISO datetime with an
  offset; a day means 00:00:00 Beijing time, or 23:59:59 for ``--published-to``.

Messages name the option and show dates, never API field names or unix seconds.
"""

from __future__ import annotations

import datetime as dt
import re

from ..days import BEIJING, beijing_day, beijing_moment
from ..models import MAX_START_AGE_SECONDS
from .exits import USAGE, CliError

_UNIX = re.compile(r"^\d{1,12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RELATIVE = re.compile(r"^-(\d{1,4})d$")
#: Longest billing-date range one command accepts.
MAX_BILLING_DAYS = 366
DAY_FORMS = "YYYY-MM-DD, today, yesterday or -Nd"


def parse_day(text: str, option: str, today: dt.date) -> dt.date:
    """A day from ``YYYY-MM-DD``, ``today``, ``yesterday`` or ``-Nd``."""
    text = text.strip()
    if text == "today":
        return today
    if text == "yesterday":
        return today - dt.timedelta(days=1)
    relative = _RELATIVE.match(text)
    if relative:
        return today - dt.timedelta(days=int(relative[1]))
    if _DATE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise CliError(f"{option} {text}: {exc}", USAGE) from None
    raise CliError(f"{option} {text!r}: expected {DAY_FORMS}", USAGE)


def _is_day(text: str) -> bool:
    return text in ("today", "yesterday") or bool(_RELATIVE.match(text) or _DATE.match(text))


def parse_billing_dates(text: str, now: float, option: str = "--billing-date"
                        ) -> list[dt.date]:
    """A day or an inclusive range ``A..B`` of Beijing days, as a list of dates; none in the
    future (of the platform's day, UTC+8). ``option`` names the value in messages."""
    first, sep, last = (part.strip() for part in text.partition(".."))
    if not first or (sep and not last):
        raise CliError(f"{option} {text!r}: expected a day or a range A..B of days "
                       f"({DAY_FORMS})", USAGE)
    today = beijing_day(now)
    start = parse_day(first, option, today)
    end = parse_day(last, option, today) if sep else start
    shown = text if text == _range(start, end) else f"{text} ({_range(start, end)})"
    if end < start:
        raise CliError(f"{option} {shown}: the range ends before it starts", USAGE)
    days = (end - start).days + 1
    if days > MAX_BILLING_DAYS:
        raise CliError(f"{option} {shown}: {days} days; at most {MAX_BILLING_DAYS}", USAGE)
    if end > today:
        raise CliError(f"{option} {shown} is in the future (today on the platform, "
                       f"UTC+8: {today})", USAGE)
    return [start + dt.timedelta(days=i) for i in range(days)]


def _range(start: dt.date, end: dt.date) -> str:
    return start.isoformat() if start == end else f"{start}..{end}"


def parse_time(text: str, option: str, now: float, *, end_of_day: bool = False) -> int:
    """Unix seconds from unix seconds, a Beijing day (see
    [`parse_day`][douyin_async.cli.dates.parse_day]) or an ISO datetime with an offset.

    A day means 00:00:00 Beijing time, or 23:59:59 with ``end_of_day``.
    """
    text = text.strip()
    if _UNIX.match(text):
        return int(text)
    if _is_day(text):
        day = parse_day(text, option, beijing_day(now))
        return int(beijing_moment(day, dt.time(23, 59, 59) if end_of_day else dt.time())
                   .timestamp())
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option} {text!r}: expected {DAY_FORMS}, unix seconds or an ISO "
                       "datetime with an offset", USAGE) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CliError(f"{option} {text!r}: a datetime needs an offset, e.g. +08:00 or Z", USAGE)
    return int(moment.timestamp())


def show_time(seconds: int, as_given: str) -> str:
    """``seconds`` as a user reads it: a Beijing date when the option was given as a day (or
    it is midnight in Beijing), an ISO datetime in UTC otherwise."""
    moment = dt.datetime.fromtimestamp(seconds, BEIJING)
    if _is_day(as_given.strip()) or moment.time() == dt.time():
        return moment.date().isoformat()
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _given(text: str, seconds: int) -> str:
    shown = show_time(seconds, text)
    return text if text.strip() == shown else f"{text} ({shown})"


def check_window(start: int, end: int, from_text: str, to_text: str, now: float, *,
                 check_age: bool = True) -> None:
    """Refuse a publish window that ends before it starts, starts in the future, or (with
    `check_age`) starts more than 90 days ago (the API keeps 90 days; the first whole day
    within them is told as a Beijing day). A resumed pull checks the age of its unfinished
    units only, later."""
    if end < start:
        raise CliError(f"--published-to {_given(to_text, end)} is before --published-from "
                       f"{_given(from_text, start)}", USAGE)
    if start > now:
        raise CliError(f"--published-from {_given(from_text, start)} is in the future", USAGE)
    oldest = int(now) - MAX_START_AGE_SECONDS
    if check_age and start < oldest:
        day_limit = dt.datetime.fromtimestamp(oldest, BEIJING)
        if _is_day(from_text.strip()) and day_limit.time() != dt.time():
            limit = (day_limit.date() + dt.timedelta(days=1)).isoformat()  # first whole day
        else:
            limit = show_time(oldest, from_text)
        raise CliError(f"--published-from {_given(from_text, start)} is more than 90 days ago "
                       f"(limit: {limit})", USAGE)

"""Beijing days: the platform's calendar.

Billing dates, bill dates, talent-media `date`s and the API's "today" are days of Beijing
time (Asia/Shanghai). China has kept UTC+8 without daylight saving since 1991, so a fixed
offset is exact for every date the platform serves. Every rule that turns a moment into a
day goes through this module.
"""

from __future__ import annotations

import datetime as dt
import time

#: Beijing time, a fixed-offset `tzinfo` named "Asia/Shanghai".
BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def beijing_day(now: float | None = None) -> dt.date:
    """The Beijing day at `now` (unix seconds; the current time when omitted)."""
    return dt.datetime.fromtimestamp(time.time() if now is None else now, BEIJING).date()


def beijing_moment(day: dt.date, clock: dt.time = dt.time(0)) -> dt.datetime:
    """`day` at `clock` o'clock, Beijing time."""
    return dt.datetime.combine(day, clock, BEIJING)


__all__ = ["BEIJING", "beijing_day", "beijing_moment"]

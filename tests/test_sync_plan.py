"""The days a sync loads: the one rule of `plan_days`, on values alone."""

from __future__ import annotations

import datetime as dt

import pytest

from douyin_async.sync.errors import StateConflictError
from douyin_async.sync.state import DayEntry, SyncState, day_range, differences, plan_days

D = dt.date(2026, 12, 6)


def _state(*days: dt.date, at: str = "2026-12-01T00:00:00+00:00",
           pending: dict[str, str] | None = None) -> SyncState:
    return SyncState("task_videos", {"douyin_id": None}, "s", "a",
                     {d: DayEntry(at, 1) for d in days}, pending)


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def test_a_daily_run_loads_the_new_days_and_looks_back() -> None:
    state = _state(*day_range(D - _days(9), D - _days(2)))
    plan = plan_days(state, yesterday=D, since=None, until=None, lookback=3, started="x")
    assert plan.new == (D - _days(1), D)
    assert plan.again == (D - _days(4), D - _days(3), D - _days(2))
    assert plan.days == day_range(D - _days(4), D) and plan.backfill is None


def test_nothing_new_loads_nothing_and_no_lookback_loads_only_new_days() -> None:
    state = _state(*day_range(D - _days(3), D))
    assert plan_days(state, yesterday=D, since=None, until=None, lookback=3,
                     started="x").days == []
    state = _state(D - _days(1))
    assert plan_days(state, yesterday=D, since=None, until=None, lookback=0,
                     started="x").days == [D]


def test_the_first_sync_needs_a_start_and_no_day_may_be_unfinished() -> None:
    with pytest.raises(StateConflictError, match="needs --since"):
        plan_days(None, yesterday=D, since=None, until=None, lookback=3, started="x")
    with pytest.raises(StateConflictError, match="before --since"):
        plan_days(None, yesterday=D, since=D, until=D - _days(1), lookback=3, started="x")
    with pytest.raises(StateConflictError, match=f"{D + _days(1)} is not over yet"):
        plan_days(None, yesterday=D, since=D + _days(1), until=None, lookback=3, started="x")


def test_a_backfill_again_skips_only_what_its_stopped_run_loaded() -> None:
    pending = {"since": (D - _days(4)).isoformat(), "until": D.isoformat(),
               "started": "2026-12-07T01:00:00+00:00"}
    state = _state(D - _days(4), D - _days(3), at="2026-12-07T01:05:00+00:00",
                   pending=pending)
    state.days[D] = DayEntry("2026-11-30T00:00:00+00:00", 5)  # loaded long before
    plan = plan_days(state, yesterday=D, since=D - _days(4), until=D, lookback=3,
                     started="2026-12-07T02:00:00+00:00")
    assert plan.days == [D - _days(2), D - _days(1), D]
    assert plan.backfill == pending  # the stopped run's start is kept
    other = plan_days(state, yesterday=D, since=D - _days(4), until=D - _days(3), lookback=3,
                      started="2026-12-07T02:00:00+00:00")
    assert other.days == [D - _days(4), D - _days(3)]  # another backfill redoes its days


def test_differences_name_each_option_server_and_app() -> None:
    state = _state()
    found = differences(state, {"douyin_id": "x"}, "t", "a")
    assert found == ["douyin_id: None then, 'x' now", "server: 's' then, 't' now"]

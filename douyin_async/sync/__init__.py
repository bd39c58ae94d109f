"""Daily loads of the promotion data into PostgreSQL, Parquet or SQLite.

A day is the unit: each run loads the days after the last one loaded up to yesterday
(Beijing time), loads the last few again (late data), and replaces every day it loads in one
step. See [`SyncRun`][douyin_async.sync.runner.SyncRun], the sources in
[`units`][douyin_async.sync.units], the tables in [`tables`][douyin_async.sync.tables] and
the destinations in [`destination`][douyin_async.sync.destination], by URL with
[`open_destination`][douyin_async.sync.urls.open_destination].
"""

from __future__ import annotations

from .destination import Destination
from .errors import DestinationError, StateConflictError, SyncError, SyncLockedError
from .runner import SyncPlan, SyncReport, SyncRun
from .state import SyncState
from .tables import BILLS, TALENT_MEDIA, TASK_VIDEOS, SyncTable
from .units import BillSource, TalentMediaSource, TaskVideoSource
from .urls import open_destination

__all__ = ["BILLS", "TALENT_MEDIA", "TASK_VIDEOS", "BillSource", "Destination",
           "DestinationError", "StateConflictError", "SyncError", "SyncLockedError",
           "SyncPlan", "SyncReport", "SyncRun", "SyncState", "SyncTable", "TalentMediaSource",
           "TaskVideoSource", "open_destination"]

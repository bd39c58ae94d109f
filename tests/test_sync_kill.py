"""A sync killed with SIGKILL at fixed-seed moments, then run again: every table ends equal to
the sandbox's truth (same keys, same sums, no duplicates), and after each kill every day it
holds is whole."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from typing import Any

import pytest
from pg_server import pg_server, pg_url  # noqa: F401
from sync_helpers import NOW, day, read_rows, sandbox_config, summary, truth_summary, video_truth

from douyin_async.sandbox import ManualClock
from douyin_async.sync.state import day_range

WORKER = os.path.join(os.path.dirname(__file__), "sync_worker.py")
SINCE, UNTIL = "2025-10-03", "2025-10-07"


def _run_until(into: str, kill_after: int | None) -> bool:
    """Run the worker; kill it with SIGKILL after its `kill_after`-th line. True when it
    finished."""
    worker = subprocess.Popen([sys.executable, WORKER, into, SINCE, UNTIL],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert worker.stdout is not None
    for lines, line in enumerate(worker.stdout, 1):
        if kill_after is not None and lines >= kill_after and line != "finished\n":
            worker.send_signal(signal.SIGKILL)
            break
    _, err = worker.communicate(timeout=120)
    if worker.returncode == -signal.SIGKILL:
        return False
    assert worker.returncode == 0, err
    return True


@pytest.mark.parametrize("kind", ["sqlite", "parquet", "postgres"])
def test_killed_syncs_then_a_rerun_equal_the_truth(kind: str, tmp_path: Any,
                                                   request: pytest.FixtureRequest) -> None:
    into = {"sqlite": f"sqlite:///{tmp_path}/s.sqlite", "parquet": f"file://{tmp_path}/ds/",
            }.get(kind) or str(request.getfixturevalue("pg_url"))
    days = day_range(day(SINCE), day(UNTIL))
    truth = truth_summary(video_truth(sandbox_config(ManualClock(NOW)), days, NOW))
    rng = random.Random(20261207)
    for _ in range(3):
        if _run_until(into, rng.randint(2, 40)):
            break
        try:
            held = summary(read_rows(into, "task_videos"))
        except Exception:  # nothing created yet
            continue
        assert all(held[d] == truth[d] for d in held)  # whole days only, never a part
    assert _run_until(into, None)
    assert summary(read_rows(into, "task_videos")) == truth

"""The shared quota under load, counted by the sandbox (its own thread, 10 QPS cap per token).

Four worker processes on one token, then twenty apps in one process. Figures are printed
(``pytest -s``) and written up in ``docs/shared-quota.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from redis_server import LoadResult, RedisServer

pytest_plugins = ["redis_server"]  # the redis_server fixture

pytestmark = pytest.mark.slow


def report(title: str, result: LoadResult) -> None:
    print(f"\n{title}: aggregate {result.aggregate_rate:.2f} QPS, "
          f"rolling max {result.rolling_max}, tightest {result.tightest:.4f} s, "
          f"rejected {result.rejected}, errors {result.errors}")


def test_four_processes_share_one_token(redis_server: RedisServer) -> None:
    from redis_server import run_load

    result = run_load(redis_server.url, processes=4, apps=1, tasks=20, seconds=10)
    report("4 processes x 20 tasks, one token", result)
    (app,) = result.apps
    assert result.errors == 0, result.workers
    assert app.rejected == 0
    assert app.rolling_max <= 10
    assert app.tightest >= 1.0
    assert app.rate >= 9.0
    assert app.ok >= 9 * 10
    assert all(w["requests"] > 0 for w in result.workers)  # every process got its share


def test_twenty_apps_in_one_process(redis_server: RedisServer) -> None:
    from redis_server import run_load

    result = run_load(redis_server.url, processes=1, apps=20, tasks=10, seconds=8)
    report("20 apps x 10 tasks, one process, one session", result)
    assert result.errors == 0, result.workers
    assert result.rejected == 0
    for app in result.apps:
        assert app.rolling_max <= 10, app
        assert app.rate >= 9.0, app
    # 20 x 9.6 = 192 QPS at the default margin; leave room for a loaded machine.
    assert result.aggregate_rate >= 150

"""Shared fixtures.

aioresponses 0.7.9 builds ``ClientResponse`` objects without the ``stream_writer`` argument that
aiohttp 3.14 made required. The ``mock_api`` fixture patches in a subclass that supplies a
stand-in writer, so aioresponses keeps working for unit tests; everything that must cross a
real socket uses a real aiohttp server on 127.0.0.1 instead.
"""

from __future__ import annotations

import gc
import logging
import signal
from collections.abc import Iterator
from typing import Any

import aiohttp
import aioresponses.core
import pytest
from aioresponses import aioresponses as AioResponses

# A runner started in the background of a shell script ignores SIGINT, and so would every
# command a test starts (a parent's ignore is kept across exec, on purpose). The tests that
# press Ctrl-C need it delivered: a handler of ours is reset to the default in the child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


# The sandbox fixtures (douyin_sandbox, ...) are opt-in, as for any project using the library.
pytest_plugins = ["douyin_async.testing"]


class _NoWriter:
    output_size = 0


class _CompatResponse(aiohttp.ClientResponse):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _NoWriter())
        super().__init__(*args, **kwargs)


@pytest.fixture
def mock_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[AioResponses]:
    """aioresponses, made to work with aiohttp >= 3.14."""
    monkeypatch.setattr(aioresponses.core, "ClientResponse", _CompatResponse)
    with AioResponses() as mocked:
        yield mocked


class _AsyncioErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(autouse=True)
def no_asyncio_errors() -> Iterator[None]:
    """Fail a test whose event loop reported errors: tasks destroyed while pending, unclosed
    sessions or connectors, exceptions never retrieved."""
    handler = _AsyncioErrors()
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    try:
        yield
        gc.collect()
    finally:
        logger.removeHandler(handler)
    assert not handler.messages, handler.messages


#: Tests that count requests per rolling second, or rates, on the server side. They run after
#: the others (`pytest -m timing`), four at a time, those that start processes of their own
#: alone (`-m alone`): beside a busy machine, its load would be measured instead of the client.
TIMING_MODULES = frozenset({
    "test_cli_apps", "test_client_sandbox", "test_client_socket", "test_redis_limiter",
    "test_redis_scale", "test_renewal_cap", "test_sandbox_qps", "test_readme", "test_queue",
    "test_redis_turn",
})
#: Timing modules whose tests start several processes of their own: they run one at a time.
ALONE_MODULES = frozenset({"test_queue", "test_redis_scale"})
#: Documentation pages whose examples print such counts.
TIMING_PAGES = ("index.md", "rate-limiting.md", "scaling.md", "testing.md", "web-apps.md",
                "batch-pulls.md", "shared-quota.md")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__ if item.module is not None else ""
        page = item.callspec.params.get("page") if hasattr(item, "callspec") else None
        if module in TIMING_MODULES or (page is not None and str(page).endswith(TIMING_PAGES)):
            item.add_marker(pytest.mark.timing)
        if module in ALONE_MODULES:
            item.add_marker(pytest.mark.alone)

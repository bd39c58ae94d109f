"""pytest plugin: a running sandbox per test.

Fixtures:

``douyin_sandbox``
    A started :class:`~douyin_async.sandbox.Sandbox` on the test's event loop (function
    scope), closed after the test::

        async def test_pull(douyin_sandbox):
            url, token = douyin_sandbox.url, douyin_sandbox.token

``douyin_sandbox_config``
    The :class:`~douyin_async.sandbox.SandboxConfig` that ``douyin_sandbox`` uses. It is built
    from, in increasing priority: the defaults, the ``douyin_sandbox`` marker, and an indirect
    parametrisation of ``douyin_sandbox``. Override the fixture for anything else.

Setting the configuration:

- marker keywords are ``SandboxConfig`` fields; a positional ``SandboxConfig`` is the base::

      @pytest.mark.douyin_sandbox(latency=0.05, qps=10)
      @pytest.mark.douyin_sandbox(SandboxConfig(seed=7), key_style="snake")

- indirect parametrisation takes a dict of fields or a ``SandboxConfig``::

      @pytest.mark.parametrize("douyin_sandbox", [{"qps": 5}, {"qps": None}], indirect=True)

The fixture is async: it needs pytest-asyncio (1.x).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
import pytest_asyncio

from .config import SandboxConfig
from .server import Sandbox

MARKER = "douyin_sandbox"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``douyin_sandbox`` marker."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(config=None, **fields): SandboxConfig for the douyin_sandbox fixture",
    )


def _apply(base: SandboxConfig, spec: Any) -> SandboxConfig:
    if isinstance(spec, SandboxConfig):
        return spec
    if isinstance(spec, dict):
        return attrs.evolve(base, **spec)
    raise TypeError(f"douyin_sandbox takes a SandboxConfig or a dict of fields, got {spec!r}")


@pytest.fixture
def douyin_sandbox_config(request: pytest.FixtureRequest) -> SandboxConfig:
    """The sandbox configuration of this test (defaults, marker, then parametrisation)."""
    config = SandboxConfig()
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        if marker.args:
            config = _apply(config, marker.args[0])
        if marker.kwargs:
            config = _apply(config, dict(marker.kwargs))
    return config


@pytest_asyncio.fixture
async def douyin_sandbox(
    request: pytest.FixtureRequest, douyin_sandbox_config: SandboxConfig
) -> AsyncIterator[Sandbox]:
    """A running sandbox for one test."""
    config = douyin_sandbox_config
    param = getattr(request, "param", None)
    if param is not None:
        config = _apply(config, param)
    async with Sandbox(config) as sandbox:
        yield sandbox

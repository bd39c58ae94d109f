"""pytest fixtures for code that talks to the platform: a running sandbox per test.

Opt in from a `conftest.py` or a test module with
`pytest_plugins = ["douyin_async.testing"]`, or on the command line with
`pytest -p douyin_async.testing`. Installing douyin-async never loads it by itself.

Fixtures:

- `douyin_sandbox`: a started [`Sandbox`][douyin_async.sandbox.Sandbox] on the test's event
  loop (function scope), closed after the test. It is async, so it needs pytest-asyncio
  (1.x); without it the fixture fails the test saying what to install.
- `douyin_threaded_sandbox`: a started
  [`ThreadedSandbox`][douyin_async.sandbox.ThreadedSandbox] (its own event loop in a thread),
  for synchronous tests; needs nothing beyond pytest.
- `douyin_sandbox_config`: the [`SandboxConfig`][douyin_async.sandbox.SandboxConfig] both
  use, built from, in increasing priority, the defaults, the `douyin_sandbox` marker (keywords
  are `SandboxConfig` fields; a positional `SandboxConfig` is the base) and an indirect
  parametrisation of the sandbox fixture (a dict of fields or a `SandboxConfig`). Override
  the fixture for anything else.

```python
async def test_pull(douyin_sandbox):
    url, token = douyin_sandbox.url, douyin_sandbox.token

@pytest.mark.douyin_sandbox(SandboxConfig(seed=7), realism="realistic", qps=10)
async def test_realistic(douyin_sandbox): ...

@pytest.mark.parametrize("douyin_sandbox", [{"qps": 5}, {"qps": None}], indirect=True)
async def test_caps(douyin_sandbox): ...
```
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import attrs
import pytest

if TYPE_CHECKING:
    from .sandbox.config import SandboxConfig
    from .sandbox.server import Sandbox, ThreadedSandbox

MARKER = "douyin_sandbox"
#: What the async fixture says when pytest-asyncio is missing.
NEEDS_PYTEST_ASYNCIO = (
    "the douyin_sandbox fixture is async and needs pytest-asyncio 1.x: "
    "pip install 'pytest-asyncio>=1.0' (and set asyncio_mode = \"auto\" or mark the test "
    "with @pytest.mark.asyncio); synchronous tests can use douyin_threaded_sandbox instead"
)
HAVE_PYTEST_ASYNCIO = importlib.util.find_spec("pytest_asyncio") is not None


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``douyin_sandbox`` marker."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(config=None, **fields): SandboxConfig for the douyin_sandbox fixtures",
    )


def _apply(base: SandboxConfig, spec: Any) -> SandboxConfig:
    from .sandbox.config import SandboxConfig

    if isinstance(spec, SandboxConfig):
        return spec
    if isinstance(spec, dict):
        return attrs.evolve(base, **spec)
    raise TypeError(f"douyin_sandbox takes a SandboxConfig or a dict of fields, got {spec!r}")


def _configured(request: pytest.FixtureRequest, config: SandboxConfig) -> SandboxConfig:
    param = getattr(request, "param", None)
    return config if param is None else _apply(config, param)


@pytest.fixture
def douyin_sandbox_config(request: pytest.FixtureRequest) -> SandboxConfig:
    """The sandbox configuration of this test (defaults, marker, then parametrisation)."""
    from .sandbox.config import SandboxConfig

    config = SandboxConfig()
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        if marker.args:
            config = _apply(config, marker.args[0])
        if marker.kwargs:
            config = _apply(config, dict(marker.kwargs))
    return config


@pytest.fixture
def douyin_threaded_sandbox(
    request: pytest.FixtureRequest, douyin_sandbox_config: SandboxConfig
) -> Iterator[ThreadedSandbox]:
    """A running sandbox on its own thread, for one synchronous test."""
    from .sandbox.server import ThreadedSandbox

    with ThreadedSandbox(_configured(request, douyin_sandbox_config)) as sandbox:
        yield sandbox


if HAVE_PYTEST_ASYNCIO:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def douyin_sandbox(
        request: pytest.FixtureRequest, douyin_sandbox_config: SandboxConfig
    ) -> AsyncIterator[Sandbox]:
        """A running sandbox for one test, on the test's event loop."""
        from .sandbox.server import Sandbox

        async with Sandbox(_configured(request, douyin_sandbox_config)) as sandbox:
            yield sandbox

else:

    @pytest.fixture
    def douyin_sandbox(douyin_sandbox_config: SandboxConfig) -> Sandbox:
        """A running sandbox for one test (this one only says that pytest-asyncio is
        missing)."""
        pytest.fail(NEEDS_PYTEST_ASYNCIO, pytrace=False)


__all__ = ["NEEDS_PYTEST_ASYNCIO", "douyin_sandbox", "douyin_sandbox_config",
           "douyin_threaded_sandbox"]

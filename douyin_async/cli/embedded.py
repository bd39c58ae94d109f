"""The embedded sandbox of ``pull --sandbox``: a server on its own thread and event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .exits import USAGE, CliError
from .spec import SandboxOptions


def sandbox_config(options: SandboxOptions) -> Any:
    """The :class:`~douyin_async.sandbox.config.SandboxConfig` for the ``--sandbox-*`` options."""
    from ..sandbox.config import SandboxConfig

    settings: dict[str, Any] = {}
    if options.seed is not None:
        settings["seed"] = options.seed
    if options.latency is not None:
        settings["latency"] = options.latency
    if options.qps is not None:
        settings["qps"] = options.qps
    if isinstance(options.fault_rate, dict):
        settings.update({f"{kind}_rate": rate for kind, rate in options.fault_rate.items()})
    try:
        config = SandboxConfig(**settings)
        if isinstance(options.fault_rate, float):
            config = config.with_fault_rate(options.fault_rate)
    except ValueError as exc:
        raise CliError(f"--sandbox options: {exc}", USAGE) from None
    return config


@asynccontextmanager
async def embedded_sandbox(options: SandboxOptions) -> AsyncIterator[tuple[str, str]]:
    """Run a sandbox on a background thread; yield its URL and token."""
    from ..sandbox.server import ThreadedSandbox

    async with ThreadedSandbox(sandbox_config(options)) as sandbox:
        yield sandbox.url, sandbox.token


__all__ = ["embedded_sandbox", "sandbox_config"]

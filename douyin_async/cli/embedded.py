"""The embedded sandbox of ``pull --sandbox``: a server on its own thread and event loop.

With ``--apps``, the sandbox also accepts every app's credentials: its fixed token, or its
client key and secret on the token endpoints. The sandbox caps each token on its own, so
every app has its own quota there too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from ..auth import TokenProvider
from .apps import AppSpec
from .exits import USAGE, CliError
from .spec import PullSpec, SandboxOptions


def sandbox_config(options: SandboxOptions, apps: Sequence[AppSpec] = ()) -> Any:
    """The [`SandboxConfig`][douyin_async.sandbox.config.SandboxConfig] for the
    ``--sandbox-*`` options, accepting the credentials of ``apps`` as well as its own."""
    from ..sandbox.config import STATIC_TOKEN, SandboxConfig
    from ..sandbox.config import RegisteredClient as Registered

    settings: dict[str, Any] = {}
    if options.seed is not None:
        settings["seed"] = options.seed
    if options.latency is not None:
        settings["latency"] = options.latency
    if options.qps is not None:
        settings["qps"] = options.qps
    if options.realistic:
        settings["realism"] = "realistic"
    if apps:
        settings["static_tokens"] = frozenset(
            {STATIC_TOKEN, *(a.access_token for a in apps if a.access_token)})
        default = SandboxConfig().clients
        known = {client.client_key for client in default}
        settings["clients"] = (*default, *(
            Registered(a.client_key, a.client_secret) for a in apps
            if a.client_key and a.client_secret and a.client_key not in known))
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
async def embedded_sandbox(options: SandboxOptions, apps: Sequence[AppSpec] = ()
                           ) -> AsyncIterator[tuple[str, str]]:
    """Run a sandbox on a background thread; yield its URL and token."""
    from ..sandbox.server import ThreadedSandbox

    async with ThreadedSandbox(sandbox_config(options, apps)) as sandbox:
        yield sandbox.url, sandbox.token


@asynccontextmanager
async def pull_server(spec: PullSpec, token: str | TokenProvider | None
                      ) -> AsyncIterator[tuple[str, str | TokenProvider | None]]:
    """The URL and credentials a pull asks: an embedded sandbox (``--sandbox``, accepting
    every app's credentials), or the server of ``--base-url`` with ``token``."""
    if spec.sandbox is not None:
        async with embedded_sandbox(spec.sandbox, spec.apps or ()) as (url, sandbox_token):
            yield url, sandbox_token
        return
    assert spec.base_url is not None
    yield spec.base_url, token


__all__ = ["embedded_sandbox", "pull_server", "sandbox_config"]

"""A faithful fake of the Douyin Open Platform endpoints this project calls.

Serves ``query_task_video_daily_data`` (err_no envelope), ``talent/media/list`` (data/extra
envelope), the two bill-link endpoints with the file host their links point at, and the token
endpoints, from lazily generated, seeded data, with the documented limits and error codes, a
strict per-token QPS cap, latency and injectable faults, and a request log. It is an
independent server: nothing here imports the client.

Ways in: [`Sandbox`][douyin_async.sandbox.Sandbox] (``async with``),
[`ThreadedSandbox`][douyin_async.sandbox.ThreadedSandbox] (own loop in a thread),
[`SubprocessSandbox`][douyin_async.sandbox.SubprocessSandbox], ``python -m
douyin_async.sandbox``, and the opt-in pytest plugin ``douyin_async.testing``. Ground truth
for tests is [`SandboxData`][douyin_async.sandbox.SandboxData] (``sandbox.data``).

The names below are imported on first use, so importing one submodule (the command-line
options, say) does not load the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import (
        AGENCY_BILL_LINK_PATH,
        AUTH_TOKEN_PATH,
        BILL_LINK_PATH,
        CLIENT_TOKEN_PATH,
        STABLE_CLIENT_TOKEN_PATH,
        TALENT_MEDIA_PATH,
        TASK_VIDEO_PATH,
        SandboxServer,
        build_app,
    )
    from .bills import HEADERS as BILL_HEADERS
    from .bills import BillFile
    from .config import (
        CLIENT_KEY,
        CLIENT_SECRET,
        FAULT_KINDS,
        FAULT_MIX,
        STATIC_TOKEN,
        ManualClock,
        RegisteredClient,
        SandboxConfig,
    )
    from .data import SandboxData
    from .requestlog import LogEntry, RequestLog, fingerprint, max_in_window
    from .server import Sandbox, SubprocessSandbox, ThreadedSandbox
    from .talentmedia import BOTH, LIVE, VIDEO

_WHERE = {
    "AGENCY_BILL_LINK_PATH": "app", "AUTH_TOKEN_PATH": "app", "BILL_LINK_PATH": "app",
    "CLIENT_TOKEN_PATH": "app", "STABLE_CLIENT_TOKEN_PATH": "app", "TALENT_MEDIA_PATH": "app",
    "TASK_VIDEO_PATH": "app", "SandboxServer": "app", "build_app": "app",
    "BillFile": "bills",
    "CLIENT_KEY": "config", "CLIENT_SECRET": "config", "FAULT_KINDS": "config",
    "FAULT_MIX": "config", "STATIC_TOKEN": "config", "ManualClock": "config",
    "RegisteredClient": "config", "SandboxConfig": "config",
    "SandboxData": "data",
    "LogEntry": "requestlog", "RequestLog": "requestlog", "fingerprint": "requestlog",
    "max_in_window": "requestlog",
    "Sandbox": "server", "SubprocessSandbox": "server", "ThreadedSandbox": "server",
    "BOTH": "talentmedia", "LIVE": "talentmedia", "VIDEO": "talentmedia",
}
_RENAMED = {"BILL_HEADERS": ("bills", "HEADERS")}

__all__ = [
    "AGENCY_BILL_LINK_PATH",
    "AUTH_TOKEN_PATH",
    "BILL_HEADERS",
    "BILL_LINK_PATH",
    "BOTH",
    "BillFile",
    "CLIENT_KEY",
    "CLIENT_SECRET",
    "CLIENT_TOKEN_PATH",
    "FAULT_KINDS",
    "FAULT_MIX",
    "LIVE",
    "LogEntry",
    "ManualClock",
    "RegisteredClient",
    "RequestLog",
    "STABLE_CLIENT_TOKEN_PATH",
    "STATIC_TOKEN",
    "Sandbox",
    "SandboxConfig",
    "SandboxData",
    "SandboxServer",
    "SubprocessSandbox",
    "TALENT_MEDIA_PATH",
    "TASK_VIDEO_PATH",
    "ThreadedSandbox",
    "VIDEO",
    "build_app",
    "fingerprint",
    "max_in_window",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        module, attribute = _WHERE[name], name
    elif name in _RENAMED:
        module, attribute = _RENAMED[name]
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

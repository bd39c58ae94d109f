"""A faithful fake of the Douyin Open Platform endpoints this project calls.

Serves ``query_task_video_daily_data`` (err_no envelope), ``talent/media/list`` (data/extra
envelope) and the token endpoints from lazily generated, seeded data, with the documented
limits and error codes, a strict per-token QPS cap, latency and injectable faults, and a
request log. It is an independent server: nothing here imports the client.

Ways in: :class:`Sandbox` (``async with``), :class:`ThreadedSandbox` (own loop in a thread),
:class:`SubprocessSandbox`, ``python -m douyin_async.sandbox``, and the pytest fixture
``douyin_sandbox`` (:mod:`douyin_async.sandbox.plugin`). Ground truth for tests is
:class:`SandboxData` (``sandbox.data``).
"""

from .app import (
    AUTH_TOKEN_PATH,
    CLIENT_TOKEN_PATH,
    STABLE_CLIENT_TOKEN_PATH,
    TALENT_MEDIA_PATH,
    TASK_VIDEO_PATH,
    SandboxServer,
    build_app,
)
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

__all__ = [
    "AUTH_TOKEN_PATH",
    "BOTH",
    "CLIENT_KEY",
    "CLIENT_SECRET",
    "CLIENT_TOKEN_PATH",
    "FAULT_KINDS",
    "FAULT_MIX",
    "LIVE",
    "STABLE_CLIENT_TOKEN_PATH",
    "STATIC_TOKEN",
    "TALENT_MEDIA_PATH",
    "TASK_VIDEO_PATH",
    "VIDEO",
    "LogEntry",
    "ManualClock",
    "RegisteredClient",
    "RequestLog",
    "Sandbox",
    "SandboxConfig",
    "SandboxData",
    "SandboxServer",
    "SubprocessSandbox",
    "ThreadedSandbox",
    "build_app",
    "fingerprint",
    "max_in_window",
]

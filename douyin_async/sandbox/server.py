"""Running a sandbox: on the caller's event loop, on a background thread, or in a subprocess.

All three expose ``url`` (``http://127.0.0.1:PORT``), ``token`` (the static access token),
``config`` and ``data`` (ground truth); the first two also expose ``log`` (the request log).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import subprocess
import sys
import threading
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, overload

from aiohttp import web

from .app import SandboxServer
from .bills import BillKind
from .config import STATIC_TOKEN, SandboxConfig
from .data import SandboxData, parse_billing_date
from .options import args_from_config
from .requestlog import RequestLog

T = TypeVar("T")

#: How long closing waits for answers still being written before cutting them off.
SHUTDOWN_TIMEOUT = 1.0


def _static_token(config: SandboxConfig) -> str:
    if STATIC_TOKEN in config.static_tokens:
        return STATIC_TOKEN
    return min(config.static_tokens, default="")


class _Settings:
    """What every way of running a sandbox is made of: its settings, its address and its
    ground truth."""

    def __init__(
        self, config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or SandboxConfig()
        self.host = host
        self.port = port
        self.data = SandboxData(self.config)


class Sandbox(_Settings):
    """A sandbox server on the running event loop.

    ``async with Sandbox(SandboxConfig(latency=0.05)) as sb:`` then post to ``sb.url + path``
    with header ``access-token: sb.token``. ``port=0`` picks a free port.
    """

    def __init__(
        self, config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(config, host=host, port=port)
        self.log = RequestLog()
        self.server = SandboxServer(self.config, self.data, self.log)
        self._runner: web.AppRunner | None = None

    @property
    def token(self) -> str:
        """The static access token (``sandbox-token`` by default)."""
        return _static_token(self.config)

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        if self._runner is None:
            raise RuntimeError("the sandbox is not running")
        return f"http://{self.host}:{self.port}"

    def bill_link(self, bill_date: str | dt.date, *, agency: bool = False,
                  kind: BillKind = "video") -> str:
        """A signed link to one bill file, as the bill-link endpoints answer it now."""
        date = parse_billing_date(bill_date) if isinstance(bill_date, str) else bill_date
        return self.server.files.link(self.url, date, agency, kind, self.config.clock())

    async def start(self) -> None:
        """Bind and start serving."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already running")
        runner = web.AppRunner(self.server.application(), access_log=None,
                               handler_cancellation=True, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        address = runner.addresses[0]
        self.port = int(address[1])
        self._runner = runner

    async def close(self) -> None:
        """Stop serving and close every connection."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class _OfSandbox(Generic[T]):
    """A read-only attribute of the running [`Sandbox`][douyin_async.sandbox.Sandbox] that a
    wrapper holds as `_sandbox`."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type) -> _OfSandbox[T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> T: ...

    def __get__(self, instance: object | None, owner: type) -> Any:
        if instance is None:
            return self
        return getattr(instance._sandbox, self._name)  # type: ignore[attr-defined]


class _RunsAside:
    """`with` and `async with` for a sandbox that runs beside the caller (a thread or a
    process): `start()` and `close()` block, so the async forms run them in a thread."""

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.close)


class ThreadedSandbox(_RunsAside):
    """A sandbox on its own event loop in a background thread.

    Usable as ``with ThreadedSandbox(config) as sb:`` or ``async with ...``; the server never
    competes with the client for its event loop. ``log`` and ``data`` may be read from any
    thread.
    """

    def __init__(
        self, config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._sandbox = Sandbox(config, host=host, port=port)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    config: _OfSandbox[SandboxConfig] = _OfSandbox("The configuration.")
    data: _OfSandbox[SandboxData] = _OfSandbox("Ground truth.")
    log: _OfSandbox[RequestLog] = _OfSandbox("The request log.")
    token: _OfSandbox[str] = _OfSandbox("The static access token.")
    url: _OfSandbox[str] = _OfSandbox("The base URL, without a trailing slash.")

    def bill_link(self, bill_date: str | dt.date, *, agency: bool = False,
                  kind: BillKind = "video") -> str:
        """A signed link to one bill file, as the bill-link endpoints answer it now."""
        return self._sandbox.bill_link(bill_date, agency=agency, kind=kind)

    def start(self) -> None:
        """Start the thread and wait until the server listens."""
        if self._thread is not None:
            raise RuntimeError("the sandbox is already running")
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="douyin-sandbox", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self._sandbox.start()
        except BaseException as exc:  # handed to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._sandbox.close()

    def close(self) -> None:
        """Stop the server and join the thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        thread.join()



_URL = re.compile(r"http://[\w.\-\[\]:]+")


class SubprocessSandbox(_Settings, _RunsAside):
    """A sandbox in a child Python process (``python -m douyin_async.sandbox``).

    Only the settings the command line can express reach the child (see
    `douyin_async.sandbox.options.args_from_config`); clocks, clients and token sets are the
    defaults there. ``data`` is computed locally from the same settings; there is no ``log``.
    """

    def __init__(
        self, config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(config, host=host, port=port)
        self._process: subprocess.Popen[str] | None = None
        self._url = ""

    @property
    def token(self) -> str:
        """The static access token."""
        return _static_token(self.config)

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        if not self._url:
            raise RuntimeError("the sandbox is not running")
        return self._url

    def start(self) -> None:
        """Start the child and wait for it to print its URL."""
        cmd = [sys.executable, "-m", "douyin_async.sandbox", "--host", self.host,
               "--port", str(self.port), *args_from_config(self.config)]
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        self._process = process
        assert process.stdout is not None
        line = process.stdout.readline()
        match = _URL.search(line)
        if match is None:
            self.close()
            raise RuntimeError(f"the sandbox process did not start: {line!r}")
        self._url = match.group(0)

    def close(self) -> None:
        """Stop the child."""
        process, self._process = self._process, None
        self._url = ""
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


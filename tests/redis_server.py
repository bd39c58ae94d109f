"""A real redis-server for tests, and the shared-quota load harness.

``RedisServer`` starts the ``redis-server`` binary on PATH on a free port of 127.0.0.1, with
no persistence (``--save '' --appendonly no``), and stops it afterwards. The fixtures
``redis_server`` (one per test module) and ``redis_client`` (a fresh, flushed client per test)
fail, rather than skip, when the binary is missing.

``run_load()`` drives the sandbox through
:class:`~douyin_async.pacing.redis_limiter.RedisRateLimiter`
from worker processes (this file, run as a script) and reads the figures off the sandbox's
request log. Used by ``tests/test_redis_scale.py`` and ``benchmarks/bench_redis.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import attrs

try:  # the fixtures need pytest; the harness and the worker do not
    import pytest
    import pytest_asyncio
except ImportError:  # pragma: no cover
    pytest = None  # type: ignore[assignment]

WORKER_READY = "ready"


# -- redis-server ----------------------------------------------------------------------------


def redis_server_binary() -> str | None:
    """The ``redis-server`` on PATH, or None."""
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A throwaway redis-server process on 127.0.0.1 (``with RedisServer() as server:``)."""

    def __init__(self, binary: str | None = None) -> None:
        found = binary or redis_server_binary()
        if found is None:
            raise RuntimeError(
                "redis-server is not on PATH; install it (Debian: apt-get install redis-server)"
            )
        self.binary = found
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start on a free port and wait until it answers PING (a few tries on port races)."""
        self._dir = tempfile.TemporaryDirectory(prefix="redis-test-")
        for _ in range(5):
            port = _free_port()
            process = subprocess.Popen(
                [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
                 "--dir", self._dir.name],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and process.poll() is None:
                if _ping(port):
                    self._process, self.port = process, port
                    return
                time.sleep(0.02)
            process.kill()
            process.wait()
        self._dir.cleanup()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


if pytest is not None:

    @pytest.fixture(scope="module")
    def redis_server() -> Iterator[RedisServer]:
        """A redis-server for the test module; fails the test when the binary is missing."""
        if redis_server_binary() is None:
            pytest.fail("redis-server is not on PATH: these tests need a real Redis "
                        "(Debian: apt-get install redis-server)")
        with RedisServer() as server:
            yield server

    @pytest_asyncio.fixture
    async def redis_client(redis_server: RedisServer) -> AsyncIterator[Any]:
        """A client of ``redis_server`` (RESP2) on an empty database, closed after the test."""
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(redis_server.url, protocol=2)
        await client.flushall()
        await client.script_flush()
        try:
            yield client
        finally:
            await client.aclose()


# -- the load harness ------------------------------------------------------------------------


@attrs.frozen
class AppFigures:
    """What the sandbox saw of one app (one token).

    ``tightest`` is the shortest time that held ``rate + 1`` arrivals: the cap holds while it
    is at least one second; perfect pacing gives ``rate * spacing`` (1.04 s at a 4% margin).
    """

    app: str
    requests: int
    ok: int
    rejected: int
    rolling_max: int
    rate: float
    tightest: float


@attrs.frozen
class LoadResult:
    """Figures of one load run. ``aggregate_rate`` is the sum of the apps' rates."""

    processes: int
    tasks: int
    seconds: float
    margin: float
    apps: tuple[AppFigures, ...]
    aggregate_rate: float
    workers: tuple[dict[str, Any], ...]

    @property
    def rejected(self) -> int:
        """Rate-limit answers over all apps."""
        return sum(a.rejected for a in self.apps)

    @property
    def rolling_max(self) -> int:
        """The highest per-app rolling-second count."""
        return max(a.rolling_max for a in self.apps)

    @property
    def tightest(self) -> float:
        """The shortest time any app needed for ``rate + 1`` arrivals (>= 1 s: cap held)."""
        return min(a.tightest for a in self.apps)

    @property
    def errors(self) -> int:
        """Errors the workers raised to their callers."""
        return sum(int(w.get("errors", 0)) for w in self.workers)


def app_tokens(count: int) -> dict[str, str]:
    """App name -> sandbox token, for ``count`` apps."""
    return {f"app-{i}": f"token-app-{i}" for i in range(count)}


def run_load(
    redis_url: str,
    *,
    processes: int,
    apps: int,
    tasks: int,
    seconds: float,
    rate: float = 10.0,
    margin: float | None = None,
    key_prefix: str = "load",
) -> LoadResult:
    """Run ``processes`` worker processes, each pulling for every one of ``apps`` apps with
    ``tasks`` tasks per app for ``seconds``, against a sandbox (own thread, default cap of
    ``rate`` per token) and one Redis. Every app has its own token and limiter key."""
    from douyin_async.pacing.limiter import DEFAULT_MARGIN
    from douyin_async.sandbox import SandboxConfig, ThreadedSandbox, fingerprint, max_in_window

    tokens = app_tokens(apps)
    margin = DEFAULT_MARGIN if margin is None else margin
    prefix = f"{key_prefix}-{os.getpid()}-{time.monotonic_ns()}"
    config = SandboxConfig(static_tokens=frozenset(tokens.values()), qps=int(rate))
    with ThreadedSandbox(config) as sandbox:
        cmd = [sys.executable, os.path.abspath(__file__), "--base-url", sandbox.url,
               "--redis-url", redis_url, "--apps", str(apps), "--tasks", str(tasks),
               "--seconds", str(seconds), "--rate", str(rate), "--margin", str(margin),
               "--prefix", prefix]
        workers = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True) for _ in range(processes)]
        try:
            for worker in workers:  # all imported and connected: start together
                assert worker.stdout is not None
                line = worker.stdout.readline().strip()
                if line != WORKER_READY:
                    raise RuntimeError(f"a load worker failed to start: {line!r}")
            for worker in workers:
                assert worker.stdin is not None
                worker.stdin.write("go\n")
                worker.stdin.flush()
            reports = []
            for worker in workers:
                out, _ = worker.communicate(timeout=seconds + 120)
                if worker.returncode != 0:
                    raise RuntimeError(f"a load worker failed (exit {worker.returncode})")
                reports.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
        entries = sandbox.log.entries()
    figures = []
    for app, token in tokens.items():
        mine = [e for e in entries if e.token == fingerprint(token)]
        arrivals = sorted(e.monotonic for e in mine)
        ok = sorted(e.monotonic for e in mine if e.outcome == "ok")
        span = ok[-1] - ok[0] if len(ok) > 1 else 0.0
        figures.append(AppFigures(
            app=app, requests=len(mine), ok=len(ok),
            rejected=sum(1 for e in mine if e.outcome == "28003018"),
            rolling_max=max_in_window(arrivals, 1.0),
            rate=(len(ok) - 1) / span if span else 0.0,
            tightest=_tightest(arrivals, int(rate) + 1),
        ))
    return LoadResult(
        processes=processes, tasks=tasks, seconds=seconds, margin=margin,
        apps=tuple(figures), workers=tuple(reports),
        aggregate_rate=sum(a.rate for a in figures),
    )


def _tightest(times: list[float], count: int) -> float:
    """The shortest span of ``count`` consecutive ``times`` (ascending); inf when too few."""
    spans = [times[i + count - 1] - times[i] for i in range(len(times) - count + 1)]
    return min(spans, default=float("inf"))


async def _worker(args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp

    from douyin_async import DouyinClient, DouyinError, TalentMediaQuery
    from douyin_async.pacing.redis_limiter import RedisRateLimiter, connect

    tokens = app_tokens(args.apps)
    errors: list[str] = []
    redis = connect(args.redis_url)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        clients = []
        for app, token in tokens.items():
            limiter = RedisRateLimiter(redis, app=app, rate=args.rate, margin=args.margin,
                                       prefix=args.prefix)
            clients.append(DouyinClient(token, base_url=args.base_url, session=session,
                                        limiter=limiter, max_concurrency=args.tasks))
        await redis.ping()
        print(WORKER_READY, flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + args.seconds

        async def pull(client: DouyinClient, index: int) -> None:
            query = TalentMediaQuery(plan_id=1000 + index, douyin_id=f"talent-{index}",
                                     page_size=10)
            while loop.time() < deadline:
                try:
                    await client.fetch_page(query, 1)
                except DouyinError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    return

        await asyncio.gather(*(pull(c, i) for c in clients for i in range(args.tasks)))
        for client in clients:
            await client.close()
    await redis.aclose()
    return {
        "pid": os.getpid(),
        "requests": sum(c.stats.requests for c in clients),
        "rate_limited": sum(c.stats.rate_limited for c in clients),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Worker entry point (run by ``run_load``): prints ``ready``, waits for a line on stdin,
    pulls until the time is up and prints one JSON line of counts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--apps", type=int, default=1)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--margin", type=float, default=0.04)
    parser.add_argument("--prefix", default="load")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_worker(args))), flush=True)


if __name__ == "__main__":
    main()

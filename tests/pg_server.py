"""A real PostgreSQL server for tests: Debian's binaries, a temporary cluster, a free port.

``PostgresServer`` runs ``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` in a
temporary directory, listening on 127.0.0.1 only (and its own socket directory), and stops and
removes it afterwards. PostgreSQL refuses to run as root: run as root, the cluster belongs to
an unprivileged system user (``douyin_pg``, created with ``useradd --system`` when missing) and
the commands run as that user. The ``pg_server`` fixture (one per test session) fails, rather
than skips, when PostgreSQL is not installed; ``pg_url`` gives each test a fresh database.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

USER = "douyin_pg"


def pg_bin_dir() -> str | None:
    """The newest ``/usr/lib/postgresql/*/bin`` holding initdb and pg_ctl, or None."""
    found = [d for d in glob.glob("/usr/lib/postgresql/*/bin")
             if os.path.exists(os.path.join(d, "initdb"))
             and os.path.exists(os.path.join(d, "pg_ctl"))]
    return max(found, key=lambda d: int(d.split("/")[-2].split(".")[0])) if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_user() -> tuple[Callable[[], None] | None, int | None]:
    """How to drop to the unprivileged user when run as root (and its uid)."""
    if os.geteuid() != 0:
        return None, None
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        USER], check=True, capture_output=True)
        entry = pwd.getpwnam(USER)
    uid, gid = entry.pw_uid, entry.pw_gid

    def demote() -> None:
        os.setgid(gid)
        os.setuid(uid)

    return demote, uid


class PostgresServer:
    """A throwaway PostgreSQL cluster (``with PostgresServer() as server:``)."""

    def __init__(self, *, durable: bool = False) -> None:
        found = pg_bin_dir()
        #: Whether commits are flushed to disk (off in tests: the server is thrown away).
        self.durable = durable
        if found is None:
            raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/"
                               "initdb); install it (Debian: apt-get install postgresql)")
        self.bin = found
        self.port = 0
        self._dir: str | None = None
        self._demote, self._uid = _as_user()

    @property
    def url(self) -> str:
        """The URL of the ``postgres`` database."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        """The URL of database ``name``."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str) -> None:
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        done = subprocess.run([os.path.join(self.bin, args[0]), *args[1:]], env=env,
                              preexec_fn=self._demote, capture_output=True, text=True,
                              cwd=self._dir)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        """initdb, then start on a free port and wait until it accepts connections."""
        self._dir = tempfile.mkdtemp(prefix="pg-test-")
        if self._uid is not None:
            os.chown(self._dir, self._uid, -1)
        data = os.path.join(self._dir, "data")
        self._run("initdb", "-D", data, "-U", USER, "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        self.port = _free_port()
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                   f"-c unix_socket_directories={self._dir} -c max_connections=60")
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", data, "-o", options, "-l", os.path.join(self._dir, "log"),
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        if self._dir is None:
            return
        data = os.path.join(self._dir, "data")
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            self._run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None

    def create_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.database_url(name)

    def __enter__(self) -> PostgresServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session; fails when PostgreSQL is not installed."""
    if pg_bin_dir() is None:
        pytest.fail("PostgreSQL is not installed: these tests need a real server "
                    "(Debian: apt-get install postgresql)")
    with PostgresServer() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """A fresh database of the session's server."""
    return pg_server.create_database()


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of one query."""
    import psycopg

    with psycopg.connect(url) as conn:
        return list(conn.execute(sql, params).fetchall())

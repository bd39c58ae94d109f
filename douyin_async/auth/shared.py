"""One token shared by many clients or processes, through a store you choose.

Every process that renews its own client token costs a call of a quota of 500 per five
minutes, and on the non-stable endpoint each new token kills the one before it five minutes
later. [`SharedToken`][douyin_async.auth.SharedToken] keeps the token in a
[`TokenStore`][douyin_async.auth.TokenStore] instead: a process that needs a token reads the store
first and only asks the platform when the stored one is missing, near expiry, or refused; with a
store that can lock, the others wait and read the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..errors import DouyinError, InvalidParameterError
from .base import DEFAULT_MARGIN, RenewalRetry, RenewingProvider, Token, TokenSource, log


@runtime_checkable
class TokenStore(Protocol):
    """Where a shared token lives (a file, a Redis key, a database row)."""

    async def load(self) -> tuple[str, float] | None:
        """The stored ``(token, expires_at)`` (unix seconds), or None when there is none."""

    async def save(self, token: str, expires_at: float) -> None:
        """Store a token and the unix time at which it expires."""


@runtime_checkable
class LockingTokenStore(TokenStore, Protocol):
    """A store that can also exclude every other holder of it, in any process:
    [`SharedToken`][douyin_async.auth.SharedToken] holds the lock while it reads, renews and
    saves, so that one process renews and the others wait."""

    def lock(self) -> AbstractAsyncContextManager[object]:
        """An async context manager held by one holder of the store at a time."""


class SharedToken(RenewingProvider):
    """A provider whose token lives in a [`TokenStore`][douyin_async.auth.TokenStore],
    fetched through `inner` (a `TokenSource` such as
    [`ClientCredentials`][douyin_async.auth.ClientCredentials]) only when the stored one is
    missing, near expiry or refused here. Across processes a
    [`LockingTokenStore`][douyin_async.auth.LockingTokenStore] makes the others wait for the
    first; renewal is that of every
    [`RenewingProvider`][douyin_async.auth.RenewingProvider].
    """

    def __init__(
        self,
        store: TokenStore,
        inner: TokenSource,
        *,
        margin: float = DEFAULT_MARGIN,
        clock: Callable[[], float] = time.time,
        retry: RenewalRetry | None = None,
    ) -> None:
        super().__init__(margin=margin, clock=clock, retry=retry)
        if not isinstance(store, TokenStore):
            raise InvalidParameterError("store must have async load() and save()")
        if not isinstance(inner, TokenSource):
            raise InvalidParameterError("inner must have an async fetch() returning a Token")
        self.store = store
        self.inner = inner
        self._rejected: deque[str] = deque(maxlen=8)
        #: Tokens this provider fetched through ``inner`` (the rest came from the store).
        self.fetches = 0

    async def invalidate(self, token: str) -> None:
        """Never take ``token`` from the store again, and drop it if it is the cached one."""
        if token not in self._rejected:
            self._rejected.append(token)
        await super().invalidate(token)

    async def _obtain(self) -> Token:
        if not isinstance(self.store, LockingTokenStore):
            return await self._load_or_fetch()
        async with self.store.lock():
            return await self._load_or_fetch()

    async def _load_or_fetch(self) -> Token:
        stored = await self.store.load()
        if stored is not None and self._usable(*stored):
            log.debug("SharedToken: token taken from the store")
            return Token(stored[0], float(stored[1]))
        token = await self.inner.fetch()
        self.fetches += 1
        await self.store.save(token.value, token.expires_at)
        return token

    def _usable(self, value: str, expires_at: float) -> bool:
        """A stored token is taken when the server has not refused it here and it has more
        than ``margin`` to live, or (short-lived tokens) it is valid and outlives the one
        held: another process renewed it."""
        if value in self._rejected:
            return False
        now = self._clock()
        if now < expires_at - self.margin:
            return True
        held = self._held
        if held is not None and (value == held.token.value
                                 or expires_at <= held.token.expires_at):
            return False
        return now < expires_at

    def __repr__(self) -> str:
        return f"SharedToken(store={self.store!r}, inner={self.inner!r}, margin={self.margin:g})"


class MemoryTokenStore:
    """A store in memory, for clients of one process (and tests)."""

    def __init__(self) -> None:
        self._value: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    async def load(self) -> tuple[str, float] | None:
        """The stored token, if any."""
        return self._value

    async def save(self, token: str, expires_at: float) -> None:
        """Replace the stored token."""
        self._value = (token, float(expires_at))

    def lock(self) -> AbstractAsyncContextManager[object]:
        """An asyncio lock (one process only)."""
        return self._lock

    def __repr__(self) -> str:
        return "MemoryTokenStore()"


class FileTokenStore:
    """A store in a JSON file (written atomically, mode 0600) shared by the processes of one
    machine, locked with `fcntl.flock` on `<path>.lock`, polled every `poll` seconds so that
    waiting never blocks the event loop; after `lock_timeout` seconds a
    [`DouyinError`][douyin_async.errors.DouyinError] is raised.
    """

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 30.0,
                 poll: float = 0.05) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = float(lock_timeout)
        self.poll = float(poll)

    async def load(self) -> tuple[str, float] | None:
        """The stored token, or None when the file is missing or not a stored token."""
        try:
            obj = json.loads(self.path.read_bytes())
            token, expires_at = obj["access_token"], float(obj["expires_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return (token, expires_at) if isinstance(token, str) and token else None

    async def save(self, token: str, expires_at: float) -> None:
        """Write the token atomically, readable by the owner only."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"access_token": token, "expires_at": expires_at}).encode()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @contextlib.asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        """Hold an exclusive ``flock`` on the lock file (waits by polling)."""
        import fcntl

        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise DouyinError(f"token store {str(self.lock_path)!r} still locked "
                                          f"after {self.lock_timeout:g} s") from None
                    await asyncio.sleep(self.poll)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

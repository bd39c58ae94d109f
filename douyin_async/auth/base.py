"""The provider protocol, the fixed token, and the renewal machinery shared by renewing providers.

The client asks its provider for a token before every request and tells it when the server
called a token invalid or expired, so a renewing provider can fetch a new one. Tokens are
secrets: no provider shows them in its ``repr``, and no message or log line holds them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import attrs

from ..errors import InvalidParameterError

log = logging.getLogger("douyin_async.auth")

#: Default seconds before expiry at which a token is renewed.
DEFAULT_MARGIN = 300.0


@runtime_checkable
class TokenProvider(Protocol):
    """Supplies access tokens to a client.

    A provider may also have a boolean ``renewable`` attribute (default true): when the server
    calls a token invalid or expired, the client invalidates it and retries the request once,
    but only if the provider can renew.
    """

    async def get(self) -> str:
        """A currently valid access token."""

    async def invalidate(self, token: str) -> None:
        """The server refused ``token`` as invalid or expired; do not hand it out again."""


def current_token(provider: TokenProvider) -> str | None:
    """The provider's freshest valid token without any I/O, if it can tell (its optional
    `current()` method), else None. The client asks right before sending, after waiting for
    a request slot, so a token renewed meanwhile is the one sent."""
    current = getattr(provider, "current", None)
    return current() if callable(current) else None


@attrs.frozen
class Token:
    """An access token and the unix time at which it expires. Its ``repr`` hides the value."""

    value: str = attrs.field(repr=False)
    expires_at: float


@runtime_checkable
class TokenSource(Protocol):
    """Fetches a brand-new token from the platform on every call (no caching).

    :class:`~douyin_async.auth.ClientCredentials` and
    :class:`~douyin_async.auth.AuthorizerTokens` are sources as well as providers; a
    :class:`~douyin_async.auth.SharedToken` wraps a source.
    """

    async def fetch(self) -> Token:
        """Request a new token from the platform."""


class StaticToken:
    """A fixed token (e.g. pasted from the console). It cannot be renewed."""

    renewable = False

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token.strip():
            raise InvalidParameterError("access_token must be a non-empty string")
        self._token = token

    async def get(self) -> str:
        """The token."""
        return self._token

    def current(self) -> str:
        """The token (no I/O)."""
        return self._token

    async def invalidate(self, token: str) -> None:
        """Nothing to do: a fixed token cannot be renewed."""

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"


#: A token handed out again by the server is not asked for again within this many seconds.
MIN_RENEWAL_INTERVAL = 1.0


def renew_at(expires_at: float, now: float, margin: float, *, same: bool = False) -> float:
    """When a token obtained at ``now`` should be renewed.

    Normally ``margin`` seconds before it expires. A token that already had less than that to
    live when it came is renewed after half of its remaining life, unless the server answered
    the very token it had handed out before (``same``: the stable endpoint keeps its token to
    the end); such a token is used until it expires, and not asked for again within
    :data:`MIN_RENEWAL_INTERVAL`.
    """
    if expires_at - margin > now:
        return expires_at - margin
    if same:
        return max(expires_at, now + MIN_RENEWAL_INTERVAL)
    return now + (expires_at - now) / 2


def check_margin(margin: float) -> float:
    """Validate a renewal margin (seconds, non-negative)."""
    if isinstance(margin, bool) or not isinstance(margin, int | float) or margin < 0:
        raise InvalidParameterError("margin must be a non-negative number of seconds")
    return float(margin)


@attrs.define
class _Held:
    token: Token
    renew_at: float


class RenewingProvider:
    """Base of providers that obtain tokens themselves: caching, renewal ahead of expiry and
    single flight.

    A cached token is handed out until its renewal time (see :func:`renew_at`). Then, or after
    :meth:`invalidate`, the next callers share one *flight*: a single call of :meth:`_obtain`,
    however many callers wait for it. If the flight fails, every caller waiting for it gets
    the same exception; the next call starts a new flight. Nothing is retried inside.

    Subclasses implement :meth:`_obtain`.
    """

    renewable = True

    def __init__(self, *, margin: float = DEFAULT_MARGIN,
                 clock: Callable[[], float] = time.time) -> None:
        self.margin = check_margin(margin)
        self._clock = clock
        self._held: _Held | None = None
        self._last = ""  # the value of the last token obtained
        self._flight: asyncio.Task[Token] | None = None
        #: Tokens obtained so far by this provider (successful flights).
        self.renewals = 0

    async def _obtain(self) -> Token:
        """Obtain a new token (one flight)."""
        raise NotImplementedError

    async def get(self) -> str:
        """A valid token: the cached one, or one obtained now (shared with concurrent callers)."""
        held = self._held
        if held is not None and self._clock() < held.renew_at:
            return held.token.value
        return (await self._join()).value

    def current(self) -> str | None:
        """The held token if it has not expired yet (no I/O), else None."""
        held = self._held
        if held is not None and self._clock() < held.token.expires_at:
            return held.token.value
        return None

    async def invalidate(self, token: str) -> None:
        """Drop ``token`` if it is still the cached one (another caller may have renewed)."""
        held = self._held
        if held is not None and held.token.value == token:
            log.debug("%s: token refused by the server, dropped", type(self).__name__)
            self._held = None

    async def _join(self) -> Token:
        loop = asyncio.get_running_loop()
        flight = self._flight
        if flight is None or flight.done() or flight.get_loop() is not loop:
            flight = loop.create_task(self._fly())
            flight.add_done_callback(self._landed)
            self._flight = flight
        return await asyncio.shield(flight)

    async def _fly(self) -> Token:
        token = await self._obtain()
        now = self._clock()
        same, self._last = token.value == self._last, token.value
        self._held = _Held(token, renew_at(token.expires_at, now, self.margin, same=same))
        self.renewals += 1
        log.debug("%s: new token, expires in %.0f s", type(self).__name__,
                  token.expires_at - now)
        return token

    def _landed(self, flight: asyncio.Task[Token]) -> None:
        if self._flight is flight:
            self._flight = None
        if not flight.cancelled() and flight.exception() is not None:
            log.debug("%s: token request failed: %s", type(self).__name__,
                      type(flight.exception()).__name__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(margin={self.margin:g})"
